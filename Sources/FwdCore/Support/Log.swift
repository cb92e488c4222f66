import Foundation

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
public final class Log: @unchecked Sendable {
  public static let shared = Log()

  private let lock = NSLock()
  public var level: LogLevel = .info
  private var output: Int32 = 2

  /// Sends log lines to an open file descriptor instead of stderr.
  public func redirect(to fd: Int32) {
    lock.lock()
    output = fd
    lock.unlock()
  }

  public func enabled(_ level: LogLevel) -> Bool { level <= self.level }

  public func write(_ level: LogLevel, _ subject: String?, _ text: @autoclosure () -> String) {
    guard enabled(level) else { return }
    var line = "fwd: "
    if level >= .debug1 { line += "debug\(level.rawValue - LogLevel.info.rawValue): " }
    if let subject { line += subject + ": " }
    line += text() + "\n"
    lock.lock()
    defer { lock.unlock() }
    line.utf8CString.withUnsafeBufferPointer { bytes in
      var offset = 0
      let total = bytes.count - 1
      while offset < total {
        let n = Glibc.write(output, bytes.baseAddress! + offset, total - offset)
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
