import Testing

@testable import fwd_bench

@Suite struct ParsingTests {
  @Test func kexLineWithMAC() {
    let line: Substring =
      "debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256 compression: none [preauth]"
    #expect(NegotiatedAlgorithms.algorithms(in: line) == "aes128-ctr + hmac-sha2-256")
  }

  @Test func kexLineWithImplicitMAC() {
    let line: Substring =
      "debug1: kex: client->server cipher: chacha20-poly1305@openssh.com MAC: <implicit> "
      + "compression: none [preauth]"
    #expect(
      NegotiatedAlgorithms.algorithms(in: line) == "chacha20-poly1305@openssh.com + <implicit>")
  }

  @Test func optionsDefaults() throws {
    let options = try BenchOptions(arguments: [])
    #expect(options.settings.transferBytes == 1 << 30)
    #expect(options.settings.rounds == 3)
    #expect(options.settings.latencyConnections == 200)
    #expect(options.settings.burstConnections == 1000)
    #expect(options.resolvedChartPath == "docs/benchmarks.png")
  }

  @Test func optionsSizesAndPaths() throws {
    let options = try BenchOptions(arguments: [
      "--size-mb", "64", "--rounds", "1", "--output", "/tmp/x/report.md",
    ])
    #expect(options.settings.transferBytes == 64 << 20)
    #expect(options.settings.rounds == 1)
    #expect(options.resolvedChartPath == "/tmp/x/report.png")
  }

  @Test func optionsRejectSizeBelowStreams() {
    #expect(throws: BenchError.self) { try BenchOptions(arguments: ["--size-mb", "4"]) }
  }

  @Test func optionsRejectZeroRounds() {
    #expect(throws: BenchError.self) { try BenchOptions(arguments: ["--rounds", "0"]) }
  }

  @Test func optionsRejectUnknownOption() {
    #expect(throws: BenchError.self) { try BenchOptions(arguments: ["--speed", "1"]) }
  }
}
