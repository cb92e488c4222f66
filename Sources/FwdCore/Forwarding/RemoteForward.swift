/// A port a hop's server listens on for us: `-R` (on the last hop, connections lead back to
/// this machine) or `-H` (on any hop, connections lead on through the last hop).
public struct RemoteForward: Sendable, Equatable {
  public enum Target: Sendable, Equatable {
    /// Connect from this machine to host:port.
    case local(host: String, port: Int)
    /// Connect from this machine to a Unix-domain socket.
    case localUnix(path: String)
    /// Open a channel on the last hop to host:port as it resolves them.
    case lastHop(host: String, port: Int)
  }

  /// The hop whose server listens, 0 for the first.
  public var hopIndex: Int
  /// The address the server binds, as sent in the tcpip-forward request ("localhost" when
  /// none was given, as ssh sends).
  public var bindAddress: String
  public var port: Int
  public var target: Target
  /// The option and spec as written, for messages.
  public var text: String

  public init(hopIndex: Int, bindAddress: String, port: Int, target: Target, text: String) {
    self.hopIndex = hopIndex
    self.bindAddress = bindAddress
    self.port = port
    self.target = target
    self.text = text
  }

  /// The target fields of the ready line.
  var readyTarget: String {
    switch target {
    case .local(let host, let port), .lastHop(let host, let port): "\(host) \(port)"
    case .localUnix(let path): "\(path) -"
    }
  }
}

/// `-W host:port`: standard input and output carried through the chain to one target.
public struct StdioForward: Sendable, Equatable {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }
}
