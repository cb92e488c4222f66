import Glibc

/// A listener on this machine and where its connections go: `-L` (through the last hop to a
/// host or a Unix socket there) or `-D` (a SOCKS server whose clients name the target).
public struct LocalForward: Sendable, Equatable {
  public enum Listen: Sendable, Equatable {
    /// A TCP listener. `bindAddress` nil means loopback (or every address with GatewayPorts);
    /// "*" or "" means every address. Port 0 lets the system pick.
    case tcp(bindAddress: String?, port: Int)
    /// A Unix-domain socket at this path, mode 0600.
    case unix(path: String)
  }

  public enum Target: Sendable, Equatable {
    /// A host and port as the last hop resolves them.
    case tcp(host: String, port: Int)
    /// A Unix-domain socket on the last hop.
    case unix(path: String)
    /// The client names the target in a SOCKS request (`-D`).
    case socks
  }

  public var listen: Listen
  public var target: Target
  /// The option and spec as the user wrote it, e.g. `-L 4444:localhost:4444`, for messages.
  public var text: String

  public init(listen: Listen, target: Target, text: String) {
    self.listen = listen
    self.target = target
    self.text = text
  }

  public init(bindAddress: String?, listenPort: Int, targetHost: String, targetPort: Int, text: String) {
    self.init(
      listen: .tcp(bindAddress: bindAddress, port: listenPort), target: .tcp(host: targetHost, port: targetPort),
      text: text)
  }

  /// The kind word of the ready line.
  var kind: String { target == .socks ? "dynamic" : "local" }

  /// The target fields of the ready line: host and port, a path and `-`, or `- -` for SOCKS.
  var readyTarget: String {
    switch target {
    case .tcp(let host, let port): "\(host) \(port)"
    case .unix(let path): "\(path) -"
    case .socks: "- -"
    }
  }

  /// The host to bind for a TCP listener: loopback by default (IPv4 unless -6, every address
  /// with GatewayPorts), nil (every address) for "*" or "".
  func bindHost(_ bindAddress: String?, addressFamily: Int32, gatewayPorts: Bool) -> String? {
    switch bindAddress {
    case nil: gatewayPorts ? nil : (addressFamily == AF_INET6 ? "::1" : "127.0.0.1")
    case "*", "": nil
    case let address?: address
    }
  }
}
