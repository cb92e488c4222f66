import Foundation
import FwdLab
import Glibc
import Testing

/// `-R [bind:]port:host:hostport`: the last hop's sshd listens, and each connection comes back
/// through the chain to host:hostport as this machine resolves it.
@Suite struct ForwardRemoteTests {
  @Test func fixedAndPickedPortsCarryData() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fixedPort = try freePort()
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      [
        "-J", "build", "sign",
        "-R", "\(fixedPort):127.0.0.1:\(lab.echoPort)",
        "-R", "0:127.0.0.1:\(lab.sinkPort)",
        "-R", "0:127.0.0.1:\(lab.sourcePort)",
      ],
      readyCount: 3)

    #expect(ready.map(\.kind) == ["remote", "remote", "remote"])
    #expect(ready.allSatisfy { $0.listenAddress == "localhost" })
    #expect(ready.allSatisfy { $0.targetHost == "127.0.0.1" })
    #expect(ready[0].port == fixedPort)
    #expect(ready[1].port > 0)
    #expect(ready[2].port > 0)
    #expect(ready[1].port != ready[2].port)
    #expect(
      ready.map(\.targetPort) == [lab.echoPort, lab.sinkPort, lab.sourcePort].map(String.init))

    try ForwardHarness.expectEcho(port: fixedPort, count: 4 << 20)
    try ForwardHarness.expectTransfers(
      sinkPort: ready[1].port, sourcePort: ready[2].port, count: 16 << 20)

    #expect(lab.log(of: "sign").contains("tcpip-forward listen localhost port \(fixedPort)\n"))
    #expect(
      ForwardHarness.logLines(lab, "sign", containing: "tcpip-forward listen localhost port 0")
        .count == 2)
    #expect(ForwardHarness.logLines(lab, "build", containing: "tcpip-forward").isEmpty)

    #expect(try ForwardHarness.stop(fwd) == 0)
    #expect(ForwardHarness.waitUntilRefused(port: fixedPort), "sign still listens on \(fixedPort)")
  }

  @Test func unixSocketAndRefusedLocalTargets() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let echoPath = directory.file("echo.sock")
    let echoServer = try ForwardBridge(
      listen: .unix(path: echoPath), to: .tcp(host: "127.0.0.1", port: lab.echoPort))
    defer { echoServer.stop() }
    let closedPort = try freePort()
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      ["-J", "build", "sign", "-R", "0:\(echoPath)", "-R", "0:127.0.0.1:\(closedPort)"],
      readyCount: 2)

    #expect(ready[0].kind == "remote")
    #expect(ready[0].targetHost == echoPath)
    #expect(ready[0].targetPort == "-")
    try ForwardHarness.expectEcho(port: ready[0].port, count: 1 << 20)
    #expect(echoServer.acceptedConnections == 2)

    // fwd cannot reach the target here, so sign's sshd closes the client's connection.
    let refused = try LabConnection(port: ready[1].port)
    #expect(refused.waitForClose(timeout: .seconds(10)), "the connection was closed")
    let failure = "-R 0:127.0.0.1:\(closedPort): connect to 127.0.0.1 port \(closedPort) failed"
    #expect(fwd.waitForStandardError(containing: failure), "stderr: \(fwd.standardError)")
    #expect(fwd.isRunning)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  /// Debian's /etc/hosts lists "localhost" for ::1 too, and getaddrinfo sorts ::1 first, but
  /// many services listen on 127.0.0.1 only. fwd runs here with such a hosts file, in a private
  /// mount namespace, which needs root.
  @Test(.enabled(if: geteuid() == 0, "a private /etc/hosts needs a mount namespace"))
  func localhostTargetFallsBackToIPv4() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let hosts = directory.file("hosts")
    try "::1 localhost\n127.0.0.1 localhost\n".write(toFile: hosts, atomically: true, encoding: .utf8)
    // unshare's default propagation is private, so the bind mount stays in fwd's namespace.
    let script = #"mount --bind "$0" /etc/hosts && exec "$@""#
    let fwd = try FwdProcess(
      arguments: [
        "--mount", "/bin/sh", "-c", script, hosts, FwdBinary.path, "-F", lab.sshConfigPath, "-v",
        "-J", "build", "sign", "-R", "0:localhost:\(lab.echoPort)",
      ],
      unsetEnvironment: ["SSH_AUTH_SOCK"], binary: "/usr/bin/unshare")
    let ready = try ForwardHarness.waitForReadyLines(fwd, count: 1)

    try ForwardHarness.expectEcho(port: ready[0].port, count: 64 << 10)
    #expect(fwd.standardError.contains("connected to 127.0.0.1:\(lab.echoPort)"))
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func remoteForwardsReturnAfterRebuild() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fixedPort = try freePort()
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      [
        "-J", "build", "sign", "-R", "\(fixedPort):127.0.0.1:\(lab.echoPort)",
        "-H", "build:0:127.0.0.1:\(lab.echoPort)",
      ],
      readyCount: 2)
    try ForwardHarness.expectEcho(port: fixedPort, count: 64 << 10)
    try ForwardHarness.expectEcho(port: ready[1].port, count: 64 << 10)

    // Losing sign ends its listener. fwd rebuilds the chain from sign and asks for the port
    // again, while build's listener stays and waits for the chain.
    lab["sign"].kill()
    try lab["sign"].start()
    #expect(
      fwd.waitForStandardError(containing: "chain rebuilt", timeout: .seconds(30)),
      "stderr: \(fwd.standardError)")
    // The listen request goes out after the rebuild without holding up the chain.
    #expect(
      fwd.waitForStandardError(containing: "listening on localhost:\(fixedPort) again"),
      "stderr: \(fwd.standardError)")
    try ForwardHarness.expectEcho(port: fixedPort, count: 64 << 10)
    try ForwardHarness.expectEcho(port: ready[1].port, count: 64 << 10)
    #expect(
      ForwardHarness.logLines(lab, "sign", containing: "tcpip-forward listen localhost port \(fixedPort)")
        .count == 2, "sign's sshd got the listen request again")
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func portInUseOnServerExits73() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (port, holders) = try holdPortOnBothLoopbacks()
    defer { holders.forEach { $0.stop() } }
    let spec = "\(port):127.0.0.1:\(lab.echoPort)"

    let result = try ForwardHarness.runToExit(lab, ["-J", "build", "sign", "-R", spec])
    #expect(result.status == 73)
    #expect(result.seconds < 15, "fwd took \(result.seconds) s to give up")
    #expect(
      result.errors.contains("-R \(spec): sign refused to listen on localhost:\(port)"),
      "stderr: \(result.errors)")
    #expect(result.errors.contains("ExitOnForwardFailure"), "stderr names the option to change")
  }

  @Test func serverForbiddingRemoteForwardsExits73() throws {
    let lab = try Lab(hosts: [
      LabHostOptions("build"), LabHostOptions("sign", sshdConfig: ["AllowTcpForwarding local"]),
    ])
    defer { lab.shutdown() }
    let spec = "0:127.0.0.1:\(lab.echoPort)"

    let result = try ForwardHarness.runToExit(lab, ["-J", "build", "sign", "-R", spec])
    #expect(result.status == 73)
    #expect(result.seconds < 15, "fwd took \(result.seconds) s to give up")
    #expect(
      result.errors.contains("-R \(spec): sign refused to listen on localhost:0"),
      "stderr: \(result.errors)")
    #expect(result.errors.contains("AllowTcpForwarding"), "stderr: \(result.errors)")
  }

  @Test func exitOnForwardFailureNoKeepsOtherForwards() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (port, holders) = try holdPortOnBothLoopbacks()
    defer { holders.forEach { $0.stop() } }
    let refused = "\(port):127.0.0.1:\(lab.echoPort)"
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      [
        "-J", "build", "sign", "-o", "ExitOnForwardFailure=no",
        "-R", refused, "-R", "0:127.0.0.1:\(lab.echoPort)", "-L", "0:127.0.0.1:\(lab.echoPort)",
      ],
      readyCount: 2)

    #expect(ready.map(\.kind) == ["local", "remote"])
    #expect(ready[1].port != port)
    #expect(
      fwd.standardError.contains("-R \(refused): sign refused to listen on localhost:\(port)"),
      "stderr: \(fwd.standardError)")
    #expect(fwd.standardError.contains("continuing: ExitOnForwardFailure is no"))
    try ForwardHarness.expectEcho(port: ready[0].port, count: 256 << 10)
    try ForwardHarness.expectEcho(port: ready[1].port, count: 256 << 10)
    #expect(fwd.isRunning)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }
}
