import Testing

@testable import fwd_bench

@Suite struct StatisticsTests {
  @Test func percentileNearestRank() {
    let values = (1...200).map(Double.init).shuffled()
    #expect(percentile(values, 0.50) == 100)
    #expect(percentile(values, 0.99) == 198)
    #expect(percentile(values, 1.0) == 200)
    #expect(percentile(values, 0.0) == 1)
  }

  @Test func percentileOfOneValue() {
    #expect(percentile([7], 0.99) == 7)
  }

  @Test func percentileOfNoValues() {
    #expect(percentile([], 0.5).isNaN)
  }

  @Test func summaryOddCount() throws {
    let summary = try #require(Summary([3, 1, 2]))
    #expect(summary.median == 2)
    #expect(summary.minimum == 1)
    #expect(summary.maximum == 3)
    #expect(summary.count == 3)
  }

  @Test func summaryEvenCount() throws {
    let summary = try #require(Summary([4, 1, 3, 2]))
    #expect(summary.median == 2.5)
  }

  @Test func summaryOfNoValues() {
    #expect(Summary([]) == nil)
  }

  @Test func formattedDigits() {
    #expect(formatted(0.6449, digits: 2) == "0.64")
    #expect(formatted(231.6, digits: 0) == "232")
    #expect(formatted(.nan, digits: 1) == "n/a")
  }
}
