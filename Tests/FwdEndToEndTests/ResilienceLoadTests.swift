import Foundation
import FwdLab
import Glibc
import Testing

/// fwd under sustained load: re-keys in the middle of parallel streams, thousands of short
/// connections, and a reader that stops reading. FWD_SOAK=1 runs the long variants.
// Serialized because the timing checks assume fwd and sshd get the CPU when they need it.
@Suite(
  .serialized, .enabled(if: Resilience.fwdIsBuilt, "needs the built fwd: run swift build"))
struct ResilienceLoadTests {
  /// Runs `body` on `count` threads at once and returns the errors they threw.
  static func runInParallel(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void)
    -> [String]
  {
    let group = DispatchGroup()
    let lock = NSLock()
    nonisolated(unsafe) var errors: [String] = []
    for index in 0..<count {
      group.enter()
      let thread = Thread {
        do {
          try body(index)
        } catch {
          lock.withLock { errors.append("stream \(index): \(error)") }
        }
        group.leave()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    group.wait()
    return lock.withLock { errors }
  }

  @Test func rekeyUnderParallelLoad() throws {
    // sshd re-keys after every MiB in each direction, so each stream crosses many re-keys.
    let options = ["build", "sign"].map { LabHostOptions($0, sshdConfig: ["RekeyLimit 1M"]) }
    let lab = try Lab(hosts: options)
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab, targetPorts: [lab.sinkPort, lab.sourcePort])
    let (sinkPort, sourcePort) = (ready[0].listenPort, ready[1].listenPort)
    let count = Resilience.streamMegabytes << 20
    let expected = LabClient.expectedSourceSHA256(count: count)
    let timeout = Duration.seconds(Resilience.isSoak ? 900 : 240)

    let uploads = NSLock()
    nonisolated(unsafe) var intact = 0
    let errors = Self.runInParallel(16) { index in
      if index < 8 {
        let result = try LabClient.upload(port: sinkPort, count: count, timeout: timeout)
        guard result.isIntact else {
          throw LabError("upload \(index): sent \(result.sent), sink received \(result.received)")
        }
      } else {
        let result = try LabClient.download(port: sourcePort, count: count, timeout: timeout)
        guard result.count == count, result.sha256 == expected else {
          throw LabError(
            "download \(index): received \(result.received), expected \(count) bytes, sha256 "
              + expected)
        }
      }
      uploads.withLock { intact += 1 }
    }
    #expect(errors.isEmpty, "\(errors); stderr: \(fwd.standardError)")
    #expect(intact == 16)
    #expect(fwd.isRunning)
    #expect(!fwd.standardError.contains("lost"), "stderr: \(fwd.standardError)")
  }

  @Test func connectionChurnReturnsToBaseline() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(
      lab, environment: Resilience.memoryMeasurementEnvironment)
    let port = ready[0].listenPort
    // Warm-up: the first connections allocate buffers and thread caches that stay.
    for index in 0..<100 { _ = try Resilience.echoLine(port: port, "warm \(index)") }
    sleep(1)
    let baselineFDs = Resilience.openDescriptors(fwd.pid)
    let baselineRSS = Resilience.residentKiB(fwd.pid)

    let total = Resilience.isSoak ? 10_000 : 2_000
    for index in 0..<total {
      let reply = try Resilience.echoLine(port: port, "churn \(index)")
      guard reply == "churn \(index)" else {
        Issue.record("connection \(index): echoed '\(reply)'")
        break
      }
    }
    // Each channel closes on the hop's thread shortly after the client's close.
    let settled = Resilience.wait(timeout: .seconds(10)) {
      Resilience.openDescriptors(fwd.pid) <= baselineFDs
    }
    #expect(settled, "descriptors \(Resilience.openDescriptors(fwd.pid)), baseline \(baselineFDs)")
    // glibc's malloc keeps some freed pages in its per-thread arenas instead of returning them,
    // so RSS may sit a few MiB above the baseline without a leak; a leak of even 4 KiB per
    // connection would exceed 8 MiB after 2,000 connections.
    let rss = Resilience.residentKiB(fwd.pid)
    #expect(rss <= baselineRSS + 8 * 1024, "RSS \(rss) KiB, baseline \(baselineRSS) KiB")
    #expect(fwd.isRunning)
  }

  @Test func stalledReaderKeepsMemoryBounded() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(
      lab, targetPorts: [lab.sourcePort], environment: Resilience.memoryMeasurementEnvironment)
    let baselineRSS = Resilience.residentKiB(fwd.pid)
    let count = (Resilience.isSoak ? 1024 : 128) << 20
    let pause = Resilience.isSoak ? 30 : 10

    let connection = try LabConnection(port: ready[0].listenPort)
    try connection.write("\(count)\n")
    var peakRSS = baselineRSS
    let pauseEnd = ContinuousClock.now + .seconds(pause)
    while ContinuousClock.now < pauseEnd {
      peakRSS = max(peakRSS, Resilience.residentKiB(fwd.pid))
      usleep(200_000)
    }
    #expect(
      peakRSS <= baselineRSS + 64 * 1024, "peak RSS \(peakRSS) KiB, baseline \(baselineRSS) KiB")

    var hasher = SHA256()
    var received = 0
    while true {
      let chunk = try connection.read(timeout: .seconds(60))
      if chunk.isEmpty { break }
      hasher.update(chunk)
      received += chunk.count
      if received % (16 << 20) < chunk.count {
        peakRSS = max(peakRSS, Resilience.residentKiB(fwd.pid))
      }
    }
    #expect(received == count)
    #expect(hasher.hexDigest() == LabClient.expectedSourceSHA256(count: count))
    #expect(
      peakRSS <= baselineRSS + 64 * 1024, "peak RSS \(peakRSS) KiB, baseline \(baselineRSS) KiB")
  }
}
