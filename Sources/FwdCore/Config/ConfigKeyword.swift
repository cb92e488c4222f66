/// An ssh_config keyword fwd stores, with the syntax of its arguments.
struct ConfigKeyword: Hashable, Sendable {
  /// The lowercase name, as `ssh -G` prints it and as lookups use.
  let name: String
  /// The name in OpenSSH's capitalisation, for messages.
  let displayName: String
  let syntax: Syntax

  /// The rule for checking and normalising arguments, and for merging several lines.
  enum Syntax: Hashable, Sendable {
    /// yes/no/true/false, stored as "yes" or "no". The first value wins.
    case flag
    /// One of the listed words (case-insensitive), stored as the mapped word. The first wins.
    case choice([String: String])
    /// A port 1-65535. The first value wins.
    case port
    /// A whole number 0...Int32.max. The first value wins.
    case integer
    /// Seconds, written as OpenSSH time (`90`, `1m30s`), stored in seconds. `none` leaves
    /// the keyword unset, as in ssh. The first value wins.
    case time
    /// One argument, stored as written. The first value wins.
    case string
    /// One path argument that may name an environment variable. The first value wins.
    case agentPath
    /// The whole rest of the line, stored as written. The first value wins.
    case command
    /// A comma-separated jump list or `none`. ProxyJump and ProxyCommand share one slot:
    /// whichever is set first wins, as in ssh, except that `ProxyJump none` leaves a later
    /// ProxyCommand in force.
    case proxyJump
    /// Several paths on one line, or `none` alone. The first line wins.
    case pathList
    /// One path per line; every line adds one, dropping duplicates.
    case accumulatingPath
    /// Environment variable names or patterns; `-pattern` removes earlier ones. Accumulates.
    case environmentNames
    /// One comma-separated algorithm list, optionally starting with `+`, `-` or `^`.
    /// The first value wins. Names are not checked against a list of known algorithms.
    case algorithms
    /// A forward spec. Accumulates, dropping duplicates.
    case forward(ForwardSyntax.Kind)
    /// An OpenSSH keyword fwd does not use: the arguments are stored unchecked, as split,
    /// and the first value wins.
    case unchecked
  }
}

extension ConfigKeyword {
  private static let yesNo = "yes or no"

  /// The keywords fwd reads, by lowercase name, with OpenSSH's aliases.
  static let supported: [String: ConfigKeyword] = {
    var table: [String: ConfigKeyword] = [:]
    func add(_ displayName: String, _ syntax: Syntax, aliases: [String] = []) {
      let keyword = ConfigKeyword(
        name: displayName.lowercased(), displayName: displayName, syntax: syntax)
      for name in [keyword.name] + aliases { table[name] = keyword }
    }
    add("HostName", .string)
    add("Port", .port)
    add("User", .string)
    add("IdentityFile", .accumulatingPath, aliases: ["identityfile2"])
    add("IdentitiesOnly", .flag)
    add("IdentityAgent", .agentPath)
    add("CertificateFile", .accumulatingPath)
    add("ProxyJump", .proxyJump)
    add("ProxyCommand", .command)
    add("PKCS11Provider", .string, aliases: ["smartcarddevice"])
    add("UserKnownHostsFile", .pathList)
    add("GlobalKnownHostsFile", .pathList)
    add("StrictHostKeyChecking", .choice(strictHostKeyCheckingWords))
    add("HostKeyAlias", .string)
    add("HashKnownHosts", .flag)
    add("ConnectTimeout", .time)
    add("ConnectionAttempts", .integer)
    add("ServerAliveInterval", .time)
    add("ServerAliveCountMax", .integer)
    add("TCPKeepAlive", .flag, aliases: ["keepalive"])
    add("LocalForward", .forward(.local))
    add("RemoteForward", .forward(.remote))
    add("DynamicForward", .forward(.dynamic))
    add("ExitOnForwardFailure", .flag)
    add("GatewayPorts", .flag)
    add("BatchMode", .flag)
    add("AddressFamily", .choice(["inet": "inet", "inet6": "inet6", "any": "any"]))
    add("BindAddress", .string)
    add("LogLevel", .choice(logLevelWords))
    add("Ciphers", .algorithms)
    add("MACs", .algorithms)
    add("KexAlgorithms", .algorithms)
    add("HostKeyAlgorithms", .algorithms)
    add("IgnoreUnknown", .string)
    add("SendEnv", .environmentNames)
    add("CanonicalizeHostname", .choice(canonicalizeWords))
    return table
  }()

  /// StrictHostKeyChecking words, mapped to the names `ssh -G` prints.
  static let strictHostKeyCheckingWords: [String: String] = [
    "yes": "true", "true": "true", "no": "false", "false": "false", "off": "false",
    "ask": "ask", "accept-new": "accept-new",
  ]

  /// LogLevel words, mapped to the names `ssh -G` prints: OpenSSH 9.2 prints QUIET as
  /// SILENT and DEBUG1 as DEBUG.
  static let logLevelWords: [String: String] = [
    "quiet": "SILENT", "silent": "SILENT", "fatal": "FATAL", "error": "ERROR", "info": "INFO",
    "verbose": "VERBOSE", "debug": "DEBUG", "debug1": "DEBUG", "debug2": "DEBUG2",
    "debug3": "DEBUG3",
  ]

  static let canonicalizeWords: [String: String] = [
    "yes": "true", "true": "true", "no": "false", "false": "false", "always": "always",
  ]

  /// Looks up a supported keyword by name, case-insensitively.
  static func named(_ name: String) -> ConfigKeyword? {
    supported[name.lowercased()]
  }

  /// Returns the keyword for a name in `supported`, which the caller guarantees.
  static func known(_ displayName: String) -> ConfigKeyword {
    guard let keyword = named(displayName) else {
      preconditionFailure("\(displayName) is missing from ConfigKeyword.supported")
    }
    return keyword
  }

  /// Returns the entry for an OpenSSH keyword that fwd stores but does not use.
  static func unused(_ displayName: String) -> ConfigKeyword {
    ConfigKeyword(name: displayName.lowercased(), displayName: displayName, syntax: .unchecked)
  }

  /// Whether several lines add values instead of the first line winning.
  var accumulates: Bool {
    switch syntax {
    case .accumulatingPath, .environmentNames, .forward: true
    default: false
    }
  }
}
