import Foundation
import FwdLab
import Glibc
import Testing

/// Helpers for the tests of fwd as scripts use it: exit statuses, stdout, logs, -f, pidfile.
enum Ops {
  /// What a finished fwd left behind for the calling script.
  struct Outcome {
    let status: Int32
    let output: String
    let errors: String

    /// stderr split into lines.
    var errorLines: [Substring] { errors.split(separator: "\n") }
  }

  /// Runs fwd to completion with `arguments` and returns its status and output. SSH_AUTH_SOCK
  /// is removed so that only the lab's key files are offered.
  static func run(_ arguments: [String], timeout: Duration = .seconds(60)) throws -> Outcome {
    let process = try FwdProcess(arguments: arguments, unsetEnvironment: ["SSH_AUTH_SOCK"])
    let status = try process.waitForExit(timeout: timeout)
    return Outcome(status: status, output: process.standardOutput, errors: process.standardError)
  }

  /// Starts fwd in the foreground with `arguments`.
  static func start(_ arguments: [String], standardError: Int32? = nil) throws -> FwdProcess {
    try FwdProcess(
      arguments: arguments, unsetEnvironment: ["SSH_AUTH_SOCK"], standardError: standardError)
  }

  /// Arguments that forward a free local port to the lab's echo service through `hops`, the
  /// last one being the destination.
  static func echoForward(_ lab: Lab, through hops: [String], config: String? = nil) -> [String] {
    var arguments = ["-F", config ?? lab.sshConfigPath]
    if hops.count > 1 { arguments += ["-J", hops.dropLast().joined(separator: ",")] }
    return arguments + ["-L", "0:127.0.0.1:\(lab.echoPort)", hops[hops.count - 1]]
  }

  /// Sends one line through `port` and returns the line that comes back.
  static func echoLine(port: Int, _ text: String = "ping") throws -> String? {
    let connection = try LabConnection(port: port)
    defer { connection.close() }
    try connection.write(text + "\n")
    return try connection.readLine()
  }

  /// Creates a directory under /tmp for one test's files; the caller removes it.
  static func makeDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "fwd-ops-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func read(_ path: String) -> String? {
    try? String(contentsOfFile: path, encoding: .utf8)
  }

  /// Waits until `condition` holds, polling every 20 ms; returns false after `timeout`.
  static func wait(timeout: Duration = .seconds(10), until condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
      if ContinuousClock.now >= deadline { return false }
      usleep(20_000)
    }
    return true
  }

  /// Returns whether `pid` runs (a zombie counts as ended).
  static func isAlive(_ pid: pid_t) -> Bool { ProcessTree.isAlive(pid) }
}
