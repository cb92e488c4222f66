import Testing

@testable import fwd_bench

@Suite struct ReportTests {
  /// Results of one round with fwd and ssh, where fwd's figures are `fwd` and ssh's `ssh`.
  static func results(fwd: [Figure: Double], ssh: [Figure: Double]) -> BenchResults {
    var settings = BenchSettings()
    settings.rounds = 1
    var results = BenchResults(
      settings: settings, machine: MachineInfo(),
      tools: [
        TunnelTool(name: "fwd", executable: "/x/fwd", configPath: "/lab/ssh_config"),
        TunnelTool(name: "ssh", executable: "/usr/bin/ssh", configPath: "/lab/ssh_config"),
      ])
    results.measurements["fwd"] = [Measurements(values: fwd)]
    results.measurements["ssh"] = [Measurements(values: ssh)]
    return results
  }

  @Test func ratioIsFwdOverSSH() throws {
    let results = Self.results(fwd: [.upload: 300], ssh: [.upload: 200])
    #expect(try #require(results.ratio(.upload, against: "ssh")) == 1.5)
    #expect(results.ratio(.download, against: "ssh") == nil)
  }

  @Test func throughputTargetMetWithoutAim() {
    let markdown = Report(
      results: Self.results(fwd: [.upload: 240], ssh: [.upload: 200]), chartName: "b.png"
    ).markdown
    #expect(markdown.contains("| met: 1.20x, aim not reached |"))
  }

  @Test func throughputTargetMissed() {
    let markdown = Report(
      results: Self.results(fwd: [.download: 150], ssh: [.download: 200]), chartName: "b.png"
    ).markdown
    #expect(markdown.contains("| missed: 0.75x, 25% below |"))
  }

  @Test func costTargetMissedByPercent() {
    let markdown = Report(
      results: Self.results(fwd: [.setup: 280], ssh: [.setup: 350]), chartName: "b.png"
    ).markdown
    #expect(markdown.contains("| missed: 0.80x, 14% above |"))
  }

  @Test func costTargetMet() {
    let markdown = Report(
      results: Self.results(fwd: [.peakRSS: 30], ssh: [.peakRSS: 72]), chartName: "b.png"
    ).markdown
    #expect(markdown.contains("| met: 0.42x |"))
  }

  @Test func burstTargetCountsEveryRound() {
    let markdown = Report(
      results: Self.results(fwd: [.concurrentServed: 999], ssh: [.concurrentServed: 1000]),
      chartName: "b.png"
    ).markdown
    #expect(markdown.contains("| missed: served 999 of 1000 |"))
  }

  @Test func failedFigureShownAsFailed() {
    let markdown = Report(
      results: Self.results(fwd: [:], ssh: [.upload: 200]), chartName: "b.png"
    ).markdown
    #expect(markdown.contains("| Throughput up, 1 stream (MB/s) | failed | 200 | n/a |"))
  }

  @Test func chartScriptHasOneRowPerFigure() {
    let script = Chart(results: Self.results(fwd: [.upload: 300], ssh: [.upload: 200]))
      .script(output: "/tmp/chart.png")
    #expect(script.contains("0 \"up\" 1.5000 1.00"))
    #expect(script.contains("1 \"down\" NaN 1.00"))
    #expect(script.contains("set output '/tmp/chart.png'"))
  }
}
