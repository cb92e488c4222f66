/// One command-line option: how it is spelled, whether it takes an argument, and its help.
///
/// The parser, `fwd --help` and the usage line all read `OptionTable.all`, so help cannot
/// drift from what the parser accepts.
public struct OptionSpec: Sendable {
  /// The parser's handling of the option.
  public enum Action: Sendable {
    case addressFamilyInet, addressFamilyInet6, noCommand, quiet, verbose, version
    case configFile, pkcs11Provider, identityFile, jumpHosts, localForward, loginName
    case configOption, port, help
    case background, logFile, printConfig, pidFile, readyFD, pinFD, pinFile, pinAllowFinalTry
    case noRebuild, rebuildAttempts
    case remoteForward, dynamicForward, hopListener, stdioForward, gatewayPorts
    case statusView
  }

  /// The single-letter form, used as `-x`, or nil for an option with a long form only.
  public let flag: Character?
  /// The long form without dashes, used as `--name`, if there is one.
  public let longName: String?
  /// The argument's name in help text, or nil for a flag that takes none.
  public let argumentName: String?
  /// One or more sentences saying what the option sets, with units.
  public let help: String
  /// Whether the usage line shows the option; `--help` itself is left out, as ssh does.
  public let inSynopsis: Bool
  public let action: Action

  /// The primary spelling: `-x`, or `--name` for a long-only option.
  public var spelling: String {
    if let flag { return "-\(flag)" }
    return "--\(longName ?? "")"
  }

  init(
    _ flag: Character?, long: String? = nil, argument: String? = nil, synopsis: Bool = true,
    action: Action, help: String
  ) {
    self.flag = flag
    self.longName = long
    self.argumentName = argument
    self.help = help
    self.inSynopsis = synopsis
    self.action = action
  }
}

/// The options fwd accepts, in the order the usage line and `--help` list them.
public enum OptionTable {
  public static let all: [OptionSpec] = [
    OptionSpec(
      "4", action: .addressFamilyInet,
      help: "Use IPv4 addresses only, for every hop and listener."),
    OptionSpec(
      "6", action: .addressFamilyInet6,
      help: "Use IPv6 addresses only, for every hop and listener."),
    OptionSpec(
      "N", action: .noCommand,
      help: "Run no remote command. Accepted for ssh compatibility: fwd never runs one."),
    OptionSpec(
      "f", action: .background,
      help: """
        Go to the background once every forward is set up. The foreground process prints \
        the ready lines and exits 0, or exits with the failure's status if set-up fails.
        """),
    OptionSpec(
      "G", action: .printConfig,
      help: """
        Print the effective configuration of every hop in ssh -G format (jump hosts first, \
        each after a '# host' line) and exit without connecting.
        """),
    OptionSpec(
      "g", action: .gatewayPorts,
      help: "Let other hosts connect to local listeners: without a bind address they take every address."),
    OptionSpec("q", action: .quiet, help: "Quiet mode: print errors only."),
    OptionSpec(
      "v", action: .verbose,
      help: "Verbose mode: print debug messages. Repeat up to 3 times for more detail."),
    OptionSpec("V", long: "version", action: .version, help: "Print the version and exit."),
    OptionSpec(
      "D", argument: "[bind_address:]port", action: .dynamicForward,
      help: """
        Run a SOCKS 4, 4a and 5 server on port (CONNECT only, no authentication); each \
        client's target is reached from the destination, which also resolves names. Repeat \
        for more.
        """),
    OptionSpec(
      "E", argument: "log_file", action: .logFile,
      help: "Append log lines to log_file instead of writing them to standard error."),
    OptionSpec(
      "F", argument: "configfile", action: .configFile,
      help: """
        Read this ssh_config file instead of ~/.ssh/config and /etc/ssh/ssh_config. \
        'none' reads no file.
        """),
    OptionSpec(
      "I", argument: "pkcs11_module", action: .pkcs11Provider,
      help: """
        Load this PKCS#11 module (path of a shared library) and sign with the keys on its \
        token. Used for the destination, and for each jump host whose config sets no \
        PKCS11Provider.
        """),
    OptionSpec(
      "i", argument: "identity_file", action: .identityFile,
      help: """
        Try the private key in this file. Repeat for more files. Used for the destination, \
        and for each jump host whose config sets no IdentityFile.
        """),
    OptionSpec(
      "J", argument: "destination", action: .jumpHosts,
      help: """
        Reach the destination through these jump hosts: a comma-separated list of \
        [user@]host[:port] in connection order. 'none' ignores ProxyJump in the config.
        """),
    OptionSpec(
      "L", argument: "[bind_address:]port:host:hostport", action: .localForward,
      help: """
        Listen on port (0 picks a free port) at bind_address, which defaults to loopback \
        ('*' means all addresses), and forward each connection to host:hostport as the \
        destination resolves it. Repeat for more forwards.
        """),
    OptionSpec(
      "H", argument: "hop:[bind_address:]port:host:hostport", action: .hopListener,
      help: """
        Ask the jump host hop (named as in -J) to listen on port at bind_address (default \
        localhost on that host; 0 lets it pick), and carry each connection on through the \
        rest of the chain to host:hostport as the destination resolves it. Repeat for more.
        """),
    OptionSpec(
      "l", argument: "login_name", action: .loginName,
      help: "Log in to the destination as this user. Wins over user@ in the destination."),
    OptionSpec(
      "o", argument: "option", action: .configOption,
      help: """
        Set an ssh_config option, as Keyword=value or 'Keyword value'. Repeat for more \
        options. Applies to the destination, and to each jump host whose config does not \
        set the keyword, except HostName, Port, User, HostKeyAlias, ProxyJump, \
        ProxyCommand and the forwards, which apply to the destination only.
        """),
    OptionSpec(
      "R", argument: "[bind_address:]port:host:hostport", action: .remoteForward,
      help: """
        Ask the destination to listen on port at bind_address (default localhost there; 0 \
        lets it pick, and the ready line reports the port) and forward each connection to \
        host:hostport as this machine resolves it. Repeat for more.
        """),
    OptionSpec(
      "W", argument: "host:port", action: .stdioForward,
      help: """
        Carry standard input and output to host:port through the chain, for use as an ssh \
        ProxyCommand. No other forward may be given.
        """),
    OptionSpec(
      "p", argument: "port", action: .port,
      help: "Connect to this TCP port on the destination (1-65535, default 22)."),
    OptionSpec(
      nil, long: "pidfile", argument: "path", action: .pidFile,
      help: """
        Write fwd's process ID to path once every forward is set up (after going to the \
        background with -f), and remove the file on exit.
        """),
    OptionSpec(
      nil, long: "ready-fd", argument: "n", action: .readyFD,
      help: """
        Also write the ready lines to file descriptor n, then close it. A script can wait \
        for the descriptor to close instead of parsing standard output.
        """),
    OptionSpec(
      nil, long: "no-rebuild", action: .noRebuild,
      help: """
        Exit with the chain-lost status (75) when a hop is lost, instead of rebuilding the \
        chain. For CI jobs that prefer to fail.
        """),
    OptionSpec(
      nil, long: "rebuild-attempts", argument: "n", action: .rebuildAttempts,
      help: """
        Give up with the chain-lost status after n failed rebuild attempts in a row. By \
        default fwd retries forever, waiting 1, 1, 2, 4 ... up to 30 s (plus up to a fifth) \
        between attempts.
        """),
    OptionSpec(
      nil, long: "status", action: .statusView,
      help: """
        Show a live status view on standard error while fwd runs: each hop's state and \
        keepalive round-trip time, each forward's active connections and bytes each way. \
        Redrawn every second and erased on exit; ignored unless standard error is a terminal \
        and fwd stays in the foreground.
        """),
    OptionSpec(
      nil, long: "pin-fd", argument: "n", action: .pinFD,
      help: """
        Read the smartcard PIN from the first line of file descriptor n, then close it. \
        Keeps the PIN out of argv and the environment.
        """),
    OptionSpec(
      nil, long: "pin-file", argument: "path", action: .pinFile,
      help: """
        Read the smartcard PIN from the first line of path, which must be a regular file \
        owned by you with mode 600 or 400.
        """),
    OptionSpec(
      nil, long: "pin-allow-final-try", action: .pinAllowFinalTry,
      help: """
        Allow a PIN from --pin-fd or --pin-file to be tried when the token reports one \
        attempt left before the PIN locks. Without it fwd stops instead.
        """),
    OptionSpec(
      "h", long: "help", synopsis: false, action: .help, help: "Print this help and exit."),
  ]

  /// Looks up an option by its letter.
  static func option(flag: Character) -> OptionSpec? {
    all.first { $0.flag == flag }
  }

  /// Looks up an option by its long name.
  static func option(longName: String) -> OptionSpec? {
    all.first { $0.longName == longName }
  }
}
