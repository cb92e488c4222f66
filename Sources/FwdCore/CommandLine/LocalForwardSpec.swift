/// A local forward: a listener on this machine whose connections are carried through the last
/// hop to a target, from `-L [bind_address:]port:host:hostport` or a LocalForward line.
///
/// IPv6 addresses go in brackets (`-L [::1]:8080:[fe80::1]:80`). The Unix-domain socket forms
/// of ssh (`/path:host:port`, `port:/remote/socket`) parse into the `.unixSocket` cases; the
/// command line rejects them for now.
public struct LocalForwardSpec: Hashable, Sendable {
  public enum Listener: Hashable, Sendable {
    /// A TCP listener. `bindAddress` is nil when not given, which means loopback unless
    /// GatewayPorts is set; `*` or an empty string means all addresses, as in ssh.
    /// Port 0 lets the operating system pick a port.
    case tcp(bindAddress: String?, port: Int)
    case unixSocket(path: String)
  }

  public enum Target: Hashable, Sendable {
    /// A host name or address as the last hop resolves it, and a port in 1-65535.
    case tcp(host: String, port: Int)
    case unixSocket(path: String)
  }

  public var listener: Listener
  public var target: Target

  public init(listener: Listener, target: Target) {
    self.listener = listener
    self.target = target
  }

  /// Creates a forward from a TCP listener to a TCP target.
  public init(bindAddress: String? = nil, listenPort: Int, targetHost: String, targetPort: Int) {
    self.init(
      listener: .tcp(bindAddress: bindAddress, port: listenPort),
      target: .tcp(host: targetHost, port: targetPort))
  }
}

// MARK: - TCP accessors

extension LocalForwardSpec {
  /// The bind address of a TCP listener as written, or nil when none was given or the
  /// listener is a socket.
  public var bindAddress: String? {
    if case .tcp(let address, _) = listener { return address }
    return nil
  }

  /// The port of a TCP listener (0 means the system picks one), or nil for a socket.
  public var listenPort: Int? {
    if case .tcp(_, let port) = listener { return port }
    return nil
  }

  public var targetHost: String? {
    if case .tcp(let host, _) = target { return host }
    return nil
  }

  public var targetPort: Int? {
    if case .tcp(_, let port) = target { return port }
    return nil
  }

  /// Whether a TCP listener binds every address, which ssh does for `*` and an empty address.
  public var bindsAllAddresses: Bool {
    bindAddress == "*" || bindAddress == ""
  }

  /// Whether either side is a Unix-domain socket.
  public var usesUnixSocket: Bool {
    if case .unixSocket = listener { return true }
    if case .unixSocket = target { return true }
    return false
  }
}

// MARK: - Parsing

extension LocalForwardSpec {
  /// Parses `[bind_address:]port:host:hostport` and ssh's Unix-domain socket forms.
  ///
  /// - Parameter label: names the value in messages, such as "-L forward" or "LocalForward".
  /// - Throws: `FwdError` with status `.usage`, for example
  ///   `invalid -L forward '4444': expected [bind_address:]port:host:hostport`.
  public static func parse(_ text: String, label: String = "-L forward") throws(FwdError)
    -> LocalForwardSpec
  {
    switch ForwardSyntax.parse(text, kind: .local) {
    case .success(let syntax):
      return LocalForwardSpec(syntax)
    case .failure(let failure):
      throw .usage("invalid \(label) '\(text)': \(failure.reason)")
    }
  }

  init(_ syntax: ForwardSyntax) {
    switch syntax.listen {
    case .tcp(let host, let port): listener = .tcp(bindAddress: host, port: port)
    case .path(let path): listener = .unixSocket(path: path)
    }
    switch syntax.connect {
    case .tcp(let host, let port)?: target = .tcp(host: host ?? "", port: port)
    case .path(let path)?: target = .unixSocket(path: path)
    case nil: preconditionFailure("ForwardSyntax.parse(kind: .local) always sets a target")
    }
  }

  var syntax: ForwardSyntax {
    let listen: ForwardSyntax.Endpoint
    switch listener {
    case .tcp(let address, let port): listen = .tcp(host: address, port: port)
    case .unixSocket(let path): listen = .path(path)
    }
    switch target {
    case .tcp(let host, let port):
      return ForwardSyntax(listen: listen, connect: .tcp(host: host, port: port))
    case .unixSocket(let path): return ForwardSyntax(listen: listen, connect: .path(path))
    }
  }
}

extension LocalForwardSpec: CustomStringConvertible {
  /// The forward in `-L` syntax, which parses back to the same forward: addresses that
  /// contain a colon go in brackets, and other colons and backslashes are escaped.
  public var description: String {
    let quoted = ForwardSyntax.quotedField
    let listen: String
    switch listener {
    case .tcp(let address?, let port): listen = "\(quoted(address)):\(port)"
    case .tcp(nil, let port): listen = "\(port)"
    case .unixSocket(let path): listen = quoted(path)
    }
    switch target {
    case .tcp(let host, let port): return "\(listen):\(quoted(host)):\(port)"
    case .unixSocket(let path): return "\(listen):\(quoted(path))"
    }
  }
}
