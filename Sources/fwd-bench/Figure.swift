import Foundation

/// One measured quantity of the benchmark, with its unit and the target fwd is held to.
enum Figure: String, CaseIterable, Sendable {
  case setup
  case latencyP50
  case latencyP99
  case upload
  case download
  case parallel
  case cpuPerGiB
  case idleRSS
  case peakRSS
  case concurrentServed
  case concurrentSeconds

  /// The rule fwd's figure is checked against.
  enum Target {
    /// fwd / ssh at most `ratio`.
    case ratioAtMost(Double)
    /// fwd / ssh at least `ratio`, ideally `aim`.
    case ratioAtLeast(Double, aim: Double)
    /// Every connection of the burst served in every round.
    case allServed
    case none
  }

  var title: String {
    switch self {
    case .setup: "Tunnel setup, start to first echo"
    case .latencyP50: "New connection, p50"
    case .latencyP99: "New connection, p99"
    case .upload: "Throughput up, 1 stream"
    case .download: "Throughput down, 1 stream"
    case .parallel: "Throughput, 8 streams (4 up, 4 down)"
    case .cpuPerGiB: "Client CPU per GiB moved"
    case .idleRSS: "Idle RSS, all processes"
    case .peakRSS: "Peak RSS, all processes"
    case .concurrentServed: "Concurrent burst, connections served"
    case .concurrentSeconds: "Concurrent burst, time until all answered"
    }
  }

  /// A short label for the chart.
  var chartLabel: String {
    switch self {
    case .setup: "setup"
    case .latencyP50: "latency p50"
    case .latencyP99: "latency p99"
    case .upload: "up"
    case .download: "down"
    case .parallel: "8 streams"
    case .cpuPerGiB: "CPU/GiB"
    case .idleRSS: "idle RSS"
    case .peakRSS: "peak RSS"
    case .concurrentServed: "burst served"
    case .concurrentSeconds: "burst time"
    }
  }

  var unit: String {
    switch self {
    case .setup, .latencyP50, .latencyP99: "ms"
    case .upload, .download, .parallel: "MB/s"
    case .cpuPerGiB: "CPU s/GiB"
    case .idleRSS, .peakRSS: "MiB"
    case .concurrentServed: "count"
    case .concurrentSeconds: "s"
    }
  }

  var isHigherBetter: Bool {
    switch self {
    case .upload, .download, .parallel, .concurrentServed: true
    default: false
    }
  }

  var target: Target {
    switch self {
    case .upload, .download, .parallel: .ratioAtLeast(1.0, aim: 1.5)
    case .setup: .ratioAtMost(0.7)
    case .latencyP50, .latencyP99, .idleRSS: .ratioAtMost(1.0)
    case .cpuPerGiB: .ratioAtMost(0.8)
    case .peakRSS: .ratioAtMost(0.5)
    case .concurrentServed: .allServed
    case .concurrentSeconds: .none
    }
  }

  /// Formats a value of this figure in its unit, e.g. "231" MB/s or "0.64" ms.
  func format(_ value: Double) -> String {
    switch self {
    case .concurrentServed: String(Int(value.rounded()))
    case .latencyP50, .latencyP99, .cpuPerGiB, .concurrentSeconds: formatted(value, digits: 2)
    case .idleRSS, .peakRSS: formatted(value, digits: 1)
    case .setup, .upload, .download, .parallel: formatted(value, digits: 0)
    }
  }
}

/// Formats `value` with `digits` digits after the point.
func formatted(_ value: Double, digits: Int) -> String {
  guard value.isFinite else { return "n/a" }
  return String(format: "%.\(digits)f", value)
}
