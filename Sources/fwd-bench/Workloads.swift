import Foundation
import FwdLab

/// The measurements made through a forward, each against the lab's echo, sink or source
/// service behind it.
enum Workloads {
  /// Returns the seconds from the tunnel's process start until an echo through its listener
  /// came back. Retries every millisecond while the listener refuses or drops connections.
  static func setupSeconds(_ tunnel: Tunnel, timeout: Double = 30) throws -> Double {
    let message = Array("setup\n".utf8)
    var lastError = "no attempt"
    while secondsSince(tunnel.startTime) < timeout {
      guard tunnel.isRunning else {
        throw BenchError(
          "\(tunnel.tool.name) exited before the first echo: \(tunnel.recentErrors)")
      }
      do {
        let remaining = timeout - secondsSince(tunnel.startTime)
        let socket = try BenchSocket(connectingTo: tunnel.ports.echo, timeout: remaining)
        try socket.echo(message, timeout: timeout - secondsSince(tunnel.startTime))
        let seconds = secondsSince(tunnel.startTime)
        socket.close()
        return seconds
      } catch {
        lastError = "\(error)"
        sleepSeconds(0.001)
      }
    }
    throw BenchError(
      "\(tunnel.tool.name): no echo within \(timeout) s of its start: \(lastError); "
        + "stderr: \(tunnel.recentErrors)")
  }

  /// Returns the seconds each of `count` connections took one after another: connect, one
  /// 32-byte echo, close. Throws at the first failure.
  static func connectionLatencies(port: Int, count: Int) throws -> [Double] {
    let message = Array("latency probe, 32 bytes long...\n".utf8)
    var seconds: [Double] = []
    seconds.reserveCapacity(count)
    for _ in 0..<count {
      let start = monotonicNanoseconds()
      let socket = try BenchSocket(connectingTo: port, timeout: 10)
      try socket.echo(message, timeout: 10)
      socket.close()
      seconds.append(secondsSince(start))
    }
    return seconds
  }

  /// Uploads `count` bytes to the sink behind `port`; returns the seconds from connect until
  /// the sink's reply, after checking its byte count and SHA-256.
  static func uploadSeconds(port: Int, count: Int) throws -> Double {
    let start = monotonicNanoseconds()
    let result = try LabClient.upload(port: port, count: count, timeout: transferTimeout(count))
    let seconds = secondsSince(start)
    guard result.isIntact else {
      throw BenchError(
        "upload of \(count) bytes: the sink received \(result.received), sent \(result.sent)")
    }
    return seconds
  }

  /// Downloads `count` bytes from the source behind `port` and checks their SHA-256 against
  /// `expectedSHA256`. Returns the seconds from connect until the source's EOF.
  static func downloadSeconds(port: Int, count: Int, expectedSHA256: String) throws -> Double {
    let start = monotonicNanoseconds()
    let result = try LabClient.download(port: port, count: count, timeout: transferTimeout(count))
    let seconds = secondsSince(start)
    guard result.count == count, result.sha256 == expectedSHA256 else {
      let mismatch = result.firstMismatch.map { ", first wrong byte at \($0)" } ?? ""
      throw BenchError(
        "download of \(count) bytes: received \(result.received), expected sha256 "
          + "\(expectedSHA256)\(mismatch)")
    }
    return seconds
  }

  /// Runs `streams` transfers of `countEach` bytes at once: half are uploads to the sink behind
  /// `sinkPort`, half downloads from the source behind `sourcePort`. Returns the seconds until
  /// the last one finished, or throws the first failure after all have ended.
  static func parallelSeconds(
    sinkPort: Int, sourcePort: Int, streams: Int, countEach: Int, expectedSHA256: String
  ) throws -> Double {
    let failures = FailureList()
    let finished = DispatchGroup()
    let start = monotonicNanoseconds()
    // One thread per stream: Dispatch's pool would run only as many as there are cores.
    for index in 0..<streams {
      finished.enter()
      let thread = Thread {
        defer { finished.leave() }
        do {
          if index % 2 == 0 {
            _ = try uploadSeconds(port: sinkPort, count: countEach)
          } else {
            _ = try downloadSeconds(
              port: sourcePort, count: countEach, expectedSHA256: expectedSHA256)
          }
        } catch {
          failures.append("stream \(index): \(error)")
        }
      }
      thread.name = "fwd-bench stream \(index)"
      thread.start()
    }
    finished.wait()
    let seconds = secondsSince(start)
    if let first = failures.first { throw BenchError("parallel transfer: \(first)") }
    return seconds
  }

  /// Returns the deadline for moving `count` bytes, generous so that only a stalled transfer
  /// fails.
  static func transferTimeout(_ count: Int) -> Duration {
    .seconds(60 + count / 5_000_000)
  }
}

/// Error messages collected from several threads.
final class FailureList: @unchecked Sendable {
  private let lock = NSLock()
  private var messages: [String] = []

  func append(_ message: String) {
    lock.withLock { messages.append(message) }
  }

  var first: String? {
    lock.withLock { messages.first }
  }
}
