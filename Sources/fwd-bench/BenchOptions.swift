import FwdLab

/// The command line of fwd-bench.
struct BenchOptions {
  static let usage = """
    usage: fwd-bench [--fwd PATH] [--ssh PATH] [--size-mb N] [--rounds N]
                     [--latency-connections N] [--burst-connections N]
                     [--output FILE] [--chart FILE]

    Starts a lab with hosts build and sign and measures `fwd -J build sign` against
    OpenSSH's `ssh -J build sign` on the same forwards, alternating between them.

      --fwd PATH                 fwd binary (default: .build/release/fwd of this package)
      --ssh PATH                 OpenSSH client (default: /usr/bin/ssh)
      --size-mb N                MiB per single-stream transfer and in total over the
                                 8 parallel streams (default: 1024)
      --rounds N                 rounds, each tool once per round (default: 3)
      --latency-connections N    sequential connections for latency (default: 200)
      --burst-connections N      connections opened at once (default: 1000)
      --output FILE              Markdown report (default: docs/benchmarks.md)
      --chart FILE               PNG chart, drawn with gnuplot (default: the report's
                                 path with .png)
    """

  var fwdPath = FwdBinary.packageRoot + "/.build/release/fwd"
  var sshPath = "/usr/bin/ssh"
  var settings = BenchSettings()
  var outputPath = "docs/benchmarks.md"
  var chartPath: String?

  /// Parses `arguments` without the program name.
  init(arguments: [String]) throws {
    var remaining = arguments[...]
    while let option = remaining.popFirst() {
      if option == "-h" || option == "--help" {
        throw BenchError(BenchOptions.usage)
      }
      guard let value = remaining.popFirst() else {
        throw BenchError("missing value after \(option)\n\(BenchOptions.usage)")
      }
      switch option {
      case "--fwd": fwdPath = value
      case "--ssh": sshPath = value
      case "--size-mb": settings.transferBytes = try positive(option, value) << 20
      case "--rounds": settings.rounds = try positive(option, value)
      case "--latency-connections": settings.latencyConnections = try positive(option, value)
      case "--burst-connections": settings.burstConnections = try positive(option, value)
      case "--output": outputPath = value
      case "--chart": chartPath = value
      default: throw BenchError("unknown option '\(option)'\n\(BenchOptions.usage)")
      }
    }
    if settings.transferBytes < settings.parallelStreams << 20 {
      throw BenchError(
        "invalid --size-mb \(settings.transferBytes >> 20): expected at least "
          + "\(settings.parallelStreams), 1 MiB per parallel stream")
    }
  }

  /// The chart path: `--chart`, else the report's path with the extension .png.
  var resolvedChartPath: String {
    if let chartPath { return chartPath }
    let base = outputPath.hasSuffix(".md") ? String(outputPath.dropLast(3)) : outputPath
    return base + ".png"
  }

  private func positive(_ option: String, _ value: String) throws -> Int {
    guard let number = Int(value), number > 0 else {
      throw BenchError("invalid \(option) '\(value)': expected a positive integer")
    }
    return number
  }
}
