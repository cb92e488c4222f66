import Glibc

/// A point on the monotonic clock, for loops that wait with `poll` or a condition.
struct Deadline {
  private let nanoseconds: UInt64

  init(after timeout: Duration) {
    let (seconds, attoseconds) = timeout.components
    let total = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
    nanoseconds = Deadline.now() &+ UInt64(total)
  }

  static func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
  }

  var hasPassed: Bool { Deadline.now() >= nanoseconds }

  /// Milliseconds left, rounded up, for `poll`; 0 once passed.
  var remainingMilliseconds: Int32 {
    let now = Deadline.now()
    guard now < nanoseconds else { return 0 }
    return Int32(min(UInt64(Int32.max), (nanoseconds - now + 999_999) / 1_000_000))
  }

  /// Seconds left, for `NSCondition.wait(until:)`.
  var remainingSeconds: Double {
    let now = Deadline.now()
    guard now < nanoseconds else { return 0 }
    return Double(nanoseconds - now) / 1e9
  }
}

/// Sleeps the calling thread for `milliseconds`.
func sleepMilliseconds(_ milliseconds: Int) {
  usleep(useconds_t(milliseconds * 1000))
}
