/// Everything needed to reach and log in to one hop, resolved from the command line and
/// ssh_config before any connection is made.
public struct HopTarget: Sendable {
  /// The name as typed (`build`), used in logs.
  public var name: String
  /// The address to connect to (HostName, or the name itself).
  public var hostName: String
  public var port: Int
  public var user: String
  /// Private key files in the order to try them, `~` and `%` tokens already expanded.
  public var identityFiles: [String]
  /// Whether `identityFiles` were set explicitly; default files that do not exist are skipped
  /// silently, explicit ones with a warning.
  public var identityFilesExplicit: Bool
  public var identitiesOnly: Bool
  /// The agent socket: nil uses `SSH_AUTH_SOCK`, "none" turns the agent off.
  public var identityAgent: String?
  public var userKnownHostsFiles: [String]
  public var globalKnownHostsFiles: [String]
  public var strictHostKeyChecking: StrictHostKeyChecking
  public var hostKeyAlias: String?
  public var hashKnownHosts: Bool
  /// Seconds allowed for the TCP connect and for the SSH handshake; nil means the default.
  public var connectTimeout: Int?
  public var batchMode: Bool
  /// Seconds of silence from the server before fwd sends a keepalive (0: never). fwd turns
  /// keepalives on by default, unlike ssh, so a dead hop is noticed without traffic.
  public var serverAliveInterval: Int
  /// Keepalive intervals without traffic from the server before the hop counts as lost.
  public var serverAliveCountMax: Int
  /// Whether the first hop's socket uses TCP keepalives.
  public var tcpKeepAlive: Bool
  /// The hop this one is reached through, nil for the first hop.
  public var jumpHostName: String?
  /// Whether the smartcard's keys are offered to this hop (PKCS11Provider or -I is set).
  public var usesToken: Bool
  /// AF_UNSPEC, AF_INET or AF_INET6.
  public var addressFamily: Int32
  /// The shell command whose stdin and stdout carry the first hop in place of a TCP
  /// connection (ProxyCommand with `%h %n %p %r` expanded), or nil. Used on the first hop only.
  public var proxyCommand: String?
  /// TCP connection attempts to the first hop, one second apart (ConnectionAttempts).
  public var connectionAttempts: Int
  /// The local address the first hop's socket is bound to before it connects (BindAddress).
  public var bindAddress: String?
  /// Ciphers, MACs, KexAlgorithms and HostKeyAlgorithms, as set for this hop.
  public var algorithms: [AlgorithmSetting]

  public init(name: String, hostName: String, port: Int, user: String) {
    self.name = name
    self.hostName = hostName
    self.port = port
    self.user = user
    identityFiles = []
    identityFilesExplicit = false
    identitiesOnly = false
    identityAgent = nil
    userKnownHostsFiles = []
    globalKnownHostsFiles = []
    strictHostKeyChecking = .ask
    hostKeyAlias = nil
    hashKnownHosts = false
    connectTimeout = nil
    batchMode = false
    serverAliveInterval = HopTarget.defaultServerAliveInterval
    serverAliveCountMax = 3
    tcpKeepAlive = true
    jumpHostName = nil
    usesToken = false
    addressFamily = 0
    proxyCommand = nil
    connectionAttempts = 1
    bindAddress = nil
    algorithms = []
  }

  /// Returns the value set for one algorithm keyword, or nil when libssh2's default applies.
  func algorithm(_ keyword: AlgorithmSetting.Keyword) -> AlgorithmSetting? {
    algorithms.first { $0.keyword == keyword }
  }

  public static let defaultServerAliveInterval = 15

  /// `name (host:port)`, or `name` alone when it is the address itself, as log lines show hops.
  public var label: String {
    let address = hostName.contains(":") ? "[\(hostName)]:\(port)" : "\(hostName):\(port)"
    return name == hostName ? address : "\(name) (\(address))"
  }
}
