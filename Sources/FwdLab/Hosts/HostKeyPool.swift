import Foundation
import Glibc

/// Host key sets generated once per test process and copied into each lab.
///
/// An RSA key takes about half a second to generate, and many tests each start a lab. Slot `i`
/// contains the ed25519, ecdsa and rsa keys of the lab's `i`-th host, so hosts within a lab have
/// distinct keys while labs share them. `strangerSlot` holds keys no host uses.
final class HostKeyPool: @unchecked Sendable {
  static let shared = HostKeyPool()
  static let strangerSlot = 1000

  private let lock = NSLock()
  private var directory: String?
  private var slots: [Int: [LabKey]] = [:]

  /// Returns the key sets of `indices`, generating the missing ones in parallel.
  func keySets(_ indices: [Int]) throws -> [[LabKey]] {
    lock.lock()
    defer { lock.unlock() }
    let base = try poolDirectory()
    let missing = indices.filter { slots[$0] == nil }
    let jobs = missing.flatMap { slot in LabKeyType.allCases.map { (slot, $0) } }
    var results = [Result<LabKey, Error>?](repeating: nil, count: jobs.count)
    let resultsLock = NSLock()
    DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
      let (slot, type) = jobs[index]
      let result = Result {
        try KeyGenerator.generate(
          type: type, path: "\(base)/slot\(slot)_\(type.rawValue)", comment: "fwd-lab host key")
      }
      resultsLock.withLock { results[index] = result }
    }
    for (index, (slot, _)) in jobs.enumerated() {
      slots[slot, default: []].append(try results[index]!.get())
    }
    return indices.map { slots[$0]! }
  }

  private func poolDirectory() throws -> String {
    if let directory { return directory }
    let created = try makeTemporaryDirectory(prefix: "fwd-lab-hostkeys")
    CleanupRegistry.shared.register(directory: created)
    directory = created
    return created
  }
}

/// Creates a new private directory under /tmp named `prefix`.XXXXXX.
func makeTemporaryDirectory(prefix: String) throws -> String {
  var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
  guard let created = mkdtemp(&template) else {
    throw LabError("create directory /tmp/\(prefix).XXXXXX: mkdtemp failed: \(errnoText())")
  }
  return String(cString: created)
}
