import Glibc

/// Returns CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Returns the seconds elapsed since `start`, a `monotonicNanoseconds()` value.
func secondsSince(_ start: UInt64) -> Double {
  Double(monotonicNanoseconds() - start) / 1e9
}

func sleepSeconds(_ seconds: Double) {
  var request = timespec(
    tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
  var remaining = timespec()
  while nanosleep(&request, &remaining) != 0 && errno == EINTR {
    request = remaining
  }
}

/// Returns the text of `errno`, or of `code` when given.
func errnoText(_ code: Int32 = errno) -> String {
  String(cString: strerror(code))
}
