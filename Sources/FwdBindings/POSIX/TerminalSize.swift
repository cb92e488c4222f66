import Glibc

extension Terminal {
  /// Returns whether `fd` refers to a terminal.
  public static func isTerminal(_ fd: Int32) -> Bool {
    isatty(fd) == 1
  }

  /// Returns the width in columns of the terminal on `fd`, or nil when it is not a terminal or reports
  /// no size (a fresh pseudo-terminal reports 0).
  public static func columns(_ fd: Int32) -> Int? {
    var size = winsize()
    guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
  }
}
