/// Counts log lines of one kind and suppresses the excess, so an error that every connection
/// hits (a refused channel, a failing accept) cannot flood the log.
///
/// Per key, the first `burst` lines within `window` milliseconds are logged and later ones
/// within that window are counted. Once the window has passed, `expired(at:)` returns one
/// summary per key that suppressed anything. Not thread-safe: `Log` calls it under its lock.
struct RepeatLimiter {
  /// The decision for one line.
  enum Decision: Equatable {
    case log
    case suppress
  }

  /// Lines of one key that were suppressed, for the summary line.
  struct Summary: Equatable {
    let text: String
    let count: Int
    /// The subjects of the first and the last suppressed line, e.g. `conn 6` and `conn 20`.
    let firstSubject: String?
    let lastSubject: String?

    /// The text of the summary line, e.g. `channel ... failed: refused (15 more suppressed,
    /// from conn 6 to conn 20)`.
    var line: String {
      var detail = "\(count) more suppressed"
      switch (firstSubject, lastSubject) {
      case (let first?, let last?) where first != last: detail += ", from \(first) to \(last)"
      case (let first?, _): detail += ", from \(first)"
      default: break
      }
      return "\(text) (\(detail))"
    }
  }

  private struct Entry {
    var windowStart: UInt64
    var logged: Int
    var suppressed: Int
    var text: String
    var firstSubject: String?
    var lastSubject: String?
  }

  /// Lines of one key logged per window before the rest are suppressed.
  let burst: Int
  /// Milliseconds.
  let window: UInt64
  private var entries: [String: Entry] = [:]

  init(burst: Int = 5, window: UInt64 = 10_000) {
    self.burst = burst
    self.window = window
  }

  /// Records one line of `key` at time `now` (milliseconds) and decides whether to log it.
  /// A line that starts a new window first needs `expired(at:)` to report the old one, so
  /// callers call that before this.
  mutating func record(key: String, text: String, subject: String?, at now: UInt64) -> Decision {
    guard var entry = entries[key], now < entry.windowStart + window else {
      entries[key] = Entry(
        windowStart: now, logged: 1, suppressed: 0, text: text, firstSubject: nil, lastSubject: nil)
      return .log
    }
    if entry.logged < burst {
      entry.logged += 1
      entries[key] = entry
      return .log
    }
    if entry.suppressed == 0 { entry.firstSubject = subject }
    entry.suppressed += 1
    entry.lastSubject = subject
    entry.text = text
    entries[key] = entry
    return .suppress
  }

  /// Removes the keys whose window has ended and returns a summary for each one that
  /// suppressed lines, oldest window first.
  mutating func expired(at now: UInt64) -> [Summary] {
    let done = entries.filter { now >= $0.value.windowStart + window }
    guard !done.isEmpty else { return [] }
    for key in done.keys { entries[key] = nil }
    return done.values.filter { $0.suppressed > 0 }
      .sorted { $0.windowStart < $1.windowStart }
      .map {
        Summary(
          text: $0.text, count: $0.suppressed, firstSubject: $0.firstSubject,
          lastSubject: $0.lastSubject)
      }
  }

  /// The time (milliseconds) at which the earliest pending summary is due, or nil when no key
  /// has suppressed anything.
  var nextSummaryDue: UInt64? {
    entries.values.filter { $0.suppressed > 0 }.map { $0.windowStart + window }.min()
  }
}
