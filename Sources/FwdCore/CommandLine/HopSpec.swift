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
  /// The maximum length of a host or user name, in UTF-8 bytes: the size of getnameinfo's
  /// host buffer (NI_MAXHOST, 1025) without its NUL. ProxyJump values may contain `%n` and
  /// `%r`, which repeat the previous hop's names, so without a limit each hop of a chain
  /// could double the names' length until the 32-hop limit is reached.
  public static let maximumNameLength = 1024

  /// Parses `[user@]host[:port]` or `ssh://[user@]host[:port]`.
  ///
  /// The user is everything before the last `@`, as in ssh, so it may itself contain `@`.
  /// An IPv6 literal needs brackets when a port follows. Without a port, a host with two
  /// or more colons is taken as a bare IPv6 literal, a form ssh rejects in `-J`.
  ///
  /// fwd passes hops on as text (`description`), so values no text form carries back are
  /// rejected: a host containing `@`, `[` or `]`, and an ssh:// user whose %-decoded form
  /// contains blanks, control characters, `,` or `/`. Host and user are limited to
  /// `maximumNameLength` bytes.
  ///
  /// - Parameter label: names the value in error messages, such as "destination" or "-J hop".
  /// - Throws: `FwdError` with status `.usage`, for example
  ///   `invalid destination 'bob@': host is empty`.
  public static func parse(_ text: String, label: String = "host") throws(FwdError) -> HopSpec {
    do throws(Failure) {
      return try parseFields(text)
    } catch {
      throw .usage("invalid \(label) '\(text)': \(error.reason)")
    }
  }

  /// The reason part of a parse error; `parse` adds the label and the text.
  struct Failure: Error {
    let reason: String
  }

  private static func parseFields(_ text: String) throws(Failure) -> HopSpec {
    func failure(_ reason: String) -> Failure { Failure(reason: reason) }
    guard !text.isEmpty else { throw failure("the value is empty") }
    let isBlankOrControl = { (scalar: Unicode.Scalar) in
      scalar.properties.isWhitespace || scalar.value < 0x20
    }
    if let bad = text.unicodeScalars.first(where: isBlankOrControl) {
      let hex = String(bad.value, radix: 16, uppercase: true)
      throw failure("contains " + (bad == " " ? "a space" : "character U+\(hex)"))
    }
    // Separators are found by Unicode scalar, as ssh finds bytes, so that a combining mark
    // after `@`, `:` or a bracket cannot hide it.
    let uriScheme = "ssh://".unicodeScalars
    let isURI = text.unicodeScalars.starts(with: uriScheme)
    var rest = Substring(text).unicodeScalars.dropFirst(isURI ? uriScheme.count : 0)
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
      let decoded = isURI ? percentDecoded(Substring(userText)) : String(Substring(userText))
      guard let decoded, !decoded.isEmpty else {
        throw failure(decoded == nil ? "invalid %-escape in the user name" : "user name is empty")
      }
      // A decoded user must still print as `user@host` and fit in a comma-separated list.
      let breaksPlainForm = { (scalar: Unicode.Scalar) in
        isBlankOrControl(scalar) || scalar == "," || scalar == "/"
      }
      if isURI, let bad = decoded.unicodeScalars.first(where: breaksPlainForm) {
        let hex = String(bad.value, radix: 16, uppercase: true)
        throw failure("the decoded user name contains character U+\(hex)")
      }
      guard decoded.utf8.count <= maximumNameLength else {
        throw failure("user name is longer than \(maximumNameLength) bytes")
      }
      user = decoded
      rest = rest[rest.index(after: at)...]
    }

    let (host, portText) = try splitHostAndPort(rest, failure: failure)
    guard !host.isEmpty else { throw failure("host is empty") }
    guard host.utf8.count <= maximumNameLength else {
      throw failure("host is longer than \(maximumNameLength) bytes")
    }
    guard host.unicodeScalars.first != "-" else { throw failure("host must not start with '-'") }
    if let bad = host.unicodeScalars.first(where: { $0 == "@" || $0 == "[" || $0 == "]" }) {
      throw failure("host '\(host)' contains '\(bad)'")
    }
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
    let elements = text.unicodeScalars.split(separator: ",", omittingEmptySubsequences: false)
    for (index, element) in elements.enumerated() {
      if element.isEmpty && elements.count > 1 {
        throw .usage(
          "invalid \(label) list '\(text)': hop \(index + 1) of \(elements.count) is empty; "
            + "separate hops with single commas and no comma at either end")
      }
      hops.append(try parse(String(Substring(element)), label: label))
    }
    return hops
  }

  /// Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal.
  private static func splitHostAndPort(
    _ text: Substring.UnicodeScalarView, failure: (String) -> Failure
  ) throws(Failure) -> (host: String, port: Substring?) {
    if text.first == "[" {
      guard let close = text.firstIndex(of: "]") else {
        throw failure("missing ']' after the IPv6 address")
      }
      let host = String(Substring(text[text.index(after: text.startIndex)..<close]))
      let after = text[text.index(after: close)...]
      if after.isEmpty { return (host, nil) }
      guard after.first == ":" else {
        throw failure("unexpected '\(Substring(after))' after ']'; expected ':port'")
      }
      return (host, Substring(after.dropFirst()))
    }
    let colons = text.filter { $0 == ":" }.count
    guard colons == 1, let colon = text.firstIndex(of: ":") else {
      return (String(Substring(text)), nil)
    }
    return (String(Substring(text[..<colon])), Substring(text[text.index(after: colon)...]))
  }

  /// Returns why `description` does not parse back to this hop, or nil when it does.
  ///
  /// ProxyJump hops get their names by expanding `%` tokens after parsing, which can give a
  /// name that no hop text carries, such as one containing `@` or longer than
  /// `maximumNameLength`. The lengths are checked first so that the reason never quotes a
  /// name of unbounded length.
  func textFormProblem() -> String? {
    if host.utf8.count > Self.maximumNameLength {
      return "host is longer than \(Self.maximumNameLength) bytes"
    }
    if let user, user.utf8.count > Self.maximumNameLength {
      return "user name is longer than \(Self.maximumNameLength) bytes"
    }
    let names = "the host '\(host)'" + (user.map { " and the user '\($0)'" } ?? "")
    do throws(Failure) {
      let reparsed = try Self.parseFields(description)
      return reparsed == self ? nil : "it expands to \(names), which no hop text can carry"
    } catch {
      return "it expands to \(names): \(error.reason)"
    }
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
  /// The spec in `[user@]host[:port]` form, with brackets around a host that contains a colon
  /// so that the text parses back to the same spec.
  public var description: String {
    var text = user.map { "\($0)@" } ?? ""
    text += host.unicodeScalars.contains(":") ? "[\(host)]" : host
    if let port { text += ":\(port)" }
    return text
  }
}
