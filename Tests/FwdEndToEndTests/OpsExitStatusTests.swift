import Foundation
import FwdLab
import Glibc
import Testing

/// Each failure class ends fwd with its own exit status, with nothing on stdout and one error
/// line on stderr. The classes that fail after `-f` has forked run both ways, because then the
/// foreground process must pass on the background process's status.
@Suite struct OpsExitStatusTests {
  /// Checks a failed run: `status`, no stdout, and an error line containing `message`.
  static func expectFailure(
    _ outcome: Ops.Outcome, status: Int32, message: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(outcome.status == status, "stderr: \(outcome.errors)", sourceLocation: sourceLocation)
    #expect(outcome.output.isEmpty, "stdout: \(outcome.output)", sourceLocation: sourceLocation)
    let errors = outcome.errorLines.filter { !$0.hasPrefix("fwd: debug") }
    #expect(errors.last?.contains(message) == true, "stderr: \(outcome.errors)", sourceLocation: sourceLocation)
    #expect(errors.allSatisfy { $0.hasPrefix("fwd: ") }, "stderr: \(outcome.errors)", sourceLocation: sourceLocation)
  }

  static func backgroundFlag(_ background: Bool) -> [String] { background ? ["-f"] : [] }

  @Test func usageExits64() throws {
    let outcome = try Ops.run(["-L", "nonsense", "build"])
    Self.expectFailure(outcome, status: 64, message: "invalid -L forward 'nonsense'")
  }

  @Test func badConfigLineExits78() throws {
    let directory = try Ops.makeDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let config = directory + "/ssh_config"
    try "Host build\n  HostName 127.0.0.1\n  NoSuchKeyword yes\n".write(
      toFile: config, atomically: true, encoding: .utf8)
    let outcome = try Ops.run(["-F", config, "-L", "0:127.0.0.1:9", "build"])
    Self.expectFailure(outcome, status: 78, message: "\(config):3: unknown keyword 'NoSuchKeyword'")
  }

  /// Sends SIGINT to fwd's process group while the first hop does not reply to the handshake.
  /// Nothing was set up, so the status is 130, also from the foreground process of -f.
  @Test(arguments: [false, true])
  func signalBeforeReadyExits130(background: Bool) throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    lab["build"].freeze()
    defer { lab["build"].thaw() }
    let fwd = try FwdProcess(
      arguments: Self.backgroundFlag(background) + Ops.echoForward(lab, through: ["build"]),
      unsetEnvironment: ["SSH_AUTH_SOCK"], newSession: true)
    // The handshake is under way once fwd has connected; freezing sshd leaves it hanging.
    usleep(700_000)
    kill(-fwd.pid, SIGINT)
    let status = try fwd.waitForExit(timeout: .seconds(10))
    #expect(status == 130, "stderr: \(fwd.standardError)")
    #expect(fwd.standardOutput.isEmpty, "stdout: \(fwd.standardOutput)")
    #expect(fwd.standardError.contains("stopped by a signal"), "stderr: \(fwd.standardError)")
  }

  @Test(arguments: [false, true])
  func unreachableHopExits69(background: Bool) throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let closedPort = try freePort()
    let outcome = try Ops.run(
      Self.backgroundFlag(background) + ["-o", "Port=\(closedPort)"]
        + Ops.echoForward(lab, through: ["build"]))
    Self.expectFailure(outcome, status: 69, message: "connect failed: Connection refused")
  }

  @Test(arguments: [false, true])
  func hostKeyExits76(background: Bool) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let missing = try lab.writeKnownHosts(named: "known_hosts_missing", entries: ["sign": .omitted])
    let missingConfig = try lab.writeSSHConfig(named: "ssh_config_missing", knownHostsPath: missing)
    let unknown = try Ops.run(
      Self.backgroundFlag(background)
        + Ops.echoForward(lab, through: ["build", "sign"], config: missingConfig))
    Self.expectFailure(unknown, status: 76, message: "host key not found")

    let wrong = try lab.writeKnownHosts(named: "known_hosts_wrong", entries: ["build": .wrongKeys])
    let wrongConfig = try lab.writeSSHConfig(named: "ssh_config_wrong", knownHostsPath: wrong)
    let changed = try Ops.run(
      Self.backgroundFlag(background)
        + Ops.echoForward(lab, through: ["build", "sign"], config: wrongConfig))
    #expect(changed.status == 76, "stderr: \(changed.errors)")
    #expect(changed.output.isEmpty)
  }

  @Test(arguments: [false, true])
  func rejectedKeyExits77(background: Bool) throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let stranger = try lab.makeUserKey(named: "stranger")
    let config = try lab.writeSSHConfig(
      named: "ssh_config_stranger", identityFile: stranger.privateKeyPath)
    let outcome = try Ops.run(
      Self.backgroundFlag(background) + Ops.echoForward(lab, through: ["build"], config: config))
    Self.expectFailure(outcome, status: 77, message: "authentication failed")
  }

  @Test(arguments: [false, true])
  func portTakenExits73(background: Bool) throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    // The echo service already listens on its port, so fwd cannot bind it.
    let outcome = try Ops.run(
      Self.backgroundFlag(background)
        + ["-F", lab.sshConfigPath, "-L", "\(lab.echoPort):127.0.0.1:\(lab.echoPort)", "build"])
    Self.expectFailure(outcome, status: 73, message: "Address already in use")
  }

  @Test func lostFirstHopExits75() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try Ops.start(["--no-rebuild"] + Ops.echoForward(lab, through: ["build", "sign"]))
    let ready = try fwd.waitForReadyLines()
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")

    lab["build"].kill()
    #expect(try fwd.waitForExit(timeout: .seconds(20)) == 75, "stderr: \(fwd.standardError)")
    let lost = "fwd: build: connection to build (127.0.0.1:\(lab["build"].port)) lost: "
    #expect(fwd.standardError.contains(lost), "stderr: \(fwd.standardError)")
    #expect(fwd.standardOutput == ready[0].description + "\n")
  }

  @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
  func signalStopExits0(signal: Int32) throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let fwd = try Ops.start(Ops.echoForward(lab, through: ["build"]))
    let ready = try fwd.waitForReadyLines()
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")

    fwd.send(signal: signal)
    #expect(try fwd.waitForExit() == 0, "stderr: \(fwd.standardError)")
    let name = [SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGHUP: "SIGHUP"][signal] ?? "?"
    #expect(fwd.standardError.hasSuffix("fwd: stopping on \(name)\n"), "stderr: \(fwd.standardError)")
  }
}
