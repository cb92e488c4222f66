import FwdBindings
import Glibc

/// Log levels, as ssh's LogLevel: `-q` is error, the default info, `-v` to `-vvv` debug1 to debug3.
public enum LogLevel: Int, Comparable, Sendable {
  case quiet = 0
  case error = 1
  case info = 2
  case debug1 = 3
  case debug2 = 4
  case debug3 = 5

  public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The process-wide logger. Every line goes to stderr (or the `-E` file) as `fwd: [subject: ]text`;
/// stdout carries only machine-readable output.
///
/// Error lines are rate-limited by their text without the subject, so one error that every
/// connection hits is logged 5 times per 10 s and then counted. Once the 10 s have passed, a
/// summary line `text (N more suppressed, from conn 6 to conn 20)` follows (see
/// `flushSuppressed`). When the live status view is on, each line is written above it.
public final class Log: @unchecked Sendable {
  public static let shared = Log()

  private let lock = Lock()
  public var level: LogLevel = .info
  private var output: Int32 = 2
  private var repeats = RepeatLimiter()
  private var overlay = TerminalOverlay()
  /// Milliseconds on a monotonic clock; tests replace it.
  var clock: () -> UInt64 = Clock.monotonicMilliseconds
  /// The destination of written text in place of the descriptor; tests set it to collect lines.
  var sink: ((Int32, String) -> Void)?

  /// Sends log lines to an open file descriptor instead of stderr.
  public func redirect(to fd: Int32) {
    lock.lock()
    output = fd
    lock.unlock()
  }

  public func enabled(_ level: LogLevel) -> Bool { level <= self.level }

  public func write(_ level: LogLevel, _ subject: String?, _ text: @autoclosure () -> String) {
    guard enabled(level) else { return }
    let body = text()
    emit(level, subject, body, limitKey: level == .error ? body : nil)
  }

  /// Writes an error that can repeat once per connection or request. Lines with the same
  /// `kind` count together against the limit even when their text differs, e.g. `kind`
  /// "channel open failed via sign" for failures to different targets.
  public func writeRepeated(kind: String, _ level: LogLevel, _ subject: String?, _ text: String) {
    guard enabled(level) else { return }
    emit(level, subject, text, limitKey: "kind:" + kind)
  }

  /// Writes a line the user asked for (the SIGUSR1 status), at every level except `.quiet`.
  public func writeRequested(_ subject: String?, _ text: String) {
    guard level > .quiet else { return }
    emit(.info, subject, text, limitKey: nil)
  }

  /// Writes the summary of each error kind whose 10 s window has ended with lines suppressed.
  /// The main loop calls it at `nextSummaryDue`; any later line also triggers it.
  public func flushSuppressed() {
    lock.lock()
    defer { lock.unlock() }
    writeSummaries(at: clock())
  }

  /// The monotonic time (milliseconds, as `Clock.monotonicMilliseconds`) at which a summary is
  /// due, or nil when nothing is suppressed.
  public var nextSummaryDue: UInt64? {
    lock.lock()
    defer { lock.unlock() }
    return repeats.nextSummaryDue
  }

  // MARK: - Status block

  /// Shows `lines` as a block at the bottom of stderr, a terminal, replacing the block shown
  /// before. Log lines written to stderr from then on appear above the block.
  func showOverlay(_ lines: [String]) {
    lock.lock()
    defer { lock.unlock() }
    writeAll(2, overlay.replace(with: lines))
  }

  /// Erases the block from stderr.
  func removeOverlay() {
    lock.lock()
    defer { lock.unlock() }
    writeAll(2, overlay.remove())
  }

  // MARK: - Writing

  private func emit(_ level: LogLevel, _ subject: String?, _ text: String, limitKey: String?) {
    lock.lock()
    defer { lock.unlock() }
    let now = clock()
    writeSummaries(at: now)
    if let limitKey,
      repeats.record(key: limitKey, text: text, subject: subject, at: now) == .suppress
    {
      return
    }
    writeLine(Self.format(level, subject, text))
  }

  private func writeSummaries(at now: UInt64) {
    for summary in repeats.expired(at: now) {
      writeLine(Self.format(.error, nil, summary.line))
    }
  }

  static func format(_ level: LogLevel, _ subject: String?, _ text: String) -> String {
    var line = "fwd: "
    if level >= .debug1 { line += "debug\(level.rawValue - LogLevel.info.rawValue): " }
    if let subject { line += subject + ": " }
    return line + text + "\n"
  }

  /// Writes one formatted line; the caller holds the lock.
  private func writeLine(_ line: String) {
    if output == 2 && !overlay.lines.isEmpty {
      writeAll(2, overlay.writeAbove(line))
    } else {
      writeAll(output, line)
    }
  }

  private func writeAll(_ fd: Int32, _ text: String) {
    if text.isEmpty { return }
    if let sink {
      sink(fd, text)
      return
    }
    text.utf8CString.withUnsafeBufferPointer { bytes in
      var offset = 0
      let total = bytes.count - 1
      while offset < total {
        let n = Glibc.write(fd, bytes.baseAddress! + offset, total - offset)
        if n <= 0 {
          if n < 0 && errno == EINTR { continue }
          break
        }
        offset += n
      }
    }
  }
}

public func logError(_ subject: String?, _ text: @autoclosure () -> String) {
  Log.shared.write(.error, subject, text())
}

public func logInfo(_ subject: String?, _ text: @autoclosure () -> String) {
  Log.shared.write(.info, subject, text())
}

public func logDebug(_ subject: String?, _ text: @autoclosure () -> String) {
  Log.shared.write(.debug1, subject, text())
}

public func logDebug2(_ subject: String?, _ text: @autoclosure () -> String) {
  Log.shared.write(.debug2, subject, text())
}

public func logDebug3(_ subject: String?, _ text: @autoclosure () -> String) {
  Log.shared.write(.debug3, subject, text())
}

/// Logs an error that can happen once per connection, rate-limited by `kind`; see
/// `Log.writeRepeated`.
public func logRepeatedError(kind: String, _ subject: String?, _ text: @autoclosure () -> String) {
  guard Log.shared.enabled(.error) else { return }
  Log.shared.writeRepeated(kind: kind, .error, subject, text())
}
