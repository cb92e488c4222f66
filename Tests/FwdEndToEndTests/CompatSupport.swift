import Foundation
import FwdLab
import Glibc

/// Helpers shared by the Compat* tests, which compare the built fwd with OpenSSH's ssh.
enum Compat {
  static let ssh = "/usr/bin/ssh"
  static let sshKeygen = "/usr/bin/ssh-keygen"

  static var sshIsInstalled: Bool { access(ssh, X_OK) == 0 }
  static var fwdIsBuilt: Bool { access(FwdBinary.path, X_OK) == 0 }

  /// The result of a program run to its end.
  struct Output {
    var status: Int32
    var standardOutput: String
    var standardError: String
  }

  /// Runs `binary` (fwd when nil) with `arguments` until it exits. Stdin is /dev/null, so ssh
  /// never waits for input.
  static func run(
    _ arguments: [String], binary: String? = nil, environment: [String: String] = [:],
    timeout: Duration = .seconds(30)
  ) throws -> Output {
    let process = try FwdProcess(
      arguments: arguments, environment: environment, unsetEnvironment: ["SSH_AUTH_SOCK"],
      binary: binary ?? FwdBinary.path)
    let status = try process.waitForExit(timeout: timeout)
    return Output(
      status: status, standardOutput: process.standardOutput,
      standardError: process.standardError)
  }

  /// Returns the non-empty lines of `text`.
  static func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
  }
}

/// A temporary directory removed on release. `@DIR@` in text given to `write` and `expand`
/// stands for its path, so configs can name files inside it.
final class CompatDirectory {
  let path: String

  init(_ prefix: String = "fwd-compat") throws {
    var template = Array((NSTemporaryDirectory() + "\(prefix).XXXXXX").utf8CString)
    guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) })
    else {
      throw LabError("create temporary directory: mkdtemp failed: \(errno)")
    }
    path = String(cString: created)
  }

  deinit {
    if ProcessInfo.processInfo.environment["FWD_LAB_KEEP"] != "1" {
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  func expand(_ text: String) -> String {
    text.replacingOccurrences(of: "@DIR@", with: path)
  }

  /// Writes `text` (with `@DIR@` expanded) to `name` inside the directory and returns the path.
  @discardableResult
  func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
    let file = path + "/" + name
    let directory = (file as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try expand(text).write(toFile: file, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    return file
  }

  func read(_ name: String) -> String {
    (try? String(contentsOfFile: path + "/" + name, encoding: .utf8)) ?? ""
  }
}
