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
      forwards.append(makeForward(spec))
    }
    var dynamic = invocation.dynamicForwards
    for text in destination.dynamicForwards {
      dynamic.append(try DynamicForwardSpec.parse(text, label: "DynamicForward"))
    }
    for spec in dynamic {
      forwards.append(
        LocalForward(
          listen: .tcp(bindAddress: spec.bindAddress, port: spec.port), target: .socks, text: "-D \(spec.text)"))
    }
    var remote = invocation.remoteForwards
    for text in destination.remoteForwards { remote.append(try RemoteForwardSpec.parse(text, label: "RemoteForward")) }
    var remoteForwards = remote.map { makeRemote($0, lastHop: targets.count - 1) }
    for spec in invocation.hopListeners {
      remoteForwards.append(try makeHopListener(spec))
    }
    if invocation.stdioForward != nil && !(forwards.isEmpty && remoteForwards.isEmpty) {
      throw FwdError(
        .usage, "-W cannot be combined with -L, -R, -D or -H: standard input and output carry the one connection")
    }
    if forwards.isEmpty && remoteForwards.isEmpty && invocation.stdioForward == nil {
      throw FwdError(.usage, "no forward to set up: give at least one -L, -R, -D, -H or -W")
    }
    var plan = RunPlan(hops: targets, localForwards: forwards, addressFamily: family(destination.addressFamily))
    plan.remoteForwards = remoteForwards
    plan.stdio = invocation.stdioForward
    plan.gatewayPorts = invocation.gatewayPorts || destination.gatewayPorts
    plan.exitOnForwardFailure = destination.values("ExitOnForwardFailure").isEmpty || destination.exitOnForwardFailure
    plan.rebuild = !invocation.noRebuild
    plan.maxRebuildAttempts = invocation.rebuildAttempts
    plan.pendingTimeout = destination.connectTimeout ?? HopConnector.defaultHandshakeTimeout
    return plan
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

  private func makeForward(_ spec: LocalForwardSpec) -> LocalForward {
    let listen: LocalForward.Listen
    switch spec.listener {
    case .tcp(let bindAddress, let port):
      listen = .tcp(bindAddress: spec.bindsAllAddresses ? "*" : bindAddress, port: port)
    case .unixSocket(let path): listen = .unix(path: path)
    }
    let target: LocalForward.Target
    switch spec.target {
    case .tcp(let host, let port): target = .tcp(host: host, port: port)
    case .unixSocket(let path): target = .unix(path: path)
    }
    return LocalForward(listen: listen, target: target, text: "-L \(spec.description)")
  }

  /// The address sent in a tcpip-forward request: "localhost" when none was given, as ssh
  /// sends, and "" (every address, if the server's GatewayPorts allows) for "*".
  private func remoteBind(_ address: String?) -> String {
    switch address {
    case nil: "localhost"
    case "*": ""
    case let address?: address
    }
  }

  private func makeRemote(_ spec: RemoteForwardSpec, lastHop: Int) -> RemoteForward {
    var bind: String?
    var port = 0
    if case .tcp(let host, let listenPort) = spec.syntax.listen {
      bind = host
      port = listenPort
    }
    let target: RemoteForward.Target
    switch spec.syntax.connect {
    case .tcp(let host, let hostPort)?: target = .local(host: host ?? "localhost", port: hostPort)
    case .path(let path)?: target = .localUnix(path: path)
    case nil: target = .local(host: "localhost", port: 0)
    }
    return RemoteForward(
      hopIndex: lastHop, bindAddress: remoteBind(bind), port: port, target: target, text: "-R \(spec.text)")
  }

  private func makeHopListener(_ spec: HopListenerSpec) throws(FwdError) -> RemoteForward {
    guard let index = chain.hops.firstIndex(where: { $0.name == spec.hop || $0.settings.hostName == spec.hop }) else {
      let names = chain.hops.map(\.name).joined(separator: ", ")
      throw FwdError(
        .usage, "invalid -H listener '\(spec.text)': no hop named '\(spec.hop)' in the chain (hops: \(names))")
    }
    return RemoteForward(
      hopIndex: index, bindAddress: remoteBind(spec.bindAddress), port: spec.port,
      target: .lastHop(host: spec.targetHost, port: spec.targetPort), text: "-H \(spec.text)")
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

  private func family(_ family: AddressFamily?) -> Int32 {
    switch family {
    case .inet: AF_INET
    case .inet6: AF_INET6
    case .any, nil: AF_UNSPEC
    }
  }
}
