/// The ssh_config files, read once and resolved per host as OpenSSH 9.2 resolves them.
///
/// Files: the `-F` file, or `~/.ssh/config` then `/etc/ssh/ssh_config`; `-F none` reads
/// none. Every line is checked when the files are loaded, so a malformed value fails even in
/// a block that does not apply, as in ssh. Unknown keywords fail when resolution reaches
/// them, because IgnoreUnknown may be set by then.
public struct SSHConfig: Sendable {
  let files: [ConfigFile]
  /// The user, home and host facts used for `~`, tokens and defaults.
  public let environment: ConfigEnvironment

  /// The top-level files that were read, in the order they apply.
  public var filePaths: [String] {
    files.map(\.path)
  }

  init(files: [ConfigFile], environment: ConfigEnvironment) {
    self.files = files
    self.environment = environment
  }

  /// Reads and checks the config files.
  ///
  /// - Parameter configFile: the `-F` value: nil for the default files, "none" for no file.
  ///   A `-F` file must exist; the default files may be missing.
  /// - Throws: `FwdError` with status `.configuration`, such as
  ///   `/home/me/.ssh/config:12: invalid Port 'x': not a number 1-65535`.
  public static func load(
    configFile: String? = nil, environment: ConfigEnvironment = .current()
  ) throws(FwdError) -> SSHConfig {
    let loader = ConfigFileLoader(environment: environment)
    var files: [ConfigFile] = []
    if let configFile {
      guard configFile.lowercased() != "none" else {
        return SSHConfig(files: [], environment: environment)
      }
      guard
        let file = try loader.load(configFile, isUserConfig: true, checkPermissions: false)
      else {
        throw .configuration("cannot read config file \(configFile): No such file or directory")
      }
      files.append(file)
    } else {
      let userFile = environment.homeDirectory + "/.ssh/config"
      if let file = try loader.load(userFile, isUserConfig: true, checkPermissions: true) {
        files.append(file)
      }
      if let file = try loader.load(
        environment.systemConfigFile, isUserConfig: false, checkPermissions: false)
      {
        files.append(file)
      }
    }
    return SSHConfig(files: files, environment: environment)
  }

  /// Parses config text held in memory as one user config file named `path`. Include lines
  /// are checked but read no files. Fuzz targets use this to reach the parser and resolver
  /// without the file system.
  static func parse(
    text: String, path: String, environment: ConfigEnvironment
  ) throws(FwdError) -> SSHConfig {
    var loader = ConfigFileLoader(environment: environment)
    loader.readsIncludedFiles = false
    let entries = try loader.parse(text, path: path, isUserConfig: true, depth: 0)
    return SSHConfig(files: [ConfigFile(path: path, entries: entries)], environment: environment)
  }

  /// Resolves the settings of one hop.
  ///
  /// - Parameters:
  ///   - hop: the host as typed; its `user@` and `:port` win over the config.
  ///   - commandLine: values from fwd's command line that apply to this hop.
  /// - Throws: `FwdError` with status `.configuration` for an unknown keyword, a failed
  ///   `Match exec`, an unknown `%` token or an unset `${VARIABLE}`, or `.usage` for an
  ///   invalid `-o` option.
  public func resolve(
    _ hop: HopSpec, commandLine: HostCommandLine = HostCommandLine()
  ) throws(FwdError) -> HostSettings {
    var resolver = HostResolver(config: self, hop: hop, commandLine: commandLine)
    return try resolver.resolve()
  }

  /// Resolves a host name with no command-line values, as `ssh -G -F file host` does.
  public func resolve(host: String) throws(FwdError) -> HostSettings {
    try resolve(HopSpec(host: host))
  }
}

/// Command-line values for one hop, with the precedence rule fwd applies to them.
public struct HostCommandLine: Sendable {
  /// Whether `options`, `identityFiles`, `pkcs11Provider` and `addressFamily` win over the
  /// config (the destination, as in ssh) or fill only keywords the config leaves unset
  /// (jump hosts).
  public enum Precedence: Sendable {
    case overConfig
    case underConfig
  }

  /// `-l`: wins over everything, including `-o User` and `user@`.
  public var loginName: String?
  /// `-p`: wins over everything, including `-o Port` and `:port`.
  public var port: Int?
  /// `-J` or the hops before this one in a jump list: nil to use the config's ProxyJump,
  /// empty for none. Always wins over the config.
  public var proxyJump: [HopSpec]?
  /// `-L` forwards, listed before the config's LocalForward lines.
  public var localForwards: [LocalForwardSpec] = []
  /// `-o` options in the order given.
  public var options: [ConfigOption] = []
  /// `-i` files in the order given.
  public var identityFiles: [String] = []
  /// `-I`.
  public var pkcs11Provider: String?
  /// `-4` or `-6`.
  public var addressFamily: AddressFamily?
  public var precedence: Precedence = .overConfig

  /// Keywords that a `-o` option sets on the destination only, because they name the hop or
  /// what it carries: the address and login (as `-l` and `-p` do), the known_hosts name, the
  /// jump hosts or proxy command (on a jump host they would lead back to it), and forwards,
  /// which only the destination sets up.
  static let destinationOnlyKeywords: Set<String> = [
    "hostname", "port", "user", "hostkeyalias", "proxyjump", "proxycommand", "localforward",
    "remoteforward", "dynamicforward",
  ]

  public init(
    loginName: String? = nil, port: Int? = nil, proxyJump: [HopSpec]? = nil,
    localForwards: [LocalForwardSpec] = [], options: [ConfigOption] = [],
    identityFiles: [String] = [], pkcs11Provider: String? = nil,
    addressFamily: AddressFamily? = nil, precedence: Precedence = .overConfig
  ) {
    self.loginName = loginName
    self.port = port
    self.proxyJump = proxyJump
    self.localForwards = localForwards
    self.options = options
    self.identityFiles = identityFiles
    self.pkcs11Provider = pkcs11Provider
    self.addressFamily = addressFamily
    self.precedence = precedence
  }
}
