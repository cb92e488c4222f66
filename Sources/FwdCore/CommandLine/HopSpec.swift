/// One SSH host as written on the command line or in ProxyJump: `[user@]host[:port]`,
/// `ssh://[user@]host[:port]`, or either with an IPv6 literal in brackets (`user@[::1]:2222`).
///
/// `host` is the name as written, without brackets, and is what ssh_config `Host` lines match.
public struct HopSpec: Hashable, Sendable {
  public var user: String?
  public var host: String
  public var port: Int?

  public init(user: String? = nil, host: String, port: Int? = nil) {
    self.user = user
    self.host = host
    self.port = port
  }
}

// MARK: - Parsing

extension HopSpec {
  /// Parses `[user@]host[:port]` or `ssh://[user@]host[:port]`.
  ///
  /// The user is everything before the last `@`, as in ssh, so it may itself contain `@`.
  /// An IPv6 literal needs brackets when a port follows. Without a port, a host with two
  /// or more colons is taken as a bare IPv6 literal, a form ssh rejects in `-J`.
  ///
  /// - Parameter label: names the value in error messages, such as "destination" or "-J hop".
  /// - Throws: `FwdError` with status `.usage`, for example
  ///   `invalid destination 'bob@': host is empty`.
  public static func parse(_ text: String, label: String = "host") throws(FwdError) -> HopSpec {
    func failure(_ reason: String) -> FwdError {
      .usage("invalid \(label) '\(text)': \(reason)")
    }
    guard !text.isEmpty else { throw failure("the value is empty") }
    let isBlankOrControl = { (scalar: Unicode.Scalar) in
      scalar.properties.isWhitespace || scalar.value < 0x20
    }
    if let bad = text.unicodeScalars.first(where: isBlankOrControl) {
      let hex = String(bad.value, radix: 16, uppercase: true)
      throw failure("contains " + (bad == " " ? "a space" : "character U+\(hex)"))
    }
    let uriScheme = "ssh://"
    let isURI = text.hasPrefix(uriScheme)
    var rest = isURI ? Substring(text.dropFirst(uriScheme.count)) : Substring(text)
    if isURI, rest.contains("/") {
      throw failure("an ssh:// destination takes no path")
    }

    var user: String?
    let userSeparator = isURI ? rest.firstIndex(of: "@") : rest.lastIndex(of: "@")
    if let at = userSeparator {
      var userText = rest[..<at]
      if isURI, let parameters = userText.firstIndex(of: ";") {
        // RFC 4248-style connection parameters (";fingerprint=...") are ignored, as ssh does.
        userText = userText[..<parameters]
      }
      let decoded = isURI ? percentDecoded(userText) : String(userText)
      guard let decoded, !decoded.isEmpty else {
        throw failure(decoded == nil ? "invalid %-escape in the user name" : "user name is empty")
      }
      user = decoded
      rest = rest[rest.index(after: at)...]
    }

    let (host, portText) = try splitHostAndPort(rest, failure: failure)
    guard !host.isEmpty else { throw failure("host is empty") }
    guard !host.hasPrefix("-") else { throw failure("host must not start with '-'") }
    var port: Int?
    if let portText {
      guard let value = PortNumber.parse(portText) else {
        throw failure(
          "port '\(portText)' is not \(PortNumber.expectation(for: PortNumber.connectable))")
      }
      port = value
    }
    return HopSpec(user: user, host: host, port: port)
  }

  /// Parses a comma-separated jump list such as the argument of `-J` or `ProxyJump`.
  /// The hops come back in connection order, first contacted first.
  static func parseList(_ text: String, label: String) throws(FwdError) -> [HopSpec] {
    var hops: [HopSpec] = []
    for element in text.split(separator: ",", omittingEmptySubsequences: false) {
      hops.append(try parse(String(element), label: label))
    }
    return hops
  }

  /// Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal.
  private static func splitHostAndPort(
    _ text: Substring, failure: (String) -> FwdError
  ) throws(FwdError) -> (host: String, port: Substring?) {
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else {
        throw failure("missing ']' after the IPv6 address")
      }
      let host = String(text[text.index(after: text.startIndex)..<close])
      let after = text[text.index(after: close)...]
      if after.isEmpty { return (host, nil) }
      guard after.hasPrefix(":") else {
        throw failure("unexpected '\(after)' after ']'; expected ':port'")
      }
      return (host, after.dropFirst())
    }
    let colons = text.filter { $0 == ":" }.count
    guard colons == 1, let colon = text.firstIndex(of: ":") else {
      return (String(text), nil)
    }
    return (String(text[..<colon]), text[text.index(after: colon)...])
  }

  /// Decodes `%XX` escapes in the user part of an ssh:// URI; nil when an escape is invalid.
  private static func percentDecoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = iterator.next(), let low = iterator.next(),
        let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
      else { return nil }
      bytes.append(value)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

// MARK: - Formatting

extension HopSpec: CustomStringConvertible {
  /// The spec in `[user@]host[:port]` form, with brackets around a host that contains a colon.
  public var description: String {
    var text = user.map { "\($0)@" } ?? ""
    let needsBrackets = host.contains(":") && port != nil
    text += needsBrackets ? "[\(host)]" : host
    if let port { text += ":\(port)" }
    return text
  }
}
