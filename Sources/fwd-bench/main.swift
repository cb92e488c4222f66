import Foundation
import FwdLab

// fwd-bench: measures fwd against OpenSSH's ssh -J in the lab and writes a Markdown report
// with a PNG chart, for `make bench`.

do {
  let options = try BenchOptions(arguments: Array(CommandLine.arguments.dropFirst()))
  let results = try Benchmark(options: options).run()
  let chartPath = options.resolvedChartPath
  let report = Report(results: results, chartName: (chartPath as NSString).lastPathComponent)
  let directory = (options.outputPath as NSString).deletingLastPathComponent
  if !directory.isEmpty {
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: true)
  }
  try report.markdown.write(toFile: options.outputPath, atomically: true, encoding: .utf8)
  progress("wrote \(options.outputPath)")
  try Chart(results: results).write(to: chartPath)
  progress("wrote \(chartPath)")
} catch {
  progress("\(error)")
  exit(1)
}
