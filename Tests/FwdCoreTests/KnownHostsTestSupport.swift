import Foundation
import FwdBindings

@testable import FwdCore

/// Builds and runs what the known_hosts tests need: key blobs, temp directories, ssh-keygen.
enum KnownHostsTestSupport {
  /// Returns a well-formed blob of the given type: the type string and one 32-byte field
  /// filled from `seed`. It is no valid key, which the known_hosts code never checks.
  static func blob(_ type: String, seed: UInt8) -> [UInt8] {
    sshString(Array(type.utf8)) + sshString([UInt8](repeating: seed, count: 32))
  }

  static func sshString(_ bytes: [UInt8]) -> [UInt8] {
    let length = UInt32(bytes.count)
    let prefix = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) }
    return prefix + bytes
  }

  static func base64(_ blob: [UInt8]) -> String { Data(blob).base64EncodedString() }

  /// Returns a known_hosts line `hosts type base64`.
  static func line(_ hosts: String, _ blob: [UInt8], marker: String? = nil) -> String {
    let type = HostKeyBlob.keyTypeName(blob)!
    let prefix = marker.map { $0 + " " } ?? ""
    return "\(prefix)\(hosts) \(type) \(base64(blob))"
  }

  /// Creates a fresh directory under the system temp directory.
  static func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "fwd-knownhosts-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: false, encoding: .utf8)
  }

  /// Runs a program and returns its standard output; throws when it exits non-zero.
  @discardableResult
  static func run(_ program: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw ProgramFailed(command: ([program] + arguments).joined(separator: " "))
    }
    return String(decoding: data, as: UTF8.self)
  }

  struct ProgramFailed: Error, CustomStringConvertible {
    let command: String
    var description: String { "command failed: \(command)" }
  }

  /// Generates a key pair with ssh-keygen in `directory` and returns the public key's type
  /// name, blob and the path of the `.pub` file.
  static func generateKey(type: String, in directory: String, name: String) throws -> (
    type: String, blob: [UInt8], publicKeyPath: String
  ) {
    let path = directory + "/" + name
    try run("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-C", name, "-f", path])
    let publicText = try String(contentsOfFile: path + ".pub", encoding: .utf8)
    let fields = publicText.split(separator: " ")
    let blob = [UInt8](Data(base64Encoded: String(fields[1]))!)
    return (String(fields[0]), blob, path + ".pub")
  }
}
