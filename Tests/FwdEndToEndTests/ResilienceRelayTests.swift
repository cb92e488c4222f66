import Foundation
import FwdLab
import Glibc
import Testing

/// fwd through build and sign with a fault relay in front of each sshd: the network path to a
/// hop stalls, drops or slows down while every sshd keeps running.
// Serialized because the timing checks assume fwd and sshd get the CPU when they need it.
@Suite(
  .serialized, .enabled(if: Resilience.fwdIsBuilt, "needs the built fwd: run swift build"))
struct ResilienceRelayTests {
  /// Keepalives every second, a hop lost after 3 unanswered, and 2 s for a handshake or for a
  /// connection waiting on a rebuild.
  static let options = Resilience.fastKeepalive + ["-o", "ConnectTimeout=2"]
  /// A connection accepted while the chain is down may first wait for a rebuild attempt that
  /// blocks the accept loop for up to ConnectTimeout (2 s), then waits its own 2 s. The rest
  /// is slack for a loaded machine.
  static let pendingCloseLimit: Duration = .seconds(8)

  @Test(arguments: ["build", "sign"])
  func pausedHopIsDetectedAndRebuilt(_ hopName: String) throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let (fwd, ready) = try relayed.startFwd(options: Self.options)
    let port = ready[0].listenPort
    #expect(try Resilience.echoLine(port: port, "before") == "before")
    let relay = relayed[hopName]

    relay.pause()
    let lostLine = relayed.lostLine(hopName)
    let detection = Resilience.measure {
      _ = Resilience.waitForLog(fwd, lostLine, timeout: .seconds(10))
    }
    #expect(fwd.standardError.contains(lostLine), "stderr: \(fwd.standardError)")
    #expect(detection <= Resilience.frozenDetectionLimit, "detected after \(detection)")
    let lost = Resilience.line(containing: lostLine, in: fwd) ?? ""
    #expect(lost.contains("no answer from the server"), "line: \(lost)")

    // The listener stays bound while the relay is paused: a connection is accepted, waits for
    // the chain, and is closed once ConnectTimeout has passed.
    let waiting = try LabConnection(port: port)
    try waiting.write("waiting\n")
    let closedAfter = Resilience.measure {
      #expect(waiting.waitForClose(timeout: .seconds(15)), "stderr: \(fwd.standardError)")
    }
    #expect(closedAfter <= Self.pendingCloseLimit, "closed after \(closedAfter)")
    #expect(
      Resilience.waitForLog(fwd, "closed: the chain was not rebuilt within 2 s", timeout: .seconds(2)),
      "stderr: \(fwd.standardError)")

    relay.resume()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    #expect(try Resilience.echoLine(port: port, "after") == "after")
    #expect(FwdProcessLines.readyCount(fwd) == 1)
    #expect(fwd.isRunning)
    let errors = fwd.standardError
    #expect(errors.contains("rebuilding the chain from \(hopName)"), "stderr: \(errors)")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
  }

  /// While only sign's path stalls, build's session stays up: fwd rebuilds from sign and never
  /// connects to build again.
  @Test func pausedInnerHopLeavesFirstHopUp() throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let (fwd, ready) = try relayed.startFwd(options: Self.options)
    let port = ready[0].listenPort
    #expect(try Resilience.echoLine(port: port, "before") == "before")

    relayed["sign"].pause()
    #expect(
      Resilience.waitForLog(fwd, relayed.lostLine("sign"), timeout: .seconds(10)),
      "stderr: \(fwd.standardError)")
    // Two rebuild attempts time out against the paused relay before it resumes.
    #expect(
      Resilience.waitForLog(fwd, "rebuilding the chain from sign", count: 2, timeout: .seconds(15)),
      "stderr: \(fwd.standardError)")
    relayed["sign"].resume()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    #expect(try Resilience.echoLine(port: port, "after") == "after")

    let errors = fwd.standardError
    #expect(!errors.contains(relayed.lostLine("build")), "stderr: \(errors)")
    #expect(!errors.contains("rebuilding the chain from build"), "stderr: \(errors)")
    #expect(relayed["build"].acceptedConnections == 1)
    #expect(relayed["sign"].acceptedConnections >= 3)
  }

  @Test(arguments: ["build", "sign"])
  func droppedHopEndsTransferAndRebuilds(_ hopName: String) throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let lab = relayed.lab
    let (fwd, ready) = try relayed.startFwd(
      options: Self.options, targetPorts: [lab.sourcePort])
    let port = ready[0].listenPort
    let connection = try LabConnection(port: port)
    let count = 1 << 30
    try connection.write("\(count)\n")
    var received = 0
    while received < 1 << 20 {
      received += try connection.read(timeout: .seconds(10)).count
    }

    relayed[hopName].dropAll()
    let dropped = ContinuousClock.now
    #expect(connection.waitForClose(timeout: .seconds(10)), "stderr: \(fwd.standardError)")
    let closedAfter = ContinuousClock.now - dropped
    #expect(closedAfter <= Resilience.killDetectionLimit, "closed after \(closedAfter)")
    let lostLine = relayed.lostLine(hopName)
    _ = Resilience.waitForLog(fwd, lostLine, timeout: .seconds(10))
    let detection = ContinuousClock.now - dropped
    #expect(fwd.standardError.contains(lostLine), "stderr: \(fwd.standardError)")
    #expect(detection <= Resilience.killDetectionLimit, "detected after \(detection)")
    // The client's channel runs on sign's session, so its line names sign even when build
    // was lost first and took sign's session down with it.
    #expect(
      Resilience.waitForLog(fwd, "conn 1: closed: sign was lost", timeout: .seconds(2)),
      "stderr: \(fwd.standardError)")

    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    let download = try LabClient.download(port: port, count: 1 << 20)
    #expect(download.count == 1 << 20)
    #expect(download.sha256 == LabClient.expectedSourceSHA256(count: 1 << 20))
    #expect(FwdProcessLines.readyCount(fwd) == 1)
  }

  /// While build's relay rejects new connections, each rebuild attempt fails at once. The
  /// attempts follow the backoff: the first 1 s after the loss, the next ones 1 s, 2 s and 4 s
  /// apart, each with up to 20 % random jitter on top.
  @Test func rejectedFirstHopIsRetriedWithBackoff() throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let (fwd, ready) = try relayed.startFwd(options: Self.options)
    let port = ready[0].listenPort
    #expect(try Resilience.echoLine(port: port) == "ping")
    let relay = relayed["build"]

    relay.refuseNew(true)
    relay.dropAll()
    let dropped = ContinuousClock.now
    let attemptLine = "rebuilding the chain from build"
    var events: [ContinuousClock.Instant] = []
    while events.count < 3 && ContinuousClock.now - dropped < .seconds(15) {
      let count = Resilience.occurrences(of: attemptLine, in: fwd.standardError)
      while events.count < count { events.append(ContinuousClock.now) }
      usleep(10_000)
    }
    // The line comes before the attempt connects, so the relay must reject that connection
    // before it lets the next one through.
    #expect(Resilience.wait(timeout: .seconds(5)) { relay.counters.refused == 3 })
    relay.refuseNew(false)
    #expect(events.count == 3, "stderr: \(fwd.standardError)")
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after 4 attempts", timeout: .seconds(15)),
      "stderr: \(fwd.standardError)")
    events.append(ContinuousClock.now)

    // Each time is seen up to 10 ms late by the loop above, hence the 100 ms of slack.
    let backoffs: [Duration] = [.seconds(1), .seconds(1), .seconds(2), .seconds(4)]
    for (index, (start, end)) in zip([dropped] + events, events).enumerated() {
      let gap = end - start
      #expect(gap >= backoffs[index] - .milliseconds(100), "attempt \(index + 1) after \(gap)")
      #expect(gap <= backoffs[index] * 1.2 + .seconds(2), "attempt \(index + 1) after \(gap)")
    }
    #expect(try Resilience.echoLine(port: port, "after") == "after")
  }

  @Test func delayedHopsCarry16MiBIntact() throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    for relay in relayed.relays.values { relay.delay(milliseconds: 50) }
    let lab = relayed.lab
    let (fwd, ready) = try relayed.startFwd(
      options: Self.options, targetPorts: [lab.sinkPort, lab.sourcePort])
    let count = 16 << 20

    let (upload, download) = try ChainHarness.runConcurrently(
      { try LabClient.upload(port: ready[0].listenPort, count: count, timeout: .seconds(60)) },
      { try LabClient.download(port: ready[1].listenPort, count: count, timeout: .seconds(60)) })
    #expect(upload.sent.count == count)
    #expect(upload.received.count == count)
    #expect(upload.received.sha256 == upload.sent.sha256)
    #expect(download.count == count)
    #expect(download.sha256 == LabClient.expectedSourceSHA256(count: count))
    #expect(!fwd.standardError.contains("lost"), "stderr: \(fwd.standardError)")
  }

  /// A hop paused while an upload fills every buffer on the path: fwd's sends block, and the
  /// silence from the server must still be noticed.
  @Test(arguments: ["build", "sign"])
  func pausedHopDuringUploadIsDetected(_ hopName: String) throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let lab = relayed.lab
    let (fwd, ready) = try relayed.startFwd(options: Self.options, targetPorts: [lab.sinkPort])
    let connection = try LabConnection(port: ready[0].listenPort)
    let uploader = ThreadResult {
      let chunk = [UInt8](repeating: 0x5a, count: 1 << 20)
      while true {
        try connection.write(chunk, timeout: .seconds(30))
      }
    }
    let relay = relayed[hopName]
    #expect(Resilience.wait(timeout: .seconds(10)) { relay.bytesToTarget > 4 << 20 })

    relay.pause()
    let lostLine = relayed.lostLine(hopName)
    let detection = Resilience.measure {
      _ = Resilience.waitForLog(fwd, lostLine, timeout: .seconds(10))
    }
    #expect(fwd.standardError.contains(lostLine), "stderr: \(fwd.standardError)")
    #expect(detection <= Resilience.frozenDetectionLimit, "detected after \(detection)")
    #expect(throws: LabError.self) { try uploader.wait() }

    relay.resume()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(20)),
      "stderr: \(fwd.standardError)")
    let upload = try LabClient.upload(port: ready[0].listenPort, count: 1 << 20)
    #expect(upload.isIntact, "sent \(upload.sent), sink received \(upload.received)")
  }

  /// A hop paused right after the ready line, before any connection, is noticed as well.
  @Test(arguments: ["build", "sign"])
  func pausedRightAfterReadyIsDetected(_ hopName: String) throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let (fwd, _) = try relayed.startFwd(options: Self.options)

    relayed[hopName].pause()
    let lostLine = relayed.lostLine(hopName)
    let detection = Resilience.measure {
      _ = Resilience.waitForLog(fwd, lostLine, timeout: .seconds(10))
    }
    #expect(fwd.standardError.contains(lostLine), "stderr: \(fwd.standardError)")
    #expect(detection <= Resilience.frozenDetectionLimit, "detected after \(detection)")
  }

  /// SIGTERM while a rebuild attempt waits on a paused relay ends fwd at once, without
  /// waiting for the handshake's ConnectTimeout (20 s here).
  @Test(arguments: ["build", "sign"])
  func sigtermDuringStalledRebuildExits(_ hopName: String) throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let (fwd, ready) = try relayed.startFwd(
      options: Resilience.fastKeepalive + ["-o", "ConnectTimeout=20"])
    #expect(try Resilience.echoLine(port: ready[0].listenPort) == "ping")
    relayed[hopName].pause()
    #expect(
      Resilience.waitForLog(fwd, "rebuilding the chain from \(hopName)", timeout: .seconds(10)),
      "stderr: \(fwd.standardError)")
    // The line comes just before the attempt connects, so the handshake starts meanwhile.
    usleep(300_000)

    fwd.terminate()
    var status: Int32 = -1
    let elapsed = try Resilience.measure { status = try fwd.waitForExit(timeout: .seconds(30)) }
    #expect(status == 0, "stderr: \(fwd.standardError)")
    #expect(elapsed <= .seconds(2), "exited after \(elapsed)")
  }

  @Test func pausedFirstHopWithNoRebuildExits() throws {
    let relayed = try RelayedLab()
    defer { relayed.shutdown() }
    let (fwd, ready) = try relayed.startFwd(options: Self.options + ["--no-rebuild"])
    #expect(try Resilience.echoLine(port: ready[0].listenPort) == "ping")

    relayed["build"].pause()
    var status: Int32 = -1
    let elapsed = try Resilience.measure {
      status = try fwd.waitForExit(timeout: .seconds(10))
    }
    #expect(status == 75, "stderr: \(fwd.standardError)")
    #expect(elapsed <= Resilience.frozenDetectionLimit, "exited after \(elapsed)")
    #expect(fwd.standardError.contains(relayed.lostLine("build")), "stderr: \(fwd.standardError)")
    #expect(!fwd.standardError.contains("rebuilding the chain"))
  }
}
