/// The action the command line requests.
public enum ParsedCommand: Equatable, Sendable {
  /// Build the chain and serve the forwards.
  case run(Invocation)
  /// Print this help text to stdout and exit 0.
  case help(String)
  /// Print the version and exit 0.
  case version
}

/// The address family from `-4`, `-6` or AddressFamily.
public enum AddressFamily: String, Sendable, CaseIterable {
  case any
  case inet
  case inet6
}

/// A `-o` option: a ssh_config keyword and its value text as written after the keyword.
public struct ConfigOption: Hashable, Sendable {
  public var keyword: String
  public var value: String

  public init(keyword: String, value: String) {
    self.keyword = keyword
    self.value = value
  }
}

/// Every value given on the command line, before ssh_config is read.
public struct Invocation: Equatable, Sendable {
  /// The last hop, through which the forwards run.
  public var destination: HopSpec
  /// The `-J` hops in connection order: nil when `-J` was not given, empty for `-J none`.
  public var jumpHops: [HopSpec]?
  public var localForwards: [LocalForwardSpec] = []
  /// `-i` files in the order given, as written (`~` is expanded when the config is resolved).
  public var identityFiles: [String] = []
  /// `-F`: nil for the default files, "none" to read no file.
  public var configFile: String?
  /// `-l`, which wins over `user@` in the destination.
  public var loginName: String?
  /// `-p`, which wins over `:port` in the destination.
  public var port: Int?
  /// `-o` options in the order given.
  public var options: [ConfigOption] = []
  /// The number of `-v` flags, 0 to 3.
  public var verbosity: Int = 0
  /// `-q`.
  public var quiet: Bool = false
  /// `-4` or `-6`. The last one given wins.
  public var addressFamily: AddressFamily?
  /// `-I`, the PKCS#11 module. The last one given wins.
  public var pkcs11Provider: String?
  /// `-f`: go to the background once every forward is up.
  public var background: Bool = false
  /// `-E`: the file log lines are appended to.
  public var logFile: String?
  /// `-G`: print the configuration and exit.
  public var printConfig: Bool = false
  /// `--pidfile`.
  public var pidFile: String?
  /// `--ready-fd`.
  public var readyFD: Int32?
  /// `--status`: draw the live status view on stderr when it is a terminal.
  public var statusView: Bool = false
  /// `--pin-fd` or `--pin-file`; nil asks interactively.
  public var pinSource: PINSource?
  /// `--pin-allow-final-try`.
  public var pinAllowFinalTry: Bool = false
  /// `-R`.
  public var remoteForwards: [RemoteForwardSpec] = []
  /// `-D`.
  public var dynamicForwards: [DynamicForwardSpec] = []
  /// `-H`.
  public var hopListeners: [HopListenerSpec] = []
  /// `-W`.
  public var stdioForward: StdioForward?
  /// `-g`.
  public var gatewayPorts: Bool = false
  /// `--no-rebuild`.
  public var noRebuild: Bool = false
  /// `--rebuild-attempts`.
  public var rebuildAttempts: Int?

  public init(destination: HopSpec) {
    self.destination = destination
  }
}
