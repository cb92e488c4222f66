/// Builds `HostSettings` from the merged values: fills OpenSSH 9.2's defaults and expands
/// `~`, `%` tokens and `${VARIABLE}` in the keywords where ssh expands them.
extension HostSettings {
  /// Private key files ssh tries when no IdentityFile is given (OpenSSH 9.2, readconf.c).
  static let defaultIdentityFiles = [
    "~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa",
  ]
  static let defaultUserKnownHostsFiles = ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"]

  static func defaultGlobalKnownHostsFiles(_ environment: ConfigEnvironment) -> [String] {
    ["ssh_known_hosts", "ssh_known_hosts2"].map { environment.systemDirectory + "/" + $0 }
  }

  init(
    state: ConfigState, hop: HopSpec, hostName: String, environment: ConfigEnvironment
  ) throws(FwdError) {
    let reader = SettingsReader(state: state, environment: environment)
    let port = reader.integer("port") ?? 22
    let user = reader.string("user") ?? environment.userName
    let alias = reader.string("hostkeyalias")?.lowercased()
    let jumpText = reader.string("proxyjump").flatMap { $0 == "none" ? nil : $0 }
    let tokens = HostTokens(
      hostName: hostName, originalHost: hop.host, port: port, user: user, hostKeyAlias: alias,
      proxyJump: jumpText, environment: environment)
    let expander = PathExpander(tokens: tokens, environment: environment)

    self.state = state
    self.environment = environment
    hostArgument = hop.host
    self.hostName = hostName
    self.port = port
    self.user = user

    identityFiles = try expander.paths(
      state.all("identityfile"), keyword: "IdentityFile", defaults: Self.defaultIdentityFiles)
    identitiesOnly = reader.flag("identitiesonly") ?? false
    identityAgent = try state.first("identityagent").map { value throws(FwdError) in
      try expander.path(value.arguments[0], keyword: "IdentityAgent", source: value.source)
    }
    certificateFiles = try expander.paths(
      state.all("certificatefile"), keyword: "CertificateFile", defaults: [])
    pkcs11Provider = reader.string("pkcs11provider").flatMap {
      $0.lowercased() == "none" ? nil : $0
    }

    proxyJump = try Self.jumpHops(state.first("proxyjump"), tokens: tokens)
    proxyCommand = try Self.proxyCommand(state.first("proxycommand"), tokens: tokens)

    userKnownHostsFiles = try expander.fileList(
      state.first("userknownhostsfile"), keyword: "UserKnownHostsFile",
      defaults: Self.defaultUserKnownHostsFiles, expandTokens: true)
    globalKnownHostsFiles = try expander.fileList(
      state.first("globalknownhostsfile"), keyword: "GlobalKnownHostsFile",
      defaults: Self.defaultGlobalKnownHostsFiles(environment), expandTokens: false)
    strictHostKeyChecking =
      reader.string("stricthostkeychecking").flatMap(StrictHostKeyChecking.init(configValue:)) ?? .ask
    hostKeyAlias = alias
    hashKnownHosts = reader.flag("hashknownhosts") ?? false

    connectTimeout = reader.integer("connecttimeout")
    connectionAttempts = try Self.connectionAttempts(state.first("connectionattempts"))
    // As in ssh, BatchMode turns on keepalives every 5 minutes unless the interval is set.
    let batchMode = reader.flag("batchmode") ?? false
    serverAliveInterval = reader.integer("serveraliveinterval") ?? (batchMode ? 300 : 0)
    serverAliveCountMax = reader.integer("serveralivecountmax") ?? 3
    tcpKeepAlive = reader.flag("tcpkeepalive") ?? true

    localForwards = state.all("localforward").compactMap { value in
      guard case .success(let syntax) = ForwardSyntax.parse(value.arguments[0], kind: .local)
      else { return nil }
      return LocalForwardSpec(syntax)
    }
    remoteForwards = state.all("remoteforward").map { $0.arguments[0] }
    dynamicForwards = state.all("dynamicforward").map { $0.arguments[0] }
    exitOnForwardFailure = reader.flag("exitonforwardfailure") ?? false
    gatewayPorts = reader.flag("gatewayports") ?? false

    self.batchMode = batchMode
    addressFamily = reader.string("addressfamily").flatMap(AddressFamily.init) ?? .any
    bindAddress = reader.string("bindaddress")
    logLevel = reader.string("loglevel").flatMap(SSHLogLevel.init) ?? .info
    ciphers = reader.string("ciphers")
    macs = reader.string("macs")
    kexAlgorithms = reader.string("kexalgorithms")
    hostKeyAlgorithms = reader.string("hostkeyalgorithms")
    sendEnv = state.all("sendenv").map { $0.arguments[0] }
    ignoreUnknown = reader.string("ignoreunknown")
  }

  private static func connectionAttempts(_ value: ConfigValue?) throws(FwdError) -> Int {
    guard let value else { return 1 }
    let attempts = Int(value.arguments[0]) ?? 0
    guard attempts > 0 else {
      throw .configuration("\(value.source): invalid ConnectionAttempts '0': must be at least 1")
    }
    return attempts
  }

  /// Parses ProxyJump and expands `%h %n %p %r` in each hop's user and host, as ssh
  /// expands them in the ProxyCommand it builds from ProxyJump.
  private static func jumpHops(_ value: ConfigValue?, tokens: HostTokens) throws(FwdError)
    -> [HopSpec]
  {
    guard let value, value.arguments[0] != "none" else { return [] }
    let text = value.arguments[0]
    var hops: [HopSpec]
    do {
      hops = try HopSpec.parseList(text, label: "ProxyJump hop")
    } catch {
      throw .configuration("\(value.source): \(error.message)")
    }
    let expansion = TokenExpansion(
      tokens: tokens.proxyTokens, expandsVariables: false, variables: [:])
    do throws(TokenExpansion.Failure) {
      for index in hops.indices {
        hops[index].host = try expansion.expand(hops[index].host)
        if let user = hops[index].user { hops[index].user = try expansion.expand(user) }
      }
    } catch {
      throw .configuration("\(value.source): invalid ProxyJump '\(text)': \(error.reason)")
    }
    for hop in hops {
      if let problem = hop.textFormProblem() {
        throw .configuration("\(value.source): invalid ProxyJump '\(text)': \(problem)")
      }
    }
    return hops
  }

  private static func proxyCommand(_ value: ConfigValue?, tokens: HostTokens) throws(FwdError)
    -> String?
  {
    guard let value, value.arguments[0].lowercased() != "none" else { return nil }
    let expansion = TokenExpansion(
      tokens: tokens.proxyTokens, expandsVariables: false, variables: [:])
    do {
      return try expansion.expand(value.arguments[0])
    } catch {
      throw .configuration(
        "\(value.source): invalid ProxyCommand '\(value.arguments[0])': \(error.reason)")
    }
  }
}

/// Typed reads of first-wins values that were checked when the files were loaded.
private struct SettingsReader {
  let state: ConfigState
  let environment: ConfigEnvironment

  func string(_ name: String) -> String? {
    state.first(name)?.arguments.first
  }

  func integer(_ name: String) -> Int? {
    string(name).flatMap { Int($0) }
  }

  func flag(_ name: String) -> Bool? {
    string(name).map { $0 == "yes" }
  }
}

/// Expands path values: `~` first, then `%` tokens and, where ssh allows, `${VARIABLE}`.
private struct PathExpander {
  let tokens: HostTokens
  let environment: ConfigEnvironment

  func path(
    _ text: String, keyword: String, source: ConfigSource, expandTokens: Bool = true
  ) throws(FwdError) -> String {
    guard let tilded = TildeExpansion.expand(text, environment: environment) else {
      throw .configuration("\(source): invalid \(keyword) '\(text)': unknown user in '~'")
    }
    guard expandTokens else { return tilded }
    do {
      return try tokens.expansion(variables: true).expand(tilded)
    } catch {
      throw .configuration("\(source): invalid \(keyword) '\(text)': \(error.reason)")
    }
  }

  /// Expands accumulated values, or the defaults when there are none.
  func paths(_ values: [ConfigValue], keyword: String, defaults: [String]) throws(FwdError)
    -> [String]
  {
    guard !values.isEmpty else {
      return defaults.compactMap { TildeExpansion.expand($0, environment: environment) }
    }
    var paths: [String] = []
    for value in values {
      paths.append(try path(value.arguments[0], keyword: keyword, source: value.source))
    }
    return paths
  }

  /// Expands a one-line list such as UserKnownHostsFile; `none` gives an empty list.
  func fileList(
    _ value: ConfigValue?, keyword: String, defaults: [String], expandTokens: Bool
  ) throws(FwdError) -> [String] {
    guard let value else {
      return defaults.compactMap { TildeExpansion.expand($0, environment: environment) }
    }
    if value.arguments.first?.lowercased() == "none" { return [] }
    var paths: [String] = []
    for argument in value.arguments {
      paths.append(
        try path(argument, keyword: keyword, source: value.source, expandTokens: expandTokens))
    }
    return paths
  }
}
