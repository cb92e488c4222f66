import FwdLab
import Testing

/// `-H hop:[bind:]port:host:hostport`: a jump host's sshd listens, and each connection goes
/// on through the rest of the chain to host:hostport as the last hop resolves it.
@Suite struct ForwardJumpListenerTests {
  @Test func firstHopListenerCarries64MiB() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let targets = [lab.sinkPort, lab.sourcePort, lab.echoPort]
    var arguments = ["-J", "build", "sign"]
    for port in targets { arguments += ["-H", "build:0:127.0.0.1:\(port)"] }
    // On the destination itself -H works like -R with a target the destination reaches.
    arguments += ["-H", "sign:0:127.0.0.1:\(lab.echoPort)"]
    let (fwd, ready) = try ForwardHarness.start(lab, arguments, readyCount: 4)

    #expect(ready.map(\.kind) == ["jump:build", "jump:build", "jump:build", "jump:sign"])
    #expect(ready.allSatisfy { $0.listenAddress == "localhost" })
    #expect(ready.allSatisfy { $0.port > 0 })
    #expect(ready.allSatisfy { $0.targetHost == "127.0.0.1" })
    #expect(ready.map(\.targetPort) == (targets + [lab.echoPort]).map(String.init))
    #expect(Set(ready.map(\.port)).count == 4, "each listener has its own port: \(ready)")
    let (sinkListener, sourceListener, echoListener) = (ready[0].port, ready[1].port, ready[2].port)

    try ForwardHarness.expectTransfers(
      sinkPort: sinkListener, sourcePort: sourceListener, count: 64 << 20)
    try ForwardHarness.expectEcho(port: echoListener)
    try ForwardHarness.expectEcho(port: ready[3].port, count: 64 << 10)

    // build's sshd listens (tcpip-forward) and sign's opens the connection to the target.
    #expect(
      ForwardHarness.logLines(lab, "build", containing: "tcpip-forward listen localhost port 0")
        .count == 3)
    for port in [sinkListener, sourceListener, echoListener] {
      #expect(lab.log(of: "build").contains("Allocated listen port \(port)\n"), "port \(port)")
    }
    for port in targets {
      #expect(
        ForwardHarness.waitForLogLine(
          lab, "sign", containing: "server_request_direct_tcpip", "target 127.0.0.1 port \(port)"),
        "sign's sshd opened a direct-tcpip channel to port \(port)")
    }
    #expect(
      ForwardHarness.logLines(lab, "sign", containing: "tcpip-forward listen localhost port 0")
        .count == 1, "sign listens only for the -H on the destination")
    #expect(
      ForwardHarness.logLines(lab, "build", containing: "server_request_direct_tcpip", "target")
        .allSatisfy { $0.contains("target 127.0.0.1 port \(lab["sign"].port)") },
      "build opens channels only to sign's sshd")

    #expect(try ForwardHarness.stop(fwd) == 0)
    // The listening ports belong to the SSH session, so they close with it.
    for port in [sinkListener, echoListener] {
      #expect(ForwardHarness.waitUntilRefused(port: port), "build still listens on \(port)")
    }
  }

  @Test func parallelConnectionsAndRefusedTargets() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let closedPort = try freePort()
    let (fwd, ready) = try ForwardHarness.start(
      lab,
      [
        "-J", "build", "sign", "-H", "build:0:127.0.0.1:\(lab.echoPort)",
        "-H", "build:0:127.0.0.1:\(closedPort)",
      ],
      readyCount: 2)
    let (echoListener, refusedListener) = (ready[0].port, ready[1].port)

    let echoErrors = ForwardHarness.inParallel(32) { _ in
      try LabClient.echo(port: echoListener, bytes: 256 << 10, timeout: .seconds(60))
    }
    #expect(echoErrors.compactMap { $0 } == [])

    // Each channel to the closed port fails on sign, so build closes the client's connection.
    // A burst of failed opens once left received bytes queued in libssh2 while poll slept on
    // the drained socket, which held these connections open until the 15 s keepalive.
    let started = ContinuousClock.now
    let refusedErrors = ForwardHarness.inParallel(32) { index in
      let connection = try LabConnection(port: refusedListener)
      // The write fails once fwd has closed the connection, which is the expected outcome.
      try? connection.write(TestPattern.bytes(count: 256 << 10), timeout: .seconds(20))
      guard connection.waitForClose(timeout: .seconds(20)) else {
        throw LabError("connection \(index) to the refused target stayed open for 20 s")
      }
    }
    #expect(refusedErrors.compactMap { $0 } == [])
    let elapsed = ContinuousClock.now - started
    #expect(elapsed < .seconds(10), "32 refused connections took \(elapsed)")
    #expect(
      ForwardHarness.logLines(lab, "sign", containing: "target 127.0.0.1 port \(closedPort)")
        .count == 32)

    #expect(fwd.isRunning)
    try ForwardHarness.expectEcho(port: echoListener, count: 64 << 10)
    #expect(try ForwardHarness.stop(fwd) == 0)
  }

  @Test func middleHopListenerOfThreeHops() throws {
    let lab = try Lab()
    defer { lab.shutdown() }
    let targets = [lab.sinkPort, lab.sourcePort, lab.echoPort]
    var arguments = ["-J", "build,sign", "deep"]
    for port in targets { arguments += ["-H", "sign:0:127.0.0.1:\(port)"] }
    let (fwd, ready) = try ForwardHarness.start(lab, arguments, readyCount: 3)

    #expect(ready.map(\.kind) == ["jump:sign", "jump:sign", "jump:sign"])
    #expect(ready.map(\.targetPort) == targets.map(String.init))
    #expect(ready.allSatisfy { $0.port > 0 })

    try ForwardHarness.expectTransfers(
      sinkPort: ready[0].port, sourcePort: ready[1].port, count: 16 << 20)
    try ForwardHarness.expectEcho(port: ready[2].port)

    #expect(
      ForwardHarness.logLines(lab, "sign", containing: "tcpip-forward listen localhost port 0")
        .count == 3)
    #expect(ForwardHarness.logLines(lab, "build", containing: "tcpip-forward").isEmpty)
    #expect(ForwardHarness.logLines(lab, "deep", containing: "tcpip-forward").isEmpty)
    for port in targets {
      #expect(
        ForwardHarness.waitForLogLine(
          lab, "deep", containing: "server_request_direct_tcpip", "target 127.0.0.1 port \(port)"),
        "deep's sshd opened a direct-tcpip channel to port \(port)")
    }
    #expect(try ForwardHarness.stop(fwd) == 0)
  }
}
