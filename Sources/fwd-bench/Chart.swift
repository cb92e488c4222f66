import Foundation

/// The PNG chart of fwd / ssh per figure, drawn by gnuplot: one panel for throughput, where
/// higher is better, and one for costs, where lower is better.
struct Chart {
  static let gnuplotPath = "/usr/bin/gnuplot"
  static let throughputFigures: [Figure] = [.upload, .download, .parallel]
  static let costFigures: [Figure] = [
    .setup, .latencyP50, .latencyP99, .cpuPerGiB, .idleRSS, .peakRSS, .concurrentSeconds,
  ]

  let results: BenchResults

  /// Draws the chart into `path`; throws when gnuplot is missing or fails.
  func write(to path: String) throws {
    guard FileManager.default.isExecutableFile(atPath: Chart.gnuplotPath) else {
      throw BenchError(
        "draw chart \(path): \(Chart.gnuplotPath) not found: install gnuplot-nox (make bench "
          + "does)")
    }
    let scriptPath = NSTemporaryDirectory() + "fwd-bench-chart-\(getpid()).gp"
    try script(output: path).write(toFile: scriptPath, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: scriptPath) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Chart.gnuplotPath)
    process.arguments = [scriptPath]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw BenchError("draw chart \(path): gnuplot exited with \(process.terminationStatus)")
    }
  }

  /// The chart's title, with the load average when other processes competed for the CPU.
  var title: String {
    var text =
      "fwd / ssh -J, median of \(roundsText(results.settings.rounds)) (1.0 = same as ssh; "
      + "bars start at 1.0)"
    if let load = results.loadAverages.max(), load >= Double(results.machine.cores) / 2 {
      text +=
        "\\nnoisy: 1-minute load average up to \(formatted(load, digits: 1)) on "
        + "\(results.machine.cores) cores during the run"
    }
    return text
  }

  /// Returns the gnuplot script, with the data inline.
  func script(output: String) -> String {
    let variants = results.sshVariants
    var lines = [
      "set terminal pngcairo size 1400,620 font 'sans,11'",
      "set output '\(output)'",
      "set multiplot layout 1,2 title \"\(title)\"",
      "set style fill solid 0.85 border -1",
      "set logscale y 2",
      "set grid ytics",
      "set key top left",
      "set xtics rotate by -25",
      "set ytics format '%.2fx'",
    ]
    lines += panel(
      "Throughput: higher is better", figures: Chart.throughputFigures, variants: variants)
    lines += panel("Costs: lower is better", figures: Chart.costFigures, variants: variants)
    lines.append("unset multiplot")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Returns the lines of one panel: a bar from 1.0 to the ratio per ssh variant and figure,
  /// and a mark at each target.
  private func panel(_ title: String, figures: [Figure], variants: [TunnelTool]) -> [String] {
    let block = "$" + (figures == Chart.throughputFigures ? "throughput" : "costs")
    var data = ["\(block) << EOD"]
    var extremes: [Double] = [1]
    for (index, figure) in figures.enumerated() {
      var row = "\(index) \"\(figure.chartLabel)\""
      for variant in variants {
        let ratio = results.ratio(figure, against: variant.name)
        if let ratio, ratio > 0 { extremes.append(ratio) }
        row += " " + (ratio.map { formatted($0, digits: 4) } ?? "NaN")
      }
      let target = targetRatio(figure)
      if let target { extremes.append(target) }
      row += " " + (target.map { formatted($0, digits: 2) } ?? "NaN")
      data.append(row)
    }
    data.append("EOD")

    let low = max(extremes.min()! / 1.4, 1.0 / 64)
    let high = min(extremes.max()! * 1.4, 64)
    let width = 0.8 / Double(max(variants.count, 1))
    var plots: [String] = []
    let colors = ["#4477aa", "#ee7733", "#228833"]
    for (position, variant) in variants.enumerated() {
      let column = 3 + position
      let offset = (Double(position) - Double(variants.count - 1) / 2) * width
      let x = "($1+\(formatted(offset, digits: 3)))"
      let half = formatted(width / 2 * 0.9, digits: 3)
      plots.append(
        "\(block) using \(x):\(column):(\(x)-\(half)):(\(x)+\(half))"
          + ":($\(column)<1?$\(column):1):($\(column)<1?1:$\(column)) with boxxyerror "
          + "lc rgb '\(colors[position % colors.count])' title 'against \(variant.name)'")
      plots.append(
        "\(block) using \(x):($\(column)<1?$\(column)/1.08:$\(column)*1.08)"
          + ":(sprintf('%.2f', $\(column))) with labels font ',9' notitle")
    }
    let targetColumn = 3 + variants.count
    // A horizontal line across the figure's bars marks the target.
    plots.append(
      "\(block) using 1:\(targetColumn):(0.45):xtic(2) with xerrorbars pt 7 ps 0.5 lw 2 "
        + "lc rgb 'black' title 'target'")
    return data + [
      "set title '\(title)'",
      "set xrange [-0.6:\(formatted(Double(figures.count) - 0.4, digits: 1))]",
      "set yrange [\(formatted(low, digits: 4)):\(formatted(high, digits: 4))]",
      "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb 'gray30'",
      "plot " + plots.joined(separator: ", \\\n  "),
    ]
  }

  /// Returns the ratio fwd is held to for `figure`, or nil when it has none.
  private func targetRatio(_ figure: Figure) -> Double? {
    switch figure.target {
    case .ratioAtMost(let limit): limit
    case .ratioAtLeast(let limit, _): limit
    case .allServed, .none: nil
    }
  }
}
