import FwdLab
import Testing

/// `-D [bind:]port`: a SOCKS 4, 4a and 5 server whose CONNECT targets the last hop reaches.
@Suite struct ForwardDynamicTests {
  /// Proxy settings in the environment would change or bypass curl's --socks options.
  static let proxyVariables = [
    "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy",
  ]

  /// Fetches `url` with curl through the SOCKS proxy; the demo service replies with one line
  /// without HTTP headers, hence --http0.9. Returns curl's exit status and output.
  static func curl(_ proxyOption: String, proxyPort: Int, url: String) throws -> (
    status: Int32, output: String, errors: String
  ) {
    let process = try FwdProcess(
      arguments: [
        "--silent", "--show-error", "--max-time", "20", "--http0.9",
        proxyOption, "127.0.0.1:\(proxyPort)", url,
      ],
      unsetEnvironment: proxyVariables, binary: "/usr/bin/curl")
    let status = try process.waitForExit(timeout: .seconds(30))
    return (status, process.standardOutput, process.standardError)
  }

  @Test func curlThroughEverySOCKSVersion() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try ForwardHarness.start(
      lab, ["-J", "build", "sign", "-D", "0"], readyCount: 1)
    #expect(ready[0].kind == "dynamic")
    #expect(ready[0].listenAddress == "127.0.0.1")
    #expect(ready[0].targetHost == "-")
    #expect(ready[0].targetPort == "-")
    let proxyPort = ready[0].port
    let demo = lab.demoPort

    // With --socks5-hostname and --socks4a curl sends the name, which sign's sshd resolves.
    let cases = [
      ("--socks5-hostname", "localhost", "socks5h"), ("--socks4a", "localhost", "socks4a"),
      ("--socks5", "127.0.0.1", "socks5"), ("--socks4", "127.0.0.1", "socks4"),
    ]
    for (option, host, path) in cases {
      let result = try Self.curl(option, proxyPort: proxyPort, url: "http://\(host):\(demo)/\(path)")
      #expect(result.status == 0, "curl \(option): \(result.errors)")
      #expect(
        result.output == "hello from the demo service on sign, you sent: GET /\(path) HTTP/1.1\n",
        "curl \(option)")
    }
    let opens = ForwardHarness.logLines(lab, "sign", containing: "server_request_direct_tcpip")
    #expect(opens.filter { $0.hasSuffix("target localhost port \(demo)") }.count == 2)
    #expect(opens.filter { $0.hasSuffix("target 127.0.0.1 port \(demo)") }.count == 2)

    let refused = try Self.curl(
      "--socks5-hostname", proxyPort: proxyPort, url: "http://127.0.0.1:\(try freePort())/")
    #expect(refused.status != 0, "curl through a refused target: \(refused.output)")
    #expect(refused.output.isEmpty)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func ownClientReachesIPv6AndNamedTargets() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let ipv6Echo = try LabService(.echo, host: "::1")
    defer { ipv6Echo.stop() }
    let (fwd, ready) = try ForwardHarness.start(
      lab, ["-J", "build", "sign", "-D", "127.0.0.1:0"], readyCount: 1)
    let proxyPort = ready[0].port

    let ipv6 = try ForwardSOCKSClient.connect5(
      proxyPort: proxyPort, to: .ipv6("::1"), port: ipv6Echo.port)
    #expect(ipv6.code == 0, "SOCKS5 reply to [::1]:\(ipv6Echo.port)")
    try Self.expectEchoed(ipv6.connection, count: 1 << 20)
    #expect(ipv6Echo.acceptedConnections == 1)
    #expect(
      ForwardHarness.waitForLogLine(
        lab, "sign", containing: "server_request_direct_tcpip", "target ::1 port \(ipv6Echo.port)"))

    let named = try ForwardSOCKSClient.connect5(
      proxyPort: proxyPort, to: .domain("localhost"), port: lab.echoPort)
    #expect(named.code == 0, "SOCKS5 reply to localhost:\(lab.echoPort)")
    try Self.expectEchoed(named.connection, count: 64 << 10)

    let socks4 = try ForwardSOCKSClient.connect4(
      proxyPort: proxyPort, to: .ipv4("127.0.0.1"), port: lab.echoPort)
    #expect(socks4.code == 90, "SOCKS4 reply to 127.0.0.1:\(lab.echoPort)")
    try Self.expectEchoed(socks4.connection, count: 64 << 10)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func parallelClientsEachReachTarget() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try ForwardHarness.start(
      lab, ["-J", "build", "sign", "-D", "0"], readyCount: 1)
    let proxyPort = ready[0].port
    let echoPort = lab.echoPort

    // Handshakes are read on fwd's main thread while replies come from the hop's thread.
    let errors = ForwardHarness.inParallel(24) { index in
      let target: ForwardSOCKSClient.Target = index % 2 == 0 ? .ipv4("127.0.0.1") : .domain("localhost")
      let reply = try ForwardSOCKSClient.connect5(proxyPort: proxyPort, to: target, port: echoPort)
      guard reply.code == 0 else {
        throw LabError("client \(index): SOCKS5 reply \(reply.code)")
      }
      try Self.expectEchoed(reply.connection, count: 128 << 10)
    }
    #expect(errors.compactMap { $0 } == [])
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func failuresGetErrorReplies() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try ForwardHarness.start(
      lab, ["-J", "build", "sign", "-D", "0"], readyCount: 1)
    let proxyPort = ready[0].port
    let closedPort = try freePort()
    let closedIPv6Port = try freePort(host: "::1")

    let targets: [(ForwardSOCKSClient.Target, Int)] = [
      (.ipv4("127.0.0.1"), closedPort), (.ipv6("::1"), closedIPv6Port),
      (.domain("localhost"), closedPort),
    ]
    for (target, port) in targets {
      let reply = try ForwardSOCKSClient.connect5(proxyPort: proxyPort, to: target, port: port)
      #expect(reply.code != 0, "SOCKS5 reply to \(target) port \(port) must be a failure")
      // fwd maps sshd's "connect failed" to REP 5, connection refused.
      #expect(reply.code == 5, "SOCKS5 reply to \(target) port \(port)")
      #expect(reply.connection.waitForClose(timeout: .seconds(5)), "fwd closes after a failure")
    }
    let socks4 = try ForwardSOCKSClient.connect4(
      proxyPort: proxyPort, to: .ipv4("127.0.0.1"), port: closedPort)
    #expect(socks4.code == 91, "SOCKS4 reply for a refused target is 91, rejected or failed")

    // A greeting without the no-authentication method gets method 0xFF, then the close.
    let authOnly = try LabConnection(port: proxyPort)
    try authOnly.write([5, 1, 2])
    #expect(try ForwardSOCKSClient.readExactly(authOnly, 2) == [5, 0xFF])
    #expect(authOnly.waitForClose(timeout: .seconds(5)))

    // BIND (command 2) is not supported: REP 7, then the close.
    let bind = try LabConnection(port: proxyPort)
    try bind.write([5, 1, 0])
    #expect(try ForwardSOCKSClient.readExactly(bind, 2) == [5, 0])
    try bind.write([5, 2, 0, 1, 127, 0, 0, 1, UInt8(closedPort >> 8), UInt8(closedPort & 0xff)])
    let bindReply = try ForwardSOCKSClient.readExactly(bind, 2)
    #expect(bindReply == [5, 7])
    #expect(bind.waitForClose(timeout: .seconds(5)))

    // The proxy still serves after the failures.
    let working = try ForwardSOCKSClient.connect5(
      proxyPort: proxyPort, to: .ipv4("127.0.0.1"), port: lab.echoPort)
    #expect(working.code == 0)
    try Self.expectEchoed(working.connection, count: 4096)
    #expect(fwd.isRunning)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  /// Sends `count` pattern bytes on a connection whose far end is an echo service, and throws
  /// unless the same bytes come back.
  static func expectEchoed(_ connection: LabConnection, count: Int) throws {
    let bytes = TestPattern.bytes(count: count)
    var received: [UInt8] = []
    received.reserveCapacity(count)
    // Written in slices so the echo's replies never fill both directions' buffers.
    for start in stride(from: 0, to: count, by: 65_536) {
      let end = min(count, start + 65_536)
      try connection.write(Array(bytes[start..<end]))
      while received.count < end {
        let chunk = try connection.read()
        guard !chunk.isEmpty else {
          throw LabError("echo through SOCKS: EOF after \(received.count) of \(count) bytes")
        }
        received += chunk
      }
    }
    // A thrown error, not #expect, because parallel clients call this off the test's task.
    guard received == bytes else {
      throw LabError("echo through SOCKS: the \(count) bytes came back changed")
    }
  }
}
