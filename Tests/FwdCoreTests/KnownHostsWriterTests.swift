import Foundation
import Testing

@testable import FwdCore

@Suite struct KnownHostsWriterTests {
  typealias Support = KnownHostsTestSupport
  let ed25519 = Support.blob("ssh-ed25519", seed: 1)

  @Test func createsDirectoryAndFileWithModes() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/home/.ssh/known_hosts"
    let added = try KnownHostsWriter.add(
      name: "[127.0.0.1]:2202", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: false,
      to: path)
    #expect(added)

    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text == "[127.0.0.1]:2202 ssh-ed25519 \(Support.base64(ed25519))\n")
    let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]
    let directoryMode = try FileManager.default.attributesOfItem(
      atPath: directory + "/home/.ssh")[.posixPermissions]
    #expect((fileMode as? Int) == 0o600)
    #expect((directoryMode as? Int) == 0o700)
  }

  @Test func appendsAfterLineWithoutNewline() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/known_hosts"
    let first = Support.line("other", Support.blob("ssh-ed25519", seed: 5))
    try Support.write(first, to: path)
    try KnownHostsWriter.add(
      name: "build", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: false, to: path)
    let hosts = KnownHosts(files: [path])
    #expect(hosts.skippedLines.isEmpty)
    #expect(hosts.entries.count == 2)
    #expect(
      hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
        == .trusted(KnownHostsLocation(file: path, line: 2)))
  }

  @Test func hashedLineIsFoundAndHidesName() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/known_hosts"
    try KnownHostsWriter.add(
      name: "[Sign.Lab]:2202", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: true, to: path)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.hasPrefix("|1|"))
    #expect(!text.lowercased().contains("sign.lab"))
    let hosts = KnownHosts(files: [path])
    let result = hosts.verify(
      host: "sign.lab", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(KnownHostsLocation(file: path, line: 1)))
  }

  @Test func sameEntryIsNotAddedTwice() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/known_hosts"
    let first = try KnownHostsWriter.add(
      name: "build", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: true, to: path)
    let second = try KnownHostsWriter.add(
      name: "build", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: false, to: path)
    #expect(first)
    #expect(!second)
    #expect(KnownHosts(files: [path]).entries.count == 1)
  }

  @Test func unwritableDirectoryThrows() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let blocker = directory + "/file"
    try Support.write("x", to: blocker)
    #expect(throws: KnownHostsWriteError.self) {
      try KnownHostsWriter.add(
        name: "build", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: false,
        to: blocker + "/known_hosts")
    }
  }

  @Test func twentyConcurrentWritersLoseNothing() async throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/.ssh/known_hosts"
    let writers = 20
    let failures = try await runConcurrently(count: writers) { index in
      let blob = Support.blob("ssh-ed25519", seed: UInt8(index))
      try KnownHostsWriter.add(
        name: "[127.0.0.1]:\(3000 + index)", keyType: "ssh-ed25519", keyBlob: blob,
        hashName: index % 2 == 0, to: path)
    }
    #expect(failures.isEmpty)

    let hosts = KnownHosts(files: [path])
    #expect(hosts.skippedLines.isEmpty)
    #expect(hosts.entries.count == writers)
    for index in 0..<writers {
      let blob = Support.blob("ssh-ed25519", seed: UInt8(index))
      let result = hosts.verify(
        host: "127.0.0.1", port: 3000 + index, keyType: "ssh-ed25519", keyBlob: blob)
      guard case .trusted = result else {
        Issue.record("writer \(index): expected trusted, got \(result)")
        continue
      }
    }
  }

  @Test func twentyConcurrentWritersOfOneKeyAddOneLine() async throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/known_hosts"
    let failures = try await runConcurrently(count: 20) { _ in
      try KnownHostsWriter.add(
        name: "[127.0.0.1]:2202", keyType: "ssh-ed25519", keyBlob: ed25519, hashName: false,
        to: path)
    }
    #expect(failures.isEmpty)
    #expect(KnownHosts(files: [path]).entries.count == 1)
  }

  /// Runs `body` on `count` threads that start together; returns the errors they threw.
  private func runConcurrently(count: Int, _ body: @escaping @Sendable (Int) throws -> Void)
    async throws -> [String]
  {
    let start = DispatchSemaphore(value: 0)
    let failures = FailureList()
    let group = DispatchGroup()
    for index in 0..<count {
      group.enter()
      Thread {
        start.wait()
        do { try body(index) } catch { failures.append("\(index): \(error)") }
        group.leave()
      }.start()
    }
    for _ in 0..<count { start.signal() }
    await withCheckedContinuation { continuation in
      group.notify(queue: .global()) { continuation.resume() }
    }
    return failures.all
  }
}

private final class FailureList: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [String] = []

  func append(_ item: String) {
    lock.lock()
    items.append(item)
    lock.unlock()
  }

  var all: [String] {
    lock.lock()
    defer { lock.unlock() }
    return items
  }
}
