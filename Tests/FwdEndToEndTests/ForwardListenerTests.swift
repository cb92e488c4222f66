import FwdLab
import Testing

/// Local listeners: bind addresses, GatewayPorts (-g), and ports already taken, which end fwd
/// at start with status 73 and a message that names the address.
@Suite struct ForwardListenerTests {
  @Test func localListenersExit73BeforeConnecting() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (port, holders) = try holdPortOnBothLoopbacks()
    defer { holders.forEach { $0.stop() } }

    let cases: [(arguments: [String], address: String)] = [
      (["-L", "\(port):127.0.0.1:\(lab.echoPort)"], "127.0.0.1:\(port)"),
      (["-L", "127.0.0.1:\(port):127.0.0.1:\(lab.echoPort)"], "127.0.0.1:\(port)"),
      (["-L", "[::1]:\(port):127.0.0.1:\(lab.echoPort)"], "[::1]:\(port)"),
      (["-D", "\(port)"], "127.0.0.1:\(port)"),
      // The first listener binds, and the second one's failure still ends fwd.
      (["-L", "0:127.0.0.1:\(lab.echoPort)", "-D", "\(port)"], "127.0.0.1:\(port)"),
    ]
    for (arguments, address) in cases {
      let result = try ForwardHarness.runToExit(lab, ["-J", "build", "sign"] + arguments)
      let label = arguments.joined(separator: " ")
      #expect(result.status == 73, "\(label): stderr \(result.errors)")
      #expect(result.errors.contains("bind \(address) failed"), "\(label): \(result.errors)")
      #expect(result.errors.contains("Address already in use"), "\(label): \(result.errors)")
      #expect(result.seconds < 5, "\(label) took \(result.seconds) s")
    }
    // Listeners bind before the first hop is dialled, so no hop saw a login.
    #expect(!lab.log(of: "build").contains("Accepted publickey"))
  }

  @Test func exitOnForwardFailureNoSkipsTakenPort() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (port, holders) = try holdPortOnBothLoopbacks()
    defer { holders.forEach { $0.stop() } }
    let taken = "\(port):127.0.0.1:\(lab.echoPort)"

    let (fwd, ready) = try ForwardHarness.start(
      lab,
      [
        "-J", "build", "sign", "-o", "ExitOnForwardFailure=no", "-L", taken,
        "-L", "0:127.0.0.1:\(lab.echoPort)",
      ],
      readyCount: 1)
    #expect(ready[0].port != port)
    #expect(
      fwd.standardError.contains("-L \(taken): bind 127.0.0.1:\(port) failed"),
      "stderr: \(fwd.standardError)")
    #expect(fwd.standardError.contains("(continuing: ExitOnForwardFailure is no)"))
    try ForwardHarness.expectEcho(port: ready[0].port, count: 64 << 10)
    #expect(try ForwardHarness.stop(fwd) == 0)
    #expect(fwd.standardOutput.split(separator: "\n").count == 1, "one ready line")

    // With nothing left to serve fwd ends before it dials the first hop.
    let logins = ForwardHarness.logLines(lab, "build", containing: "Accepted publickey").count
    let result = try ForwardHarness.runToExit(
      lab, ["-J", "build", "sign", "-o", "ExitOnForwardFailure=no", "-L", taken, "-D", "\(port)"])
    #expect(result.status == 73)
    #expect(result.errors.contains("no forward could be set up"), "stderr: \(result.errors)")
    #expect(ForwardHarness.logLines(lab, "build", containing: "Accepted publickey").count == logins)
  }

  @Test func jumpListenerPortTakenExits73() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (port, holders) = try holdPortOnBothLoopbacks()
    defer { holders.forEach { $0.stop() } }
    let spec = "build:\(port):127.0.0.1:\(lab.echoPort)"

    let result = try ForwardHarness.runToExit(lab, ["-J", "build", "sign", "-H", spec])
    #expect(result.status == 73)
    #expect(
      result.errors.contains("-H \(spec): build refused to listen on localhost:\(port)"),
      "stderr: \(result.errors)")
    #expect(result.seconds < 15, "fwd took \(result.seconds) s to give up")
  }

  @Test func bindAddressesAndGatewayPorts() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      [
        "-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)",
        "-L", "[::1]:0:127.0.0.1:\(lab.echoPort)", "-D", "[::1]:0",
      ],
      readyCount: 3)
    #expect(ready.map(\.listenAddress) == ["127.0.0.1", "::1", "::1"])
    try ForwardHarness.expectEcho(port: ready[0].port, count: 64 << 10)
    #expect(try LabClient.echo(host: "::1", port: ready[1].port, bytes: 64 << 10) == 64 << 10)
    let socks = try ForwardSOCKSClient.connect5(
      proxyHost: "::1", proxyPort: ready[2].port, to: .ipv4("127.0.0.1"), port: lab.echoPort)
    #expect(socks.code == 0)
    try ForwardDynamicTests.expectEchoed(socks.connection, count: 4096)
    #expect(try ForwardHarness.stop(fwd) == 0)

    // With -g a listener without a bind address takes every address, IPv4 and IPv6.
    let (gateway, gatewayReady) = try ForwardHarness.start(
      lab, ["-J", "build", "sign", "-g", "-L", "0:127.0.0.1:\(lab.echoPort)"], readyCount: 1)
    #expect(gatewayReady[0].listenAddress == "0.0.0.0")
    let port = gatewayReady[0].port
    #expect(gateway.standardError.contains("listening on 0.0.0.0:\(port), [::]:\(port)"))
    try ForwardHarness.expectEcho(port: port, count: 64 << 10)
    #expect(try LabClient.echo(host: "::1", port: port, bytes: 64 << 10) == 64 << 10)
    #expect(try ForwardHarness.stop(gateway) == 0)
  }
}
