import Foundation
import FwdLab
import Glibc

/// Everything one run measured, for the report and the chart.
struct BenchResults {
  var settings: BenchSettings
  var machine: MachineInfo
  /// fwd first, then the ssh variants.
  var tools: [TunnelTool]
  /// The measurements of each tool by name, one per round.
  var measurements: [String: [Measurements]] = [:]
  /// The lab services measured without a tunnel, one per round.
  var loopback: [Measurements] = []
  var negotiated: [String: NegotiatedAlgorithms] = [:]
  /// Notes about choices made during the run, e.g. a variant skipped.
  var notes: [String] = []
  var loadAverages: [Double] = []
  var startDate = Date()
  var elapsedSeconds = 0.0

  var fwd: TunnelTool { tools[0] }
  var sshVariants: [TunnelTool] { Array(tools.dropFirst()) }

  /// Returns the summary of `figure` for the tool named `name`; nil when no round measured it.
  func summary(_ figure: Figure, of name: String) -> Summary? {
    Summary((measurements[name] ?? []).compactMap { $0.values[figure] })
  }

  func loopbackSummary(_ figure: Figure) -> Summary? {
    Summary(loopback.compactMap { $0.values[figure] })
  }

  /// Returns fwd's median divided by the median of the tool named `name`.
  func ratio(_ figure: Figure, against name: String) -> Double? {
    guard let fwd = summary(figure, of: fwd.name), let other = summary(figure, of: name),
      other.median != 0
    else { return nil }
    return fwd.median / other.median
  }
}

/// Runs the lab, the warm-up and the rounds.
final class Benchmark {
  static let sshAESConfigLines = ["Ciphers aes128-ctr", "MACs hmac-sha2-256"]

  let options: BenchOptions

  init(options: BenchOptions) {
    self.options = options
  }

  func run() throws -> BenchResults {
    try raiseDescriptorLimit(to: options.settings.burstConnections * 3 + 256)
    let start = monotonicNanoseconds()
    var results = BenchResults(
      settings: options.settings, machine: MachineInfo.current(sshPath: options.sshPath),
      tools: [])
    sampleLoad(&results)

    progress("starting the lab: sshd for build and sign, echo, sink and source services")
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    // ProxyJump passes -F but not -c or -m to the jump ssh, so only a config file sets the
    // algorithms of both hops.
    let aesConfig = try lab.writeSSHConfig(
      named: "ssh_config_aes", globalLines: Benchmark.sshAESConfigLines)
    results.tools = [
      TunnelTool(name: "fwd", executable: options.fwdPath, configPath: lab.sshConfigPath),
      TunnelTool(name: "ssh", executable: options.sshPath, configPath: lab.sshConfigPath),
      TunnelTool(name: "ssh aes128-ctr", executable: options.sshPath, configPath: aesConfig),
    ]

    // The lab's own echo service listens with a backlog of 512. On a loaded machine, a burst of
    // 1000 connects straight to it took 1.1 s instead of 0.3 s, the kernel's 1 s SYN retry of
    // connects that found the backlog full. The burst measures the tools, not the lab.
    let echo = try LabService(.echo, backlog: 4096)
    defer { echo.stop() }
    let services = ServicePorts(echo: echo.port, sink: lab.sinkPort, source: lab.sourcePort)

    progress("hashing the test pattern once, so that no transfer waits for it")
    let settings = options.settings
    let session = Session(
      lab: lab, services: services, settings: settings,
      expectedSHA256: (
        LabClient.expectedSourceSHA256(count: settings.transferBytes),
        LabClient.expectedSourceSHA256(count: settings.transferBytes / settings.parallelStreams)
      ))

    try warmUp(&results, session: session)
    for round in 1...settings.rounds {
      let loopback = session.measureLoopback()
      report(loopback, of: "loopback", round: round)
      results.loopback.append(loopback)
      sampleLoad(&results)
      // Each round starts with the next tool, so none always runs first.
      let order = (0..<results.tools.count).map {
        results.tools[($0 + round - 1) % results.tools.count]
      }
      for tool in order {
        let measured = session.measure(tool)
        report(measured, of: tool.name, round: round)
        results.measurements[tool.name, default: []].append(measured)
        sampleLoad(&results)
      }
    }
    results.elapsedSeconds = secondsSince(start)
    return results
  }

  /// Starts each tool once with one echo, so that binaries and keys are in the page cache
  /// before the first measurement, and reads the algorithms each negotiated. Drops the
  /// aes128-ctr variant of ssh when plain ssh already negotiates what fwd does.
  private func warmUp(_ results: inout BenchResults, session: Session) throws {
    for tool in results.tools {
      progress("warm-up: \(tool.name)")
      let tunnel = try Tunnel(tool: tool, targets: session.services)
      defer { tunnel.stop() }
      _ = try Workloads.setupSeconds(tunnel)
      results.negotiated[tool.name] = NegotiatedAlgorithms.latest(in: session.lab)
      progress("  negotiated \(results.negotiated[tool.name]!.summary)")
    }
    if results.negotiated["fwd"] == results.negotiated["ssh"] {
      results.tools.removeLast()
      results.notes.append(
        "ssh negotiated the same cipher and MAC as fwd, so the aes128-ctr variant was not run.")
    }
  }

  private func sampleLoad(_ results: inout BenchResults) {
    if let load = MachineInfo.loadAverage() { results.loadAverages.append(load) }
  }

  private func report(_ measured: Measurements, of name: String, round: Int) {
    let figures = Figure.allCases.compactMap { figure in
      measured.values[figure].map { "\(figure.chartLabel) \(figure.format($0)) \(figure.unit)" }
    }
    progress("round \(round) \(name): " + figures.joined(separator: ", "))
    for error in measured.errors { progress("  error: \(error)") }
  }

  /// Raises the soft limit on open descriptors to at least `needed`, up to the hard limit, for
  /// the burst's client sockets, the echo service's and the tools' (which inherit it).
  private func raiseDescriptorLimit(to needed: Int) throws {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    guard limit.rlim_cur < rlim_t(needed) else { return }
    limit.rlim_cur = min(rlim_t(needed), limit.rlim_max)
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    guard limit.rlim_cur >= rlim_t(needed) else {
      throw BenchError(
        "raise the open file limit: the hard limit \(limit.rlim_max) is below the \(needed) "
          + "that \(options.settings.burstConnections) burst connections need: raise it with "
          + "ulimit -Hn or pass a smaller --burst-connections")
    }
  }
}

/// Prints a progress line on stderr with the seconds since the first one.
func progress(_ text: String) {
  let seconds = Int(secondsSince(ProgressClock.start))
  FileHandle.standardError.write(Data("fwd-bench: [\(seconds) s] \(text)\n".utf8))
}

enum ProgressClock {
  /// The time of the first progress line, from `monotonicNanoseconds()`.
  static let start = monotonicNanoseconds()
}
