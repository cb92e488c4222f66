import Foundation
import FwdLab
import Testing

/// Lab helpers for the Compat* tests: configs with only the lines a test asks for, and fwd
/// runs that wait for their ready line.
extension Lab {
  /// Writes an ssh_config in the lab directory with a block per host that sets only HostName,
  /// Port, User and `GlobalKnownHostsFile /dev/null`, then `common` and `extra[name]`. A test
  /// can so leave StrictHostKeyChecking, IdentityFile and UserKnownHostsFile unset on a hop,
  /// which `writeSSHConfig` always sets.
  func writeBareConfig(
    named fileName: String, common: [String] = [], extra: [String: [String]] = [:],
    globalLines: [String] = []
  ) throws -> String {
    var lines = globalLines
    for host in hosts {
      lines += [
        "Host \(host.name)",
        "  HostName \(host.address)",
        "  Port \(host.port)",
        "  User \(userName)",
        "  GlobalKnownHostsFile /dev/null",
      ]
      lines += (common + (extra[host.name] ?? [])).map { "  " + $0 }
    }
    let path = directory + "/" + fileName
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: path, atomically: false, encoding: .utf8)
    return path
  }

  /// The public key lines (`type base64`, no comment) of host `name`.
  func hostKeyLines(_ name: String) -> [String] {
    host(name).hostKeys.map(\.publicKeyWithoutComment)
  }

  /// Writes `text` to `fileName` in the lab directory and returns the path.
  func writeLabFile(_ fileName: String, _ text: String) throws -> String {
    let path = directory + "/" + fileName
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    return path
  }
}

/// One fwd run with a single `-L` to the lab's echo service.
struct CompatRun {
  let process: FwdProcess

  /// Starts fwd with `arguments` followed by `-L 0:127.0.0.1:ECHO` and the destination.
  init(_ lab: Lab, _ arguments: [String], destination: String, verbose: Bool = true) throws {
    let forward = ["-L", "0:127.0.0.1:\(lab.echoPort)"]
    process = try FwdProcess(
      arguments: (verbose ? ["-v"] : []) + arguments + forward + [destination],
      unsetEnvironment: ["SSH_AUTH_SOCK"])
  }

  /// Waits for the ready line, sends bytes through the forward, and stops fwd with SIGTERM.
  /// Returns fwd's stderr.
  @discardableResult
  func expectEcho(bytes: Int = 4096) throws -> String {
    let ready = try process.waitForReadyLines(count: 1, timeout: .seconds(30))
    #expect(try LabClient.echo(port: ready[0].listenPort, bytes: bytes) == bytes)
    process.terminate()
    #expect(try process.waitForExit() == 0)
    return process.standardError
  }

  /// Waits for fwd to exit and returns its status and stderr.
  func expectFailure() throws -> (status: Int32, errors: String) {
    let status = try process.waitForExit(timeout: .seconds(30))
    return (status, process.standardError)
  }
}
