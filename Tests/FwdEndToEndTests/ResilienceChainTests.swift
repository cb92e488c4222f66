import Foundation
import FwdLab
import Glibc
import Testing

/// fwd through build and sign while one hop freezes (SIGSTOP) or its sshd is killed: the lost
/// hop is logged by name, the chain is rebuilt from it, and the same local port serves again.
// Serialized because the timing checks assume fwd and sshd get the CPU when they need it.
@Suite(
  .serialized, .enabled(if: Resilience.fwdIsBuilt, "needs the built fwd: run swift build"))
struct ResilienceChainTests {
  @Test(arguments: ["build", "sign"])
  func frozenHopIsDetectedAndRebuilt(_ hopName: String) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab)
    let port = ready[0].listenPort
    #expect(try Resilience.echoLine(port: port, "before") == "before")

    let host = lab[hopName]
    let lostLine = "\(hopName): connection to \(hopName) (127.0.0.1:\(host.port)) lost:"
    Resilience.freeze(host)
    let detection = Resilience.measure {
      _ = Resilience.waitForLog(fwd, lostLine, timeout: .seconds(10))
    }
    #expect(
      fwd.standardError.contains(lostLine), "stderr: \(fwd.standardError)")
    #expect(detection <= Resilience.frozenDetectionLimit, "detected after \(detection)")
    let lost = Resilience.line(containing: lostLine, in: fwd) ?? ""
    #expect(lost.contains("no answer from the server"), "line: \(lost)")

    host.thaw()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    #expect(try Resilience.echoLine(port: port, "after") == "after")
    // The listener was never closed, so no second ready line was printed.
    #expect(FwdProcessLines.readyCount(fwd) == 1)
    #expect(fwd.isRunning)
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
  }

  @Test(arguments: ["build", "sign"])
  func frozenHopRestartedIsRebuilt(_ hopName: String) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab)
    let port = ready[0].listenPort

    let host = lab[hopName]
    Resilience.freeze(host)
    #expect(
      Resilience.waitForLog(fwd, "\(hopName): connection to ", timeout: .seconds(10)),
      "stderr: \(fwd.standardError)")
    try host.restart()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(40)),
      "stderr: \(fwd.standardError)")
    #expect(try Resilience.echoLine(port: port, "after restart") == "after restart")
  }

  @Test(arguments: ["build", "sign"])
  func killedHopIsDetectedAndRebuilt(_ hopName: String) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab)
    let port = ready[0].listenPort
    #expect(try LabClient.echo(port: port, bytes: 1 << 20) == 1 << 20)

    let host = lab[hopName]
    let lostLine = "\(hopName): connection to \(hopName) (127.0.0.1:\(host.port)) lost:"
    var killed = 0
    let detection = Resilience.measure {
      killed = Resilience.killConnections(of: host)
      _ = Resilience.waitForLog(fwd, lostLine, timeout: .seconds(10))
    }
    #expect(killed > 0)
    #expect(fwd.standardError.contains(lostLine), "stderr: \(fwd.standardError)")
    #expect(detection <= Resilience.killDetectionLimit, "detected after \(detection)")

    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    #expect(try LabClient.echo(port: port, bytes: 1 << 20) == 1 << 20)
    #expect(FwdProcessLines.readyCount(fwd) == 1)
  }

  @Test(arguments: ["build", "sign"])
  func openConnectionsCloseWhenHopIsLost(_ hopName: String) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab)
    let connection = try LabConnection(port: ready[0].listenPort)
    try connection.write("open\n")
    #expect(try connection.readLine() == "open")

    Resilience.freeze(lab[hopName])
    defer { lab[hopName].thaw() }
    let closedAfter = Resilience.measure {
      #expect(connection.waitForClose(timeout: .seconds(12)), "stderr: \(fwd.standardError)")
    }
    // Detection takes up to 5 s; the close follows within a second or two.
    #expect(closedAfter <= .seconds(7), "closed after \(closedAfter)")
    #expect(
      Resilience.waitForLog(fwd, "conn 1: closed", timeout: .seconds(5)),
      "stderr: \(fwd.standardError)")
  }

  @Test func connectionDuringRebuildIsServedOnceBack() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab)
    // An echo first: until sign has confirmed fwd's first channel, a freeze goes unnoticed
    // (see frozenRightAfterReadyIsDetected).
    #expect(try Resilience.echoLine(port: ready[0].listenPort) == "ping")
    let sign = lab["sign"]
    Resilience.freeze(sign)
    #expect(Resilience.waitForLog(fwd, "sign: connection to ", timeout: .seconds(10)))

    let connection = try LabConnection(port: ready[0].listenPort)
    try connection.write("waiting\n")
    sleep(1)
    sign.thaw()
    #expect(try connection.readLine(timeout: .seconds(20)) == "waiting")
    #expect(fwd.standardError.contains("chain rebuilt after"))
  }

  @Test func connectionDuringRebuildClosesAfterConnectTimeout() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(
      lab, options: Resilience.fastKeepalive + ["-o", "ConnectTimeout=2"])
    // An echo first: until sign has confirmed fwd's first channel, a freeze goes unnoticed
    // (see frozenRightAfterReadyIsDetected).
    #expect(try Resilience.echoLine(port: ready[0].listenPort) == "ping")
    let sign = lab["sign"]
    Resilience.freeze(sign)
    defer { sign.thaw() }
    #expect(Resilience.waitForLog(fwd, "sign: connection to ", timeout: .seconds(10)))

    let connection = try LabConnection(port: ready[0].listenPort)
    try connection.write("never served\n")
    // A rebuild attempt blocks the accept loop for up to ConnectTimeout while sign's handshake
    // hangs, so the connection may wait for one attempt before its own 2 s start.
    let closedAfter = Resilience.measure {
      #expect(connection.waitForClose(timeout: .seconds(15)))
    }
    #expect(closedAfter >= .milliseconds(1500), "closed after \(closedAfter)")
    #expect(closedAfter <= .seconds(8), "closed after \(closedAfter)")
    #expect(
      Resilience.waitForLog(fwd, "closed: the chain was not rebuilt within 2 s", timeout: .seconds(2)),
      "stderr: \(fwd.standardError)")
    #expect(fwd.isRunning)
  }

  /// A hop frozen while its loop still opens the idle drain channel, right after the ready
  /// line, is reported lost within the keepalive limit.
  @Test func frozenRightAfterReadyIsDetected() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, _) = try Resilience.start(lab)
    Resilience.freeze(lab["sign"])
    defer { lab["sign"].thaw() }
    #expect(
      Resilience.waitForLog(fwd, "sign: connection to ", timeout: .seconds(10)),
      "stderr: \(fwd.standardError)")
  }

  @Test func noRebuildExitsWithChainLost() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, _) = try Resilience.start(lab, options: Resilience.fastKeepalive + ["--no-rebuild"])
    Resilience.killConnections(of: lab["sign"])
    #expect(try fwd.waitForExit(timeout: .seconds(5)) == 75, "stderr: \(fwd.standardError)")
    #expect(fwd.standardError.contains("sign: connection to "))
    #expect(!fwd.standardError.contains("rebuilding the chain"))
  }

  @Test func rebuildAttemptsLimitExitsWithChainLost() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, _) = try Resilience.start(
      lab, options: Resilience.fastKeepalive + ["--rebuild-attempts", "2"])
    lab["build"].stop()
    // Attempt 1 at once, attempt 2 after the 1 to 1.2 s backoff; both are refused at once.
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 75, "stderr: \(fwd.standardError)")
    let errors = fwd.standardError
    #expect(Resilience.occurrences(of: "rebuilding the chain from build", in: errors) == 2)
    #expect(errors.contains("giving up after 2 rebuild attempts"), "stderr: \(errors)")
  }
}

/// Counts the ready lines fwd printed so far.
enum FwdProcessLines {
  static func readyCount(_ fwd: FwdProcess) -> Int {
    fwd.standardOutput.split(separator: "\n").filter { ReadyLine(parsing: $0) != nil }.count
  }
}
