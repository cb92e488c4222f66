import Glibc

/// Reads secrets from the controlling terminal, as ssh does for passphrases.
public enum Terminal {
  /// Whether this process has a controlling terminal it can open.
  public static var isAvailable: Bool {
    let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
    if fd < 0 { return false }
    close(fd)
    return true
  }

  /// Writes `prompt` to /dev/tty and reads one line with echo off. Returns the bytes without
  /// the newline, or nil when there is no terminal or input ended. The caller zeroes the result.
  public static func readSecret(prompt: String) -> [UInt8]? {
    let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var saved = termios()
    let haveAttributes = tcgetattr(fd, &saved) == 0
    if haveAttributes {
      var quiet = saved
      quiet.c_lflag &= ~tcflag_t(ECHO)
      quiet.c_lflag |= tcflag_t(ECHONL)
      _ = tcsetattr(fd, TCSAFLUSH, &quiet)
    }
    defer {
      if haveAttributes { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
    }
    _ = prompt.withCString { write(fd, $0, strlen($0)) }
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while true {
      let n = read(fd, &byte, 1)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        zero(&line)
        return nil
      }
      if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
      line.append(byte)
    }
    return line
  }

  /// Overwrites a secret in place before it is released. explicit_bzero is used because the
  /// optimiser may remove a plain memset of memory that is about to be freed.
  public static func zero(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
      if let base = buffer.baseAddress { explicit_bzero(base, buffer.count) }
    }
  }
}
