import FwdBindings

/// Resolves one hop: applies the command line, reads the files in one or two passes as
/// OpenSSH does, and builds the settings.
///
/// The first pass matches `Host` lines against the name as typed, case-sensitively, and
/// `Match host` against HostName (with `%h` expanded) or that name, case-insensitively.
/// A second pass follows when a `Match final` line exists anywhere or CanonicalizeHostname
/// is yes or always. It re-reads the files with the host name resolved and lowercased
/// (unless it is an address), so `Host` lines then match the resolved name, and
/// `Match canonical` and `Match final` blocks apply. Values from the first pass stay,
/// because the first value wins. This is how ssh treats these blocks when it does not
/// canonicalise, which is always the case in fwd.
///
/// NOTE: fwd does not canonicalise host names through DNS (CanonicalDomains and
/// CanonicalizePermittedCNAMEs are ignored), so the second pass sees the HostName value where
/// ssh might see a longer canonical name. Numeric addresses are also kept as written, where
/// ssh rewrites forms such as `127.1` to `127.0.0.1`.
struct HostResolver {
  let config: SSHConfig
  let hop: HopSpec
  let commandLine: HostCommandLine
  var state = ConfigState()
  var wantsFinalPass = false

  init(config: SSHConfig, hop: HopSpec, commandLine: HostCommandLine) {
    self.config = config
    self.hop = hop
    self.commandLine = commandLine
  }

  var environment: ConfigEnvironment { config.environment }

  mutating func resolve() throws(FwdError) -> HostSettings {
    let shared = try sharedCommandLineSettings()
    applyHopCommandLine()
    // A jump host gets the shared values after its config, except IgnoreUnknown, which
    // must be in force while the files are read.
    for setting in shared
    where commandLine.precedence == .overConfig || setting.keyword.name == "ignoreunknown" {
      state.apply(setting)
    }
    applyHopSpec()

    try runPass(host: hop.host, isFinalPass: false)
    let hostName = try resolvedHostName()
    if let canonicalize = state.first("canonicalizehostname"), canonicalize.arguments != ["false"] {
      logDebug(hop.host, "CanonicalizeHostname is set; fwd re-reads the config without DNS lookups")
      wantsFinalPass = true
    }
    if wantsFinalPass {
      let source = state.first("hostname")?.source ?? .commandLine
      state.setHostName(hostName, source: source)
      try runPass(host: hostName, isFinalPass: true)
    }
    if commandLine.precedence == .underConfig {
      applyUnlessConfigured(
        shared.filter { !HostCommandLine.destinationOnlyKeywords.contains($0.keyword.name) })
    }
    return try HostSettings(state: state, hop: hop, hostName: hostName, environment: environment)
  }
}

// MARK: - Command line

extension HostResolver {
  /// Applies `-J`, `-l`, `-p` and `-L`, which win over any config value for this hop.
  private mutating func applyHopCommandLine() {
    if let jumps = commandLine.proxyJump {
      let text = jumps.isEmpty ? "none" : jumps.map(\.description).joined(separator: ",")
      state.apply(setting("ProxyJump", text))
    }
    if let user = commandLine.loginName { state.apply(setting("User", user)) }
    if let port = commandLine.port { state.apply(setting("Port", String(port))) }
    for forward in commandLine.localForwards {
      state.apply(setting("LocalForward", forward.description))
    }
  }

  /// `user@` and `:port` of the hop as typed, which lose only to `-l`, `-p` and `-o`.
  private mutating func applyHopSpec() {
    if let user = hop.user { state.apply(setting("User", user)) }
    if let port = hop.port { state.apply(setting("Port", String(port))) }
  }

  /// `-I`, `-4`/`-6`, `-i` and `-o` as settings, in the order ssh applies them: `-I` and
  /// `-4`/`-6` first because they replace any `-o` value in ssh.
  private func sharedCommandLineSettings() throws(FwdError) -> [ConfigSetting] {
    var settings: [ConfigSetting] = []
    if let provider = commandLine.pkcs11Provider {
      settings.append(setting("PKCS11Provider", provider))
    }
    if let family = commandLine.addressFamily {
      settings.append(setting("AddressFamily", family.rawValue))
    }
    for file in commandLine.identityFiles {
      guard let path = TildeExpansion.expand(file, environment: environment) else {
        throw .usage("invalid -i file '\(file)': unknown user in '~'")
      }
      settings.append(setting("IdentityFile", path))
    }
    for option in commandLine.options {
      switch try CommandLineConfigOption.entry(for: option) {
      case .setting(let value):
        if value.keyword.syntax == .unchecked {
          IgnoredKeywordNote.note(value.keyword.displayName, at: "-o")
        }
        settings.append(value)
      case .unknown(let keyword, _):
        logDebug(hop.host, "-o \(keyword): ignoring an unknown keyword matched by IgnoreUnknown")
      default:
        break
      }
    }
    return settings
  }

  /// Applies command-line settings to a jump host, keyword by keyword, only where the
  /// config set nothing for that keyword.
  private mutating func applyUnlessConfigured(_ settings: [ConfigSetting]) {
    let configured = Set(settings.map(\.keyword).filter { state.isSet($0) }.map(\.name))
    for setting in settings where !configured.contains(setting.keyword.name) {
      state.apply(setting)
    }
  }

  private func setting(_ keyword: String, _ value: String) -> ConfigSetting {
    ConfigSetting(keyword: .known(keyword), values: [value], source: .commandLine)
  }
}

// MARK: - Passes

extension HostResolver {
  /// The name, port and user that a pass matches against.
  struct PassContext {
    var host: String
    var isFinalPass: Bool
  }

  private mutating func runPass(host: String, isFinalPass: Bool) throws(FwdError) {
    let context = PassContext(host: host, isFinalPass: isFinalPass)
    for file in config.files {
      var active = true
      try walk(file.entries, active: &active, neverMatch: false, context: context)
    }
  }

  /// Applies the entries of one file.
  ///
  /// - Parameters:
  ///   - active: whether the current Host or Match block applies.
  ///   - neverMatch: whether the file was included from a block that does not apply, in
  ///     which case none of its blocks apply either.
  private mutating func walk(
    _ entries: [ConfigEntry], active: inout Bool, neverMatch: Bool, context: PassContext
  ) throws(FwdError) {
    for entry in entries {
      switch entry {
      case .host(let patterns, let source):
        active = !neverMatch && HostPattern.hostLineMatches(context.host, patterns: patterns)
        if active {
          logDebug3(hop.host, "\(source): applying Host \(patterns.joined(separator: " "))")
        }
      case .match(let condition, let source):
        if condition.requestsFinalPass { wantsFinalPass = true }
        // Blocks included from a block that does not apply never apply, so their Match
        // lines are not evaluated and their exec commands do not run.
        active = neverMatch ? false : try evaluate(condition, source: source, context: context)
      case .include(let files, _):
        let includingBlockApplies = active
        for file in files {
          try walk(
            file.entries, active: &active, neverMatch: neverMatch || !includingBlockApplies,
            context: context)
          active = includingBlockApplies
        }
      case .setting(let setting):
        if active { state.apply(setting) }
      case .unknown(let keyword, let source):
        try checkIgnored(keyword, source: source)
      }
    }
  }

  private func checkIgnored(_ keyword: String, source: ConfigSource) throws(FwdError) {
    let patterns = state.first("ignoreunknown")?.arguments.first
    let ignored =
      patterns.map {
        HostPattern.matchesList(keyword.lowercased(), list: $0, lowercasePatterns: true) == .matched
      } ?? false
    guard ignored else { throw .configuration("\(source): unknown keyword '\(keyword)'") }
    logDebug3(hop.host, "\(source): ignoring unknown keyword \(keyword) (IgnoreUnknown)")
  }

  private func evaluate(
    _ condition: MatchCondition, source: ConfigSource, context: PassContext
  ) throws(FwdError) -> Bool {
    let matchHost: String
    if context.isFinalPass {
      matchHost = context.host
    } else if let hostName = state.first("hostname") {
      matchHost = try expandHostName(hostName)
    } else {
      matchHost = context.host
    }
    let subject = MatchCondition.Subject(
      host: matchHost, originalHost: hop.host,
      remoteUser: state.first("user")?.arguments[0] ?? environment.userName,
      localUser: environment.userName, isFinalPass: context.isFinalPass,
      runExec: { (command) throws(FwdError) -> Bool in
        try runExec(command, host: matchHost, source: source)
      })
    let matched = try condition.evaluate(subject)
    logDebug3(hop.host, "\(source): Match \(matched ? "applies" : "does not apply")")
    return matched
  }

  private func runExec(_ command: String, host: String, source: ConfigSource) throws(FwdError)
    -> Bool
  {
    let tokens = HostTokens(
      hostName: host, originalHost: hop.host,
      port: state.first("port").flatMap { Int($0.arguments[0]) } ?? 22,
      user: state.first("user")?.arguments[0] ?? environment.userName,
      hostKeyAlias: state.first("hostkeyalias")?.arguments[0] ?? host,
      proxyJump: state.first("proxyjump")?.arguments[0], environment: environment)
    let expanded: String
    do {
      expanded = try tokens.expansion(variables: false).expand(command)
    } catch {
      throw .configuration("\(source): invalid Match exec '\(command)': \(error.reason)")
    }
    logDebug2(hop.host, "\(source): running Match exec '\(expanded)'")
    guard let status = environment.runCommand(expanded) else {
      throw .configuration("\(source): Match exec '\(expanded)' did not exit normally")
    }
    return status == 0
  }
}

// MARK: - Host name

extension HostResolver {
  /// HostName with `%h` expanded, or the name as typed; lowercased unless it is an address.
  /// A numeric address is rewritten in its standard form (`127.1` becomes `127.0.0.1`,
  /// `FE80::0001` becomes `fe80::1`), as ssh 9.2 rewrites it whether or not it canonicalises
  /// host names, so known_hosts and the final pass see the same name as in ssh.
  private func resolvedHostName() throws(FwdError) -> String {
    let name = try state.first("hostname").map(expandHostName) ?? hop.host
    if let numeric = SocketAddress.numericHost(name) { return numeric }
    return HostResolver.looksLikeAddress(name) ? name : name.lowercased()
  }

  private func expandHostName(_ value: ConfigValue) throws(FwdError) -> String {
    let expansion = TokenExpansion(tokens: ["h": hop.host], expandsVariables: false, variables: [:])
    do {
      return try expansion.expand(value.arguments[0])
    } catch {
      throw .configuration(
        "\(value.source): invalid HostName '\(value.arguments[0])': \(error.reason)")
    }
  }

  /// Returns whether ssh would treat `name` as an address and keep its case, which it does
  /// when the name contains `:` or `%` or only digits and dots (OpenSSH's is_addr_fast).
  static func looksLikeAddress(_ name: String) -> Bool {
    name.contains(":") || name.contains("%")
      || name.allSatisfy { $0 == "." || ($0.isASCII && $0.isNumber) }
  }
}
