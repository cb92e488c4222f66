/// LogLevel, by the names `ssh -G` prints.
public enum SSHLogLevel: String, Sendable {
  /// QUIET or SILENT in ssh_config.
  case quiet = "SILENT"
  case fatal = "FATAL"
  case error = "ERROR"
  case info = "INFO"
  case verbose = "VERBOSE"
  case debug1 = "DEBUG"
  case debug2 = "DEBUG2"
  case debug3 = "DEBUG3"
}

/// The effective settings of one hop, with OpenSSH's defaults filled in and `~`, `%` tokens
/// and `${VARIABLE}` expanded where ssh expands them.
public struct HostSettings: Sendable {
  /// The name as typed on the command line or in the jump list (`%n`).
  public let hostArgument: String
  /// The name to connect to: HostName with `%h` expanded, else the name as typed;
  /// lowercased unless it is an address.
  public let hostName: String
  public let port: Int
  /// The remote user: `-l`, `user@`, User, or the local user name.
  public let user: String

  /// Private key files to try, in order, expanded. Without IdentityFile lines these are
  /// OpenSSH 9.2's defaults: ~/.ssh/id_rsa, id_ecdsa, id_ecdsa_sk, id_ed25519,
  /// id_ed25519_sk, id_xmss and id_dsa.
  public let identityFiles: [String]
  public let identitiesOnly: Bool
  /// The agent socket, expanded; "none" disables the agent, "SSH_AUTH_SOCK" or nil means
  /// the socket named by that variable.
  public let identityAgent: String?
  public let certificateFiles: [String]
  /// The PKCS#11 module to load, or nil when unset or `none`.
  public let pkcs11Provider: String?

  /// The jump hosts before this hop, first contacted first; empty for a direct connection.
  /// `%h %n %p %r` in their user and host parts are expanded with this hop's values.
  public let proxyJump: [HopSpec]
  /// ProxyCommand with `%h %n %p %r` expanded, or nil when unset or `none`.
  public let proxyCommand: String?

  /// UserKnownHostsFile, expanded; empty for `none`. Default ~/.ssh/known_hosts and
  /// ~/.ssh/known_hosts2.
  public let userKnownHostsFiles: [String]
  /// GlobalKnownHostsFile with `~` expanded; empty for `none`. Default
  /// /etc/ssh/ssh_known_hosts and /etc/ssh/ssh_known_hosts2.
  public let globalKnownHostsFiles: [String]
  public let strictHostKeyChecking: StrictHostKeyChecking
  /// HostKeyAlias, lowercased as ssh does, or nil.
  public let hostKeyAlias: String?
  public let hashKnownHosts: Bool

  /// ConnectTimeout in seconds, or nil for none (the system's TCP timeout).
  public let connectTimeout: Int?
  public let connectionAttempts: Int
  /// ServerAliveInterval in seconds; 0 sends no keepalives. The default is 0, or 300 with
  /// BatchMode, as in ssh.
  public let serverAliveInterval: Int
  public let serverAliveCountMax: Int
  public let tcpKeepAlive: Bool

  /// `-L` forwards, then LocalForward lines, without duplicates.
  public let localForwards: [LocalForwardSpec]
  /// RemoteForward values as `listen:target` text; fwd does not set them up.
  public let remoteForwards: [String]
  /// DynamicForward values as `[bind_address:]port` text; fwd does not set them up.
  public let dynamicForwards: [String]
  public let exitOnForwardFailure: Bool
  public let gatewayPorts: Bool

  public let batchMode: Bool
  public let addressFamily: AddressFamily
  public let bindAddress: String?
  public let logLevel: SSHLogLevel
  /// Algorithm lists as written (`+`, `-` and `^` prefixes kept), or nil for the defaults.
  public let ciphers: String?
  public let macs: String?
  public let kexAlgorithms: String?
  public let hostKeyAlgorithms: String?
  public let sendEnv: [String]
  public let ignoreUnknown: String?

  let state: ConfigState
  let environment: ConfigEnvironment

  /// Returns the values stored for a keyword (in any case), each with the line it came from.
  /// The result is empty when no line set the keyword, because defaults are not stored.
  /// OpenSSH keywords that fwd does not use are kept too, unchecked, first value winning.
  public func values(_ keyword: String) -> [ConfigValue] {
    let name = ConfigKeyword.named(keyword)?.name ?? keyword.lowercased()
    if let first = state.first(name) { return [first] }
    return state.all(name)
  }
}
