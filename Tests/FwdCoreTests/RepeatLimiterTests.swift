import Testing

@testable import FwdCore

@Suite struct RepeatLimiterTests {
  @Test func logsBurstThenSuppresses() {
    var limiter = RepeatLimiter(burst: 5, window: 10_000)
    var decisions: [RepeatLimiter.Decision] = []
    for id in 1...8 {
      decisions.append(limiter.record(key: "k", text: "failed", subject: "conn \(id)", at: 1000))
    }
    #expect(decisions == Array(repeating: .log, count: 5) + Array(repeating: .suppress, count: 3))
  }

  @Test func summaryAfterWindow() {
    var limiter = RepeatLimiter(burst: 2, window: 10_000)
    for id in 1...6 {
      _ = limiter.record(key: "k", text: "failed", subject: "conn \(id)", at: 1000 + UInt64(id))
    }
    #expect(limiter.expired(at: 10_999).isEmpty)
    #expect(limiter.nextSummaryDue == 11_001)
    let summaries = limiter.expired(at: 11_001)
    #expect(summaries.count == 1)
    #expect(summaries.first?.count == 4)
    #expect(summaries.first?.line == "failed (4 more suppressed, from conn 3 to conn 6)")
    #expect(limiter.nextSummaryDue == nil)
    #expect(limiter.expired(at: 30_000).isEmpty)
  }

  @Test func newWindowLogsAgain() {
    var limiter = RepeatLimiter(burst: 1, window: 100)
    #expect(limiter.record(key: "k", text: "a", subject: nil, at: 0) == .log)
    #expect(limiter.record(key: "k", text: "a", subject: nil, at: 50) == .suppress)
    #expect(limiter.expired(at: 100).map(\.line) == ["a (1 more suppressed)"])
    #expect(limiter.record(key: "k", text: "a", subject: nil, at: 101) == .log)
  }

  @Test func keysCountSeparately() {
    var limiter = RepeatLimiter(burst: 1, window: 100)
    #expect(limiter.record(key: "a", text: "a", subject: nil, at: 0) == .log)
    #expect(limiter.record(key: "b", text: "b", subject: nil, at: 0) == .log)
    #expect(limiter.record(key: "a", text: "a", subject: nil, at: 1) == .suppress)
  }

  @Test func windowWithoutSuppressionHasNoSummary() {
    var limiter = RepeatLimiter(burst: 5, window: 100)
    _ = limiter.record(key: "k", text: "a", subject: "conn 1", at: 0)
    #expect(limiter.nextSummaryDue == nil)
    #expect(limiter.expired(at: 500).isEmpty)
  }

  @Test func singleSubjectSummary() {
    var limiter = RepeatLimiter(burst: 1, window: 100)
    _ = limiter.record(key: "k", text: "a", subject: "-L 80:h:80", at: 0)
    _ = limiter.record(key: "k", text: "a", subject: "-L 80:h:80", at: 1)
    #expect(limiter.expired(at: 100).map(\.line) == ["a (1 more suppressed, from -L 80:h:80)"])
  }
}
