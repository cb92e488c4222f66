import FwdLab
import Glibc
import Testing

/// Stopping fwd with a signal, and what it logs at each verbosity.
@Suite struct ChainSignalTests {
  static func echoArguments(_ lab: Lab) -> [String] {
    ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"]
  }

  @Test(arguments: [SIGINT, SIGTERM])
  func signalStopsRunWithOpenConnection(_ signalNumber: Int32) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(lab, Self.echoArguments(lab), forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    let connection = try LabConnection(host: echo.listenAddress, port: echo.listenPort)
    try connection.write("still open\n")
    #expect(try connection.readLine(timeout: .seconds(30)) == "still open")

    let clock = ContinuousClock()
    let signalled = clock.now
    fwd.process.send(signal: signalNumber)
    let status = try fwd.process.waitForExit(timeout: ChainHarness.exitTimeout)
    let elapsed = clock.now - signalled
    #expect(status == 0, "stderr: \(fwd.process.standardError)")
    // The limit is fwd's promise to a user at a terminal or a service manager, not a speed
    // measurement. Chain.stop gives the hops 1.5 s in all.
    #expect(elapsed < .seconds(2), "fwd took \(elapsed) to exit")
    #expect(connection.waitForClose(timeout: .seconds(10)), "the client connection stayed open")
  }

  /// A client that sends to the echo service but never reads stalls every buffer on the path:
  /// the echo blocks on its reply, so sign's sshd cannot deliver what fwd sent, and its
  /// channel window stays closed. fwd must still stop promptly.
  @Test func signalStopsRunWithStalledConnection() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(lab, Self.echoArguments(lab), forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    let connection = try LabConnection(host: echo.listenAddress, port: echo.listenPort)
    defer { connection.close() }
    let chunk = TestPattern.bytes(count: 1 << 20)
    // The sender ends with an error once fwd has exited and its end of the socket is closed.
    let sender = ThreadResult {
      while true { try connection.write(chunk, timeout: .seconds(120)) }
    }
    #expect(try !connection.read(timeout: .seconds(30)).isEmpty, "no echo arrived")
    // Time for the buffers on the path to fill. With less, the test still checks a clean stop.
    usleep(1_000_000)

    let clock = ContinuousClock()
    let signalled = clock.now
    fwd.process.terminate()
    let status = try fwd.process.waitForExit(timeout: ChainHarness.exitTimeout)
    let elapsed = clock.now - signalled
    #expect(status == 0, "stderr: \(fwd.process.standardError)")
    #expect(elapsed < .seconds(2), "fwd took \(elapsed) to exit")
    #expect(throws: LabError.self, "the sender went on after fwd exited") { try sender.wait() }
  }

  @Test func verboseRunLogsNegotiatedAlgorithmsPerHop() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(lab, ["-vvv"] + Self.echoArguments(lab), forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    #expect(try LabClient.echo(host: echo.listenAddress, port: echo.listenPort, bytes: 1000) > 0)
    #expect(try fwd.stop() == 0)

    let lines = fwd.process.standardError.split(separator: "\n")
    for hop in ["build", "sign"] {
      let handshake = lines.filter { $0.contains(" \(hop): ") && $0.contains("kex ") }
      #expect(handshake.count == 1, "\(hop): \(handshake)")
      guard let line = handshake.first else { continue }
      for field in ["kex ", "host key ", "cipher ", "mac "] {
        #expect(line.contains(field), "\(hop): '\(field)' missing from \(line)")
      }
      #expect(!line.contains("?"), "\(hop): an algorithm is unknown in \(line)")
    }
  }

  @Test func quietCleanRunWritesNothingToStderr() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(lab, ["-q"] + Self.echoArguments(lab), forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    #expect(try LabClient.echo(host: echo.listenAddress, port: echo.listenPort, bytes: 1000) > 0)
    #expect(try fwd.stop() == 0)
    #expect(fwd.process.standardError.isEmpty, "stderr: \(fwd.process.standardError)")
    #expect(fwd.process.standardOutput.split(separator: "\n").count == 1)
  }
}
