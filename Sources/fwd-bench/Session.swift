import FwdLab
import Glibc

/// The sizes and counts of one benchmark run.
struct BenchSettings: Sendable {
  /// Bytes per single-stream transfer, and in total over the parallel streams.
  var transferBytes = 1 << 30
  var parallelStreams = 8
  var rounds = 3
  var latencyConnections = 200
  var burstConnections = 1000
}

/// The figures of one tool in one round, and what failed.
struct Measurements {
  var values: [Figure: Double] = [:]
  var errors: [String] = []
}

/// The measurements of one tool in one round, each workload after the other through the same
/// running tunnel.
struct Session {
  let lab: Lab
  /// The echo, sink and source services that every workload reaches, directly or through a
  /// tunnel.
  let services: ServicePorts
  let settings: BenchSettings
  /// The SHA-256 of a single-stream download and of one parallel stream.
  let expectedSHA256: (single: String, stream: String)

  /// Starts `tool`, measures every figure through it, and stops it.
  func measure(_ tool: TunnelTool) -> Measurements {
    var result = Measurements()
    let tunnel: Tunnel
    do {
      tunnel = try Tunnel(tool: tool, targets: services)
      result.values[.setup] = try Workloads.setupSeconds(tunnel) * 1000
    } catch {
      result.errors.append("setup: \(error)")
      return result
    }
    defer {
      tunnel.stop()
      waitForLabToSettle()
    }
    // Let the tool finish whatever it does after the first connection before sampling.
    sleepSeconds(0.5)
    result.values[.idleRSS] = mebibytes(ProcessStats.residentBytes(of: tunnel.processIDs))

    measureTraffic(through: tunnel.ports, into: &result) { tunnel.processIDs }
    result.values[.peakRSS] = mebibytes(ProcessStats.peakResidentBytes(of: tunnel.processIDs))
    if !tunnel.isRunning {
      result.errors.append("\(tool.name) exited during the round: \(tunnel.recentErrors)")
    }
    return result
  }

  /// Measures the lab services directly, without a tunnel, to show the ceiling they set.
  func measureLoopback() -> Measurements {
    var result = Measurements()
    measureTraffic(through: services, into: &result) { [] }
    return result
  }

  /// Measures latency, throughput and the burst through `ports`. The CPU time of the processes
  /// that `processIDs` returns is taken before and after the transfers.
  private func measureTraffic(
    through ports: ServicePorts, into result: inout Measurements, processIDs: () -> [pid_t]
  ) {
    record(.latencyP50, .latencyP99, into: &result) {
      let seconds = try Workloads.connectionLatencies(
        port: ports.echo, count: settings.latencyConnections)
      return [percentile(seconds, 0.50) * 1000, percentile(seconds, 0.99) * 1000]
    }

    let cpuBefore = ProcessStats.cpuSeconds(of: processIDs())
    var transfersIntact = true
    let size = settings.transferBytes
    transfersIntact =
      record(.upload, into: &result) {
        [megabytesPerSecond(size, try Workloads.uploadSeconds(port: ports.sink, count: size))]
      } && transfersIntact
    transfersIntact =
      record(.download, into: &result) {
        let seconds = try Workloads.downloadSeconds(
          port: ports.source, count: size, expectedSHA256: expectedSHA256.single)
        return [megabytesPerSecond(size, seconds)]
      } && transfersIntact
    transfersIntact =
      record(.parallel, into: &result) {
        let seconds = try Workloads.parallelSeconds(
          sinkPort: ports.sink, sourcePort: ports.source, streams: settings.parallelStreams,
          countEach: streamBytes, expectedSHA256: expectedSHA256.stream)
        return [megabytesPerSecond(streamBytes * settings.parallelStreams, seconds)]
      } && transfersIntact
    let pids = processIDs()
    if transfersIntact && !pids.isEmpty {
      let movedBytes = 2 * size + streamBytes * settings.parallelStreams
      let cpu = ProcessStats.cpuSeconds(of: pids) - cpuBefore
      result.values[.cpuPerGiB] = cpu / (Double(movedBytes) / Double(1 << 30))
    }

    let burst = ConnectionBurst(port: ports.echo, count: settings.burstConnections, timeout: 60)
      .run()
    result.values[.concurrentServed] = Double(burst.served)
    result.values[.concurrentSeconds] = burst.seconds
    if let error = burst.firstError {
      result.errors.append("burst: \(burst.failed) failed, first: \(error)")
    }
  }

  /// Bytes of each parallel stream: the transfer size split over the streams.
  var streamBytes: Int { settings.transferBytes / settings.parallelStreams }

  /// Runs `body` and stores its values under `figures`; records the error instead when it
  /// throws. Returns whether it succeeded.
  @discardableResult
  private func record(
    _ figures: Figure..., into result: inout Measurements, body: () throws -> [Double]
  ) -> Bool {
    do {
      for (figure, value) in zip(figures, try body()) { result.values[figure] = value }
      return true
    } catch {
      result.errors.append("\(figures[0].rawValue): \(error)")
      return false
    }
  }

  /// Waits until the lab's sshd processes of the last tunnel have ended, at most 10 seconds,
  /// so that they do not compete with the next measurement.
  private func waitForLabToSettle() {
    let deadline = monotonicNanoseconds() + 10_000_000_000
    while lab.processIDs().count > lab.hosts.count && monotonicNanoseconds() < deadline {
      sleepSeconds(0.05)
    }
  }
}

func mebibytes(_ bytes: Int) -> Double {
  Double(bytes) / Double(1 << 20)
}

func megabytesPerSecond(_ bytes: Int, _ seconds: Double) -> Double {
  Double(bytes) / 1e6 / seconds
}
