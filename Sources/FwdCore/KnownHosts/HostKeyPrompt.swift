#if canImport(Glibc)
  import Glibc
#endif

/// The StrictHostKeyChecking ask prompt, read from the controlling terminal like ssh's.
public enum HostKeyPrompt {
  /// Returns whether /dev/tty can be opened, that is, whether a prompt can be shown.
  public static func terminalAvailable() -> Bool {
    let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    close(fd)
    return true
  }

  /// Shows the key's type and fingerprint on /dev/tty and reads the reply there. Returns
  /// true when the user types `yes` or the fingerprint, false for `no`, an empty line, end of
  /// input, or no terminal.
  public static func confirmOnTerminal(_ subject: HostKeySubject) -> Bool {
    let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return confirm(
      subject,
      readLine: { readTerminalLine(fd) },
      write: { text in _ = KnownHostsFileIO.writeAll(fd, Array(text.utf8)) })
  }

  /// Runs the prompt dialogue over the given input and output. A reply other than yes, no or
  /// the fingerprint repeats the question, as ssh does.
  public static func confirm(
    _ subject: HostKeySubject, readLine: () -> String?, write: (String) -> Void
  ) -> Bool {
    write(question(subject))
    while true {
      guard let line = readLine() else { return false }
      let answer = trimmingSpaces(line)
      if answer.isEmpty || answer.lowercased() == "no" { return false }
      if answer.lowercased() == "yes" || answer == subject.fingerprint { return true }
      write("Please type 'yes', 'no' or the fingerprint: ")
    }
  }

  /// Returns `text` without leading and trailing tabs and space separators (Unicode category
  /// Zs), the set that Foundation's `CharacterSet.whitespaces` names.
  static func trimmingSpaces(_ text: String) -> String {
    func isSpace(_ scalar: Unicode.Scalar) -> Bool {
      scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
    }
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isSpace($0) }),
      let last = scalars.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(scalars[first...last])
  }

  /// Returns the prompt text: host, key type and fingerprint, then ssh's question.
  public static func question(_ subject: HostKeySubject) -> String {
    "The authenticity of host '\(subject.context)' can't be established.\n"
      + "\(subject.keyTypeDisplayName) key fingerprint is \(subject.fingerprint).\n"
      + "Are you sure you want to continue connecting (yes/no/[fingerprint])? "
  }

  /// Reads bytes up to a newline; returns nil at end of input or on a read error.
  private static func readTerminalLine(_ fd: Int32) -> String? {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while true {
      let count = read(fd, &byte, 1)
      if count < 0 && errno == EINTR { continue }
      if count <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
      if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
      if byte != UInt8(ascii: "\r") { bytes.append(byte) }
    }
  }
}
