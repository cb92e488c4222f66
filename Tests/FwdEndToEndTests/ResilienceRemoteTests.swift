import Foundation
import FwdLab
import Glibc
import Testing

/// `-R` and `-H` forwards across a rebuild of the chain. While build's old session process is
/// frozen, it keeps the `-H` port on build bound, and sign's old session (whose connection runs
/// through it) keeps the `-R` port on sign bound. Both servers reject fwd's new requests until
/// the old sessions end after the thaw, so fwd must retry both.
// Serialized because the timing checks assume fwd and sshd get the CPU when they need it.
@Suite(
  .serialized, .enabled(if: Resilience.fwdIsBuilt, "needs the built fwd: run swift build"))
struct ResilienceRemoteTests {
  /// How soon after the thaw both ports must carry an echo again. The old sessions end within
  /// about a second, and fwd has been retrying for a few seconds by then. Its next request
  /// comes within 4.8 s (a 4 s backoff with 20 % jitter), and the rest is margin for a busy
  /// machine.
  static let returnLimit: Duration = .seconds(15)

  @Test func fixedPortsReturnAfterFrozenFirstHop() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let remotePort = try freePort()
    var jumpPort = try freePort()
    while jumpPort == remotePort { jumpPort = try freePort() }
    let (fwd, ready) = try startRemoteAndJump(lab, remotePort: remotePort, jumpPort: jumpPort)
    #expect(ready.map(\.port) == [remotePort, jumpPort])

    try Self.freezeBuildUntilRebuilt(lab, fwd, ports: [remotePort, jumpPort]) {
      for port in [remotePort, jumpPort] {
        #expect(Self.waitForEcho(port: port, timeout: Self.returnLimit), "port \(port) after the thaw")
        #expect(
          Resilience.waitForLog(fwd, "listening on localhost:\(port) again after", timeout: .seconds(1)),
          "stderr: \(fwd.standardError)")
      }
    }
    #expect(fwd.isRunning)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func pickedPortsStayAfterFrozenFirstHop() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try startRemoteAndJump(lab, remotePort: 0, jumpPort: 0)
    let ports = ready.map(\.port)
    #expect(ports.allSatisfy { $0 > 0 }, "ready lines: \(ready)")

    try Self.freezeBuildUntilRebuilt(lab, fwd, ports: ports) {
      for port in ports {
        #expect(Self.waitForEcho(port: port, timeout: Self.returnLimit), "port \(port) after the thaw")
      }
    }
    // The server picked each port once; the rebuilt sessions asked for those ports by number.
    #expect(FwdProcessLines.readyCount(fwd) == 2, "stdout: \(fwd.standardOutput)")
    #expect(
      ForwardHarness.logLines(lab, "sign", containing: "tcpip-forward listen localhost port \(ports[0])")
        .count >= 1, "sign's sshd got a request for port \(ports[0])")
    #expect(
      ForwardHarness.logLines(lab, "build", containing: "tcpip-forward listen localhost port \(ports[1])")
        .count >= 1, "build's sshd got a request for port \(ports[1])")
    #expect(ForwardHarness.logLines(lab, "sign", containing: "tcpip-forward listen localhost port 0").count == 1)
    #expect(ForwardHarness.logLines(lab, "build", containing: "tcpip-forward listen localhost port 0").count == 1)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  /// A port that another process has bound on the server after a rebuild: fwd keeps serving the
  /// `-L` forward, shows the `-R` forward as waiting, and takes the port once it is free.
  @Test func portHeldAfterRebuildIsWaitingThenListens() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let remotePort = try freePort()
    let remote = "\(remotePort):127.0.0.1:\(lab.echoPort)"
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      Resilience.fastKeepalive + [
        "-J", "build", "sign", "-R", remote, "-L", "0:127.0.0.1:\(lab.echoPort)",
      ],
      readyCount: 2)
    let localPort = ready[0].port
    let remoteLine = "remote localhost \(remotePort) 127.0.0.1 \(lab.echoPort)"
    #expect(ready[1].description == remoteLine)

    // Killing sign's sshd frees the port, and the test takes it before sign comes back.
    lab["sign"].kill()
    var holders = [try LabService(.echo, host: "127.0.0.1", port: remotePort)]
    if let ipv6 = try? LabService(.echo, host: "::1", port: remotePort) { holders.append(ipv6) }
    defer { holders.forEach { $0.stop() } }
    try lab["sign"].start()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(30)),
      "stderr: \(fwd.standardError)")
    let rejected = "-R \(remote): sign refused to listen on localhost:\(remotePort)"
    #expect(
      Resilience.waitForLog(fwd, rejected, count: 2, timeout: .seconds(10)),
      "stderr: \(fwd.standardError)")
    #expect(fwd.standardError.contains("retrying in "), "stderr: \(fwd.standardError)")

    #expect(try Resilience.echoLine(port: localPort, "local") == "local")
    fwd.send(signal: SIGUSR1)
    #expect(
      fwd.waitForStandardError(containing: "fwd: status: \(remoteLine): waiting, "),
      "stderr: \(fwd.standardError)")
    #expect(fwd.isRunning)

    holders.forEach { $0.stop() }
    #expect(
      Resilience.waitForLog(fwd, "listening on localhost:\(remotePort) again after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    #expect(try Resilience.echoLine(port: remotePort, "remote") == "remote")
    fwd.send(signal: SIGUSR1)
    #expect(
      fwd.waitForStandardError(containing: "fwd: status: \(remoteLine): listening, "),
      "stderr: \(fwd.standardError)")
    #expect(FwdProcessLines.readyCount(fwd) == 2, "stdout: \(fwd.standardOutput)")
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  /// Starts fwd through build to sign with `-R remotePort` and `-H build:jumpPort`, both to the
  /// echo service, and checks that both carry an echo.
  private func startRemoteAndJump(_ lab: Lab, remotePort: Int, jumpPort: Int) throws -> (
    FwdProcess, [ForwardReadyLine]
  ) {
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      Resilience.fastKeepalive + [
        "-J", "build", "sign", "-R", "\(remotePort):127.0.0.1:\(lab.echoPort)",
        "-H", "build:\(jumpPort):localhost:\(lab.echoPort)",
      ],
      readyCount: 2)
    #expect(ready.map(\.kind) == ["remote", "jump:build"])
    for line in ready {
      #expect(try Resilience.echoLine(port: line.port, "before") == "before")
    }
    return (fwd, ready)
  }

  /// Freezes build's session processes, waits for fwd to rebuild the chain past the 3 s
  /// keepalive limit and for both servers to reject the ports, then thaws build and runs
  /// `afterThaw`.
  private static func freezeBuildUntilRebuilt(
    _ lab: Lab, _ fwd: FwdProcess, ports: [Int], afterThaw: () throws -> Void
  ) throws {
    let frozen = Resilience.freezeConnections(of: lab["build"])
    #expect(!frozen.isEmpty, "build has a session process to freeze")
    defer { Resilience.thaw(frozen) }
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(15)),
      "stderr: \(fwd.standardError)")
    // Each rejection is logged, so a forward skipped after another's failure would show here.
    for (port, hop) in zip(ports, ["sign", "build"]) {
      #expect(
        Resilience.waitForLog(fwd, "\(hop) refused to listen on localhost:\(port)", timeout: .seconds(5)),
        "stderr: \(fwd.standardError)")
    }
    Resilience.thaw(frozen)
    try afterThaw()
  }

  /// Polls `port` with short echoes until one comes back; returns false after `timeout`.
  private static func waitForEcho(port: Int, timeout: Duration) -> Bool {
    Resilience.wait(timeout: timeout) {
      (try? Resilience.echoLine(port: port, "again", timeout: .seconds(2))) == "again"
    }
  }
}
