import Foundation
import FwdLab
import Testing

/// Host key checks of the inner hop, sign, whose SSH session runs through build.
@Suite struct ChainHostKeyTests {
  static func forwardArguments(_ lab: Lab) -> [String] {
    ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"]
  }

  /// Echoes a few bytes through the forward to the echo service.
  static func expectDataFlows(_ lab: Lab, _ fwd: RunningFwd) throws {
    let echo = fwd.forward(to: lab.echoPort)
    let echoed = try LabClient.echo(
      host: echo.listenAddress, port: echo.listenPort, bytes: 10_000, timeout: .seconds(60))
    #expect(echoed == 10_000)
  }

  @Test func unknownKeyOfSignIsRejected() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeKnownHosts(named: "known_hosts_no_sign", entries: ["sign": .omitted])
    let config = try lab.writeSSHConfig(named: "ssh_config_no_sign", knownHostsPath: knownHosts)
    let before = try String(contentsOfFile: knownHosts, encoding: .utf8)

    let run = try ChainHarness.runToExit(lab, config: config, Self.forwardArguments(lab))
    #expect(run.status == 76)
    #expect(run.standardOutput.isEmpty)
    let line = try #require(run.errorLines.last, "no stderr")
    #expect(line.contains("sign"), "\(line)")
    // libssh2 picks the key type when known_hosts has none for the host, so any of sign's
    // keys may be the one shown.
    let fingerprints = lab["sign"].hostKeys.map(ChainHarness.fingerprint(of:))
    #expect(
      fingerprints.contains { line.contains($0) }, "\(line) shows none of \(fingerprints)")
    #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == before)
  }

  @Test func changedKeyOfSignIsRejected() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeKnownHosts(named: "known_hosts_wrong", entries: ["sign": .wrongKeys])
    let config = try lab.writeSSHConfig(named: "ssh_config_wrong", knownHostsPath: knownHosts)
    let signLines = try ChainHarness.knownHostsLineNumbers(
      knownHosts, hostName: lab["sign"].knownHostsName)
    #expect(signLines.count == 3)

    let run = try ChainHarness.runToExit(lab, config: config, Self.forwardArguments(lab))
    #expect(run.status == 76)
    #expect(run.standardOutput.isEmpty)
    let line = try #require(run.errorLines.last, "no stderr")
    #expect(line.contains("sign"), "\(line)")
    #expect(
      signLines.contains { line.contains("\(knownHosts):\($0)") },
      "\(line) names none of sign's lines \(signLines) in \(knownHosts)")
  }

  @Test func onlyEd25519EntriesAreAccepted() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeKnownHosts(
      named: "known_hosts_ed25519", defaultEntry: .only(.ed25519))
    let config = try lab.writeSSHConfig(named: "ssh_config_ed25519", knownHostsPath: knownHosts)
    let lines = try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.allSatisfy { $0.contains(" ssh-ed25519 ") })

    let fwd = try ChainHarness.start(
      lab, config: config, Self.forwardArguments(lab), forwardCount: 1)
    try Self.expectDataFlows(lab, fwd)
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  @Test func acceptNewAddsKeyOfSign() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeKnownHosts(named: "known_hosts_new", entries: ["sign": .omitted])
    let config = try lab.writeSSHConfig(named: "ssh_config_new", knownHostsPath: knownHosts)
    let before = try String(contentsOfFile: knownHosts, encoding: .utf8)
      .split(separator: "\n").map(String.init)

    let fwd = try ChainHarness.start(
      lab, config: config,
      ["-o", "StrictHostKeyChecking=accept-new"] + Self.forwardArguments(lab), forwardCount: 1)
    try Self.expectDataFlows(lab, fwd)
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")

    let after = try String(contentsOfFile: knownHosts, encoding: .utf8)
      .split(separator: "\n").map(String.init)
    #expect(Array(after.prefix(before.count)) == before, "existing lines changed")
    #expect(after.count == before.count + 1, "known_hosts now: \(after)")
    let added = try #require(after.last)
    let addedKey = lab["sign"].hostKeys.first {
      added == "\(lab["sign"].knownHostsName) \($0.publicKeyWithoutComment)"
    }
    #expect(addedKey != nil, "added line '\(added)' is not one of sign's keys")
    if let addedKey {
      let fingerprint = ChainHarness.fingerprint(of: addedKey)
      let notes = fwd.process.standardError.split(separator: "\n").filter {
        $0.contains(fingerprint) && $0.contains(knownHosts)
      }
      #expect(notes.count == 1, "no single line names the added key: \(fwd.process.standardError)")
    }

    // The added line is enough on its own for the next run under StrictHostKeyChecking yes.
    let again = try ChainHarness.start(
      lab, config: config, Self.forwardArguments(lab), forwardCount: 1)
    try Self.expectDataFlows(lab, again)
    #expect(try again.stop() == 0, "stderr: \(again.process.standardError)")
  }
}
