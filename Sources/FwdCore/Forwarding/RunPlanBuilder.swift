import FwdBindings
import Glibc

/// Turns the parsed command line and the resolved chain into what the runtime needs.
struct RunPlanBuilder {
  let invocation: Invocation
  let chain: ChainPlan

  func build() throws(FwdError) -> RunPlan {
    var targets: [HopTarget] = []
    for (index, hop) in chain.hops.enumerated() {
      var target = makeTarget(hop)
      if index > 0 { target.jumpHostName = chain.hops[index - 1].name }
      try checkAlgorithms(target)
      targets.append(target)
    }
    let destination = chain.destination.settings
    var forwards: [LocalForward] = []
    for spec in destination.localForwards {
      forwards.append(try makeForward(spec, gatewayPorts: destination.gatewayPorts))
    }
    let unsupported =
      destination.remoteForwards.map { "RemoteForward \($0)" }
      + destination.dynamicForwards.map { "DynamicForward \($0)" }
    for forward in unsupported {
      logInfo(chain.destination.name, "\(forward) not set up: fwd sets up local forwards only")
    }
    if forwards.isEmpty {
      throw FwdError(.usage, "no forward to set up: give at least one -L [bind_address:]port:host:hostport")
    }
    return RunPlan(hops: targets, localForwards: forwards, addressFamily: family(destination.addressFamily))
  }

  private func makeTarget(_ hop: ResolvedHop) -> HopTarget {
    let settings = hop.settings
    var target = HopTarget(name: hop.name, hostName: settings.hostName, port: settings.port, user: settings.user)
    target.identityFiles = settings.identityFiles.filter { !$0.hasPrefix("pkcs11:") }
    target.identityFilesExplicit = !settings.values("IdentityFile").isEmpty || !invocation.identityFiles.isEmpty
    target.identitiesOnly = settings.identitiesOnly
    target.identityAgent = settings.identityAgent
    target.userKnownHostsFiles = settings.userKnownHostsFiles
    target.globalKnownHostsFiles = settings.globalKnownHostsFiles
    target.strictHostKeyChecking = settings.strictHostKeyChecking
    target.hostKeyAlias = settings.hostKeyAlias
    target.hashKnownHosts = settings.hashKnownHosts
    target.connectTimeout = settings.connectTimeout
    target.batchMode = settings.batchMode
    target.addressFamily = family(settings.addressFamily)
    if !settings.values("ServerAliveInterval").isEmpty {
      target.serverAliveInterval = settings.serverAliveInterval
    }
    target.serverAliveCountMax = settings.serverAliveCountMax
    target.tcpKeepAlive = settings.tcpKeepAlive
    target.usesToken = settings.pkcs11Provider.map { $0.lowercased() != "none" } ?? false
    target.proxyCommand = settings.proxyCommand
    target.connectionAttempts = settings.connectionAttempts
    target.bindAddress = settings.bindAddress
    target.algorithms = algorithmSettings(settings)
    return target
  }

  private func algorithmSettings(_ settings: HostSettings) -> [AlgorithmSetting] {
    let values: [(AlgorithmSetting.Keyword, String?)] = [
      (.ciphers, settings.ciphers), (.macs, settings.macs),
      (.kexAlgorithms, settings.kexAlgorithms), (.hostKeyAlgorithms, settings.hostKeyAlgorithms),
    ]
    return values.compactMap { keyword, value in
      guard let value else { return nil }
      let origin = settings.values(keyword.rawValue).first?.origin ?? "command line"
      return AlgorithmSetting(keyword: keyword, value: value, origin: origin)
    }
  }

  /// Fails before any connection when a hop's algorithm list leaves nothing libssh2 supports.
  private func checkAlgorithms(_ target: HopTarget) throws(FwdError) {
    for setting in target.algorithms {
      let supported = SSHSession.supportedMethods(setting.keyword.methodKinds[0])
      _ = try setting.resolve(supported: supported)
    }
  }

  /// Builds a listener spec. As in ssh, GatewayPorts yes makes a forward without a bind
  /// address listen on every address.
  private func makeForward(_ spec: LocalForwardSpec, gatewayPorts: Bool) throws(FwdError)
    -> LocalForward
  {
    guard let port = spec.listenPort, let host = spec.targetHost, let hostPort = spec.targetPort else {
      throw FwdError(.usage, "LocalForward \(spec): Unix-domain socket forwards are not supported yet")
    }
    var bind: String? = spec.bindsAllAddresses ? "*" : spec.bindAddress
    if bind == nil && gatewayPorts { bind = "*" }
    return LocalForward(
      bindAddress: bind, listenPort: port, targetHost: host, targetPort: hostPort, text: spec.description)
  }

  private func family(_ family: AddressFamily?) -> Int32 {
    switch family {
    case .inet: AF_INET
    case .inet6: AF_INET6
    case .any, nil: AF_UNSPEC
    }
  }
}
