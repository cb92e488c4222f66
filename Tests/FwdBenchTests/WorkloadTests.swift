import FwdLab
import Glibc
import Testing

@testable import fwd_bench

/// The workloads against the lab's echo service directly, without a tunnel.
@Suite struct WorkloadTests {
  @Test func burstAllServed() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let outcome = ConnectionBurst(port: echo.port, count: 300, timeout: 30).run()
    #expect(outcome.served == 300)
    #expect(outcome.failed == 0)
    #expect(outcome.firstError == nil)
    #expect(outcome.seconds < 30)
  }

  @Test func burstToClosedPortFails() throws {
    let port = try freePort()
    let outcome = ConnectionBurst(port: port, count: 20, timeout: 10).run()
    #expect(outcome.served == 0)
    #expect(outcome.failed == 20)
    #expect(outcome.firstError?.contains("refused") == true)
  }

  @Test func latenciesOnePerConnection() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let seconds = try Workloads.connectionLatencies(port: echo.port, count: 50)
    #expect(seconds.count == 50)
    #expect(seconds.allSatisfy { $0 > 0 })
    #expect(seconds.allSatisfy { $0 < 10 })
    #expect(echo.acceptedConnections == 50)
  }

  @Test func transfersCheckedBothWays() throws {
    let sink = try LabService(.sink)
    let source = try LabService(.source)
    defer {
      sink.stop()
      source.stop()
    }
    let count = 3 << 20
    let expected = LabClient.expectedSourceSHA256(count: count)
    #expect(try Workloads.uploadSeconds(port: sink.port, count: count) > 0)
    #expect(
      try Workloads.downloadSeconds(port: source.port, count: count, expectedSHA256: expected) > 0)
    #expect(throws: BenchError.self) {
      try Workloads.downloadSeconds(port: source.port, count: count, expectedSHA256: "0")
    }
    let parallel = try Workloads.parallelSeconds(
      sinkPort: sink.port, sourcePort: source.port, streams: 4, countEach: count / 4,
      expectedSHA256: LabClient.expectedSourceSHA256(count: count / 4))
    #expect(parallel > 0)
  }

  @Test func processStatsOfThisProcess() {
    let pids = [getpid()]
    _ = (0..<200_000).reduce(0, &+)
    #expect(ProcessStats.cpuSeconds(of: pids) > 0)
    let resident = ProcessStats.residentBytes(of: pids)
    #expect(resident > 1 << 20)
    #expect(ProcessStats.peakResidentBytes(of: pids) >= resident)
    #expect(ProcessStats.residentBytes(of: [pid_t.max]) == 0)
  }
}
