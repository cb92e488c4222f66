/// Parsing of TCP port numbers as they appear on the command line and in ssh_config.
///
/// Only decimal digits are accepted. OpenSSH also accepts service names from /etc/services
/// (`Port ssh`); fwd does not.
enum PortNumber {
  /// The ports a client may connect to.
  static let connectable = 1...65535
  /// The ports a listener may bind; 0 lets the operating system pick one.
  static let bindable = 0...65535

  /// Returns `text` as a port in `range`, or nil when it is not a plain decimal number there.
  static func parse(_ text: some StringProtocol, in range: ClosedRange<Int> = connectable) -> Int? {
    guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
      let value = Int(text), range.contains(value)
    else { return nil }
    return value
  }

  /// Describes the expected form for messages: "a number 1-65535".
  static func expectation(for range: ClosedRange<Int>) -> String {
    "a number \(range.lowerBound)-\(range.upperBound)"
  }
}
