/// The colon-separated forward syntax shared by `-L`, LocalForward, RemoteForward and
/// DynamicForward, split the way OpenSSH's parse_forward splits it (readconf.c).
///
/// A field in square brackets is taken literally, so IPv6 addresses go in brackets. Outside
/// brackets a backslash escapes the next character. A field containing `/` is a Unix-domain
/// socket path.
struct ForwardSyntax: Equatable, Sendable {
  /// One side of a forward.
  enum Endpoint: Hashable, Sendable {
    /// A host (nil when not given) and a port.
    case tcp(host: String?, port: Int)
    case path(String)
  }

  /// The kinds of forward, which accept different field counts.
  enum Kind {
    case local
    case remote
    case dynamic
  }

  /// A failure, as the reason part of a message; the caller adds the option and the value.
  struct Failure: Error, Equatable {
    let reason: String
  }

  var listen: Endpoint
  /// The far side, or nil for a dynamic (SOCKS) forward.
  var connect: Endpoint?
}

// MARK: - Fields

extension ForwardSyntax {
  struct Field {
    var text: String
    var isPath: Bool
  }

  /// Splits `text` into at most four fields; nil when brackets or escapes are malformed or
  /// more than four fields are present.
  ///
  /// The text is read by Unicode scalar, as OpenSSH reads bytes. Reading by Character would
  /// let a combining mark after `:` or `\` hide the separator or the escape.
  static func fields(of text: String) -> [Field]? {
    var fields: [Field] = []
    var rest = Substring(text).unicodeScalars.drop(while: { $0 == " " || $0 == "\t" })
    while !rest.isEmpty {
      guard fields.count < 4, let (field, remainder) = nextField(rest) else { return nil }
      fields.append(field)
      rest = remainder
    }
    return fields
  }

  /// Reads one field and returns the text after its terminating colon.
  private static func nextField(
    _ text: Substring.UnicodeScalarView
  ) -> (Field, Substring.UnicodeScalarView)? {
    if text.first == "[" {
      let inside = text.dropFirst()
      guard let close = inside.firstIndex(of: "]") else { return nil }
      let body = inside[..<close]
      let after = inside[inside.index(after: close)...]
      guard after.isEmpty || after.first == ":" else { return nil }
      return (field(body), after.dropFirst())
    }
    var value = String.UnicodeScalarView()
    var index = text.startIndex
    while index < text.endIndex {
      let scalar = text[index]
      if scalar == ":" {
        return (field(value[...]), text[text.index(after: index)...])
      }
      if scalar == "\\" {
        index = text.index(after: index)
        guard index < text.endIndex else { return nil }
      }
      value.append(text[index])
      index = text.index(after: index)
    }
    return (field(value[...]), text[text.endIndex...])
  }

  private static func field(_ scalars: some Collection<Unicode.Scalar>) -> Field {
    var text = String.UnicodeScalarView()
    text.append(contentsOf: scalars)
    return Field(text: String(text), isPath: scalars.contains("/"))
  }

  /// Quotes `text` as one field that `fields(of:)` reads back unchanged. Text with a colon
  /// and no `]` goes in brackets, as IPv6 addresses are written. Otherwise `:`, `\`, and a
  /// leading `[`, space or tab get a backslash before them.
  static func quotedField(_ text: String) -> String {
    let scalars = text.unicodeScalars
    if scalars.contains(":"), !scalars.contains("]") { return "[" + text + "]" }
    var quoted = String.UnicodeScalarView()
    for (offset, scalar) in scalars.enumerated() {
      let isSpecial =
        scalar == ":" || scalar == "\\"
        || (offset == 0 && (scalar == "[" || scalar == " " || scalar == "\t"))
      if isSpecial { quoted.append("\\") }
      quoted.append(scalar)
    }
    return String(quoted)
  }
}

// MARK: - Parsing

extension ForwardSyntax {
  /// Parses a forward of `kind`. Local listen ports may be 0, which lets the system pick one;
  /// OpenSSH rejects 0 there but fwd reports the chosen port.
  static func parse(_ text: String, kind: Kind) -> Result<ForwardSyntax, Failure> {
    guard let fields = fields(of: text), !fields.isEmpty else {
      return .failure(Failure(reason: "expected \(expectedForm(kind))"))
    }
    do {
      switch kind {
      case .dynamic:
        return .success(try parseDynamic(fields))
      case .local:
        return .success(try parseWithTarget(fields, kind: kind))
      case .remote:
        if fields.count <= 2, !fields.contains(where: \.isPath) {
          return .success(try parseDynamic(fields))
        }
        return .success(try parseWithTarget(fields, kind: kind))
      }
    } catch {
      return .failure(error)
    }
  }

  static func expectedForm(_ kind: Kind) -> String {
    switch kind {
    case .local: "[bind_address:]port:host:hostport"
    case .remote: "[bind_address:]port:host:hostport or [bind_address:]port"
    case .dynamic: "[bind_address:]port"
    }
  }

  private static func parseDynamic(_ fields: [Field]) throws(Failure) -> ForwardSyntax {
    switch fields.count {
    case 1 where fields[0].isPath:
      return ForwardSyntax(listen: .path(fields[0].text), connect: nil)
    case 1:
      return ForwardSyntax(listen: .tcp(host: nil, port: try listenPort(fields[0])), connect: nil)
    case 2 where !fields[1].isPath:
      let port = try listenPort(fields[1])
      return ForwardSyntax(listen: .tcp(host: fields[0].text, port: port), connect: nil)
    default:
      throw Failure(reason: "expected \(expectedForm(.dynamic))")
    }
  }

  private static func parseWithTarget(
    _ fields: [Field], kind: Kind
  ) throws(Failure) -> ForwardSyntax {
    switch fields.count {
    case 2 where fields[0].isPath && fields[1].isPath:
      return ForwardSyntax(listen: .path(fields[0].text), connect: .path(fields[1].text))
    case 2 where fields[1].isPath:
      return ForwardSyntax(
        listen: .tcp(host: nil, port: try listenPort(fields[0])), connect: .path(fields[1].text))
    case 3 where fields[0].isPath:
      return ForwardSyntax(listen: .path(fields[0].text), connect: try target(fields[1], fields[2]))
    case 3 where fields[2].isPath:
      let listen = Endpoint.tcp(host: fields[0].text, port: try listenPort(fields[1]))
      return ForwardSyntax(listen: listen, connect: .path(fields[2].text))
    case 3:
      let listen = Endpoint.tcp(host: nil, port: try listenPort(fields[0]))
      return ForwardSyntax(listen: listen, connect: try target(fields[1], fields[2]))
    case 4:
      let listen = Endpoint.tcp(host: fields[0].text, port: try listenPort(fields[1]))
      return ForwardSyntax(listen: listen, connect: try target(fields[2], fields[3]))
    default:
      throw Failure(reason: "expected \(expectedForm(kind))")
    }
  }

  private static func listenPort(_ field: Field) throws(Failure) -> Int {
    guard let port = PortNumber.parse(field.text, in: PortNumber.bindable) else {
      let expected = PortNumber.expectation(for: PortNumber.bindable)
      throw Failure(reason: "listen port '\(field.text)' is not \(expected)")
    }
    return port
  }

  private static func target(_ host: Field, _ port: Field) throws(Failure) -> Endpoint {
    guard !host.text.isEmpty else { throw Failure(reason: "target host is empty") }
    guard let number = PortNumber.parse(port.text) else {
      let expected = PortNumber.expectation(for: PortNumber.connectable)
      throw Failure(reason: "target port '\(port.text)' is not \(expected)")
    }
    return .tcp(host: host.text, port: number)
  }
}

// MARK: - Formatting

extension ForwardSyntax {
  /// Formats the forward as `ssh -G` prints it: `port`, `[host]:port` or a path, then the
  /// target in the same form unless the forward is dynamic. A remote forward without a target
  /// prints `[socks]:0`, as OpenSSH 9.2 does.
  func configDumpText(kind: Kind) -> String {
    var text = Self.dumpText(listen)
    guard kind != .dynamic else { return text }
    text += " " + (connect.map(Self.dumpText) ?? "[socks]:0")
    return text
  }

  private static func dumpText(_ endpoint: Endpoint) -> String {
    switch endpoint {
    case .tcp(let host?, let port): "[\(host)]:\(port)"
    case .tcp(nil, let port): "\(port)"
    case .path(let path): path
    }
  }
}
