/// `-R [bind_address:]port:host:hostport` (or a Unix socket on either side): the last hop's
/// server listens, and connections lead back to this machine.
public struct RemoteForwardSpec: Equatable, Sendable {
  var syntax: ForwardSyntax
  /// The spec as written.
  public var text: String

  public static func parse(_ text: String, label: String = "-R forward") throws(FwdError) -> RemoteForwardSpec {
    switch ForwardSyntax.parse(text, kind: .remote) {
    case .success(let syntax):
      guard syntax.connect != nil else {
        throw .usage(
          "invalid \(label) '\(text)': remote SOCKS forwards (-R port alone) are not supported; give port:host:hostport"
        )
      }
      if case .path = syntax.listen {
        throw .usage(
          "invalid \(label) '\(text)': a Unix socket listener on the server is not supported; give [bind_address:]port")
      }
      return RemoteForwardSpec(syntax: syntax, text: text)
    case .failure(let failure):
      throw .usage("invalid \(label) '\(text)': \(failure.reason)")
    }
  }
}

/// `-D [bind_address:]port`: a local SOCKS server whose clients name their targets.
public struct DynamicForwardSpec: Hashable, Sendable {
  public var bindAddress: String?
  public var port: Int
  public var text: String

  public static func parse(_ text: String, label: String = "-D forward") throws(FwdError) -> DynamicForwardSpec {
    switch ForwardSyntax.parse(text, kind: .dynamic) {
    case .success(let syntax):
      guard case .tcp(let host, let port) = syntax.listen else {
        throw .usage("invalid \(label) '\(text)': expected [bind_address:]port")
      }
      return DynamicForwardSpec(bindAddress: host, port: port, text: text)
    case .failure(let failure):
      throw .usage("invalid \(label) '\(text)': \(failure.reason)")
    }
  }
}

/// `-H hop:[bind_address:]port:host:hostport`: the named jump host's server listens on port,
/// and each connection is carried on through the rest of the chain to host:hostport as the
/// last hop resolves it. On the destination itself it works like -R with a remote target.
public struct HopListenerSpec: Hashable, Sendable {
  /// The hop as named in -J or ProxyJump (its host part), or the destination.
  public var hop: String
  public var bindAddress: String?
  public var port: Int
  public var targetHost: String
  public var targetPort: Int
  public var text: String

  public static func parse(_ text: String) throws(FwdError) -> HopListenerSpec {
    let expected = "expected hop:[bind_address:]port:host:hostport"
    var rest = Substring(text)
    let hop: String
    if rest.hasPrefix("[") {
      guard let close = rest.firstIndex(of: "]") else { throw .usage("invalid -H listener '\(text)': \(expected)") }
      hop = String(rest[rest.index(after: rest.startIndex)..<close])
      rest = rest[rest.index(after: close)...]
    } else {
      guard let colon = rest.firstIndex(of: ":") else { throw .usage("invalid -H listener '\(text)': \(expected)") }
      hop = String(rest[..<colon])
      rest = rest[colon...]
    }
    guard !hop.isEmpty, rest.hasPrefix(":") else { throw .usage("invalid -H listener '\(text)': \(expected)") }
    switch ForwardSyntax.parse(String(rest.dropFirst()), kind: .local) {
    case .success(let syntax):
      guard case .tcp(let bind, let port) = syntax.listen, case .tcp(let host?, let hostPort)? = syntax.connect
      else {
        throw .usage("invalid -H listener '\(text)': Unix sockets are not supported here; \(expected)")
      }
      return HopListenerSpec(
        hop: hop, bindAddress: bind, port: port, targetHost: host, targetPort: hostPort, text: text)
    case .failure(let failure):
      let reason = failure.reason.hasPrefix("expected") ? expected : failure.reason
      throw .usage("invalid -H listener '\(text)': \(reason)")
    }
  }
}

extension StdioForward {
  /// Parses `-W host:port`, with an IPv6 host in brackets.
  public static func parse(_ text: String) throws(FwdError) -> StdioForward {
    guard let fields = ForwardSyntax.fields(of: text), fields.count == 2, !fields[0].text.isEmpty,
      let port = PortNumber.parse(fields[1].text)
    else {
      throw .usage("invalid -W target '\(text)': expected host:port, with port 1-65535")
    }
    return StdioForward(host: fields[0].text, port: port)
  }
}
