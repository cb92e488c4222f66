import FwdLab
import Testing

/// Where the chain's channels are opened, and what happens when a hop, a listener or a
/// channel open fails.
@Suite struct ChainPathTests {
  /// Returns the lines of `log` with sshd's note of a direct-tcpip open, e.g.
  /// `debug1: server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port 2202`.
  static func directTCPIPLines(_ log: String) -> [Substring] {
    log.split(separator: "\n").filter { $0.contains("server_request_direct_tcpip") }
  }

  @Test func pathCrossesBuildToSign() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let signPort = lab["sign"].port
    let fwd = try ChainHarness.start(
      lab, ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"], forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    #expect(try LabClient.echo(host: echo.listenAddress, port: echo.listenPort, bytes: 65_536) > 0)

    #expect(lab["sign"].waitForLog(containing: "target 127.0.0.1 port \(lab.echoPort)"))
    #expect(lab.log(of: "build").contains("Connection from"))
    let buildOpens = Self.directTCPIPLines(lab.log(of: "build"))
    #expect(
      buildOpens.contains { $0.hasSuffix("target 127.0.0.1 port \(signPort)") },
      "build's direct-tcpip opens: \(buildOpens)")
    #expect(
      !buildOpens.contains { $0.hasSuffix("port \(lab.echoPort)") },
      "build opened the channel to the echo service itself: \(buildOpens)")
    let signOpens = Self.directTCPIPLines(lab.log(of: "sign"))
    #expect(
      signOpens.contains { $0.hasSuffix("target 127.0.0.1 port \(lab.echoPort)") },
      "sign's direct-tcpip opens: \(signOpens)")
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  /// Both hops' AES-CTR goes through fwd's keystream cache (Sources/FwdKeystream): libssh2's
  /// calls reach fwd's EVP_Cipher, and the bytes still arrive intact.
  @Test func libssh2CipherCallsReachTheKeystreamCache() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab, ["-vv", "-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"], forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    #expect(try LabClient.echo(host: echo.listenAddress, port: echo.listenPort, bytes: 1 << 20) > 0)
    #expect(try fwd.stop() == 0)
    let log = fwd.process.standardError
    #expect(log.contains("build: keystream cache under libssh2's aes128-ctr: on"), "\(log)")
    #expect(log.contains("sign: keystream cache under libssh2's aes128-ctr: on"), "\(log)")
    // 1 MiB each way through two hops is at least 4 MiB of cipher work in fwd.
    let summary = log.split(separator: "\n").first { $0.contains("keystream cache computed") }
    let words = summary?.split(separator: " ") ?? []
    let bytes = words.firstIndex(of: "computed").flatMap { Int(words[$0 + 1]) } ?? 0
    #expect(bytes >= 4 << 20, "\(summary ?? "no summary line")")
  }

  @Test func stoppedFirstHopEndsRunWithConnectionStatus() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    lab.host("build").stop()

    let run = try ChainHarness.runToExit(
      lab, ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"])
    #expect(run.status == 69)
    #expect(run.errorLines.count == 1, "stderr: \(run.standardError)")
    let line = try #require(run.errorLines.first)
    #expect(line.hasPrefix("fwd: build"), "\(line)")
    #expect(line.contains("127.0.0.1:\(lab["build"].port)"), "\(line)")
    #expect(run.standardOutput.isEmpty)
    #expect(!lab.log(of: "sign").contains("Connection from"), "sign was dialled")
  }

  @Test func busyListenPortEndsRunBeforeDialling() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let busy = try BusyPort()

    let run = try ChainHarness.runToExit(
      lab, ["-J", "build", "sign", "-L", "\(busy.port):127.0.0.1:\(lab.echoPort)"])
    #expect(run.status == 73)
    #expect(run.errorLines.count == 1, "stderr: \(run.standardError)")
    let line = try #require(run.errorLines.first)
    #expect(line.hasPrefix("fwd: "), "\(line)")
    #expect(line.contains("127.0.0.1:\(busy.port)"), "\(line)")
    #expect(run.standardOutput.isEmpty)
    // sshd logs every accepted TCP connection at level VERBOSE ("Connection from ..."), below
    // the lab's DEBUG1; pathCrossesBuildToSign shows that line appearing for a real run.
    #expect(!lab.log(of: "build").contains("Connection from"), "build was dialled")
  }

  @Test func prohibitedChannelClosesOnlyItsConnection() throws {
    // sign's sshd allows forwards only to this echo service, started before the lab so that
    // its port can go into sign's sshd_config. Forwards to the lab's own echo service are prohibited.
    let allowed = try LabService(.echo)
    defer { allowed.stop() }
    let lab = try Lab(hosts: [
      LabHostOptions("build"),
      LabHostOptions("sign", sshdConfig: ["PermitOpen 127.0.0.1:\(allowed.port)"]),
    ])
    defer { lab.shutdown() }
    let prohibitedPort = lab.echoPort
    let fwd = try ChainHarness.start(
      lab,
      [
        "-J", "build", "sign",
        "-L", "0:127.0.0.1:\(prohibitedPort)",
        "-L", "0:127.0.0.1:\(allowed.port)",
      ],
      forwardCount: 2)
    let prohibitedForward = fwd.forward(to: prohibitedPort)
    let allowedForward = fwd.forward(to: allowed.port)
    // sshd 9.2 rejects a channel open that PermitOpen does not allow with reason code 1,
    // which libssh2 1.10 reports as "administratively prohibited".
    let reason = "administratively prohibited"

    for attempt in 1...2 {
      let prohibited = try LabConnection(
        host: prohibitedForward.listenAddress, port: prohibitedForward.listenPort)
      try prohibited.write("dropped\n")
      #expect(prohibited.waitForClose(timeout: .seconds(30)), "attempt \(attempt): still open")
      let reports = fwd.waitForErrorLines(
        containing: reason, count: attempt, timeout: .seconds(30))
      #expect(
        reports.count == attempt, "attempt \(attempt): stderr: \(fwd.process.standardError)")
      if let report = reports.last {
        #expect(report.hasPrefix("fwd: "), "\(report)")
        #expect(report.contains("127.0.0.1:\(prohibitedPort)"), "\(report)")
      }

      let echoed = try LabClient.echo(
        host: allowedForward.listenAddress, port: allowedForward.listenPort, bytes: 100_000,
        timeout: .seconds(60))
      #expect(echoed == 100_000, "attempt \(attempt)")
      // Counted again after the echo, so a second line about the same rejection shows up too.
      let allReports = fwd.process.standardError.split(separator: "\n").filter {
        $0.contains(reason)
      }
      #expect(allReports.count == attempt, "attempt \(attempt): \(allReports)")
    }
    #expect(lab.echoService.acceptedConnections == 0)
    #expect(fwd.process.isRunning)
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }
}
