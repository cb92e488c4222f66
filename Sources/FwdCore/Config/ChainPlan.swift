import Glibc

/// One hop of a chain: the host as typed and its resolved settings.
public struct ResolvedHop: Sendable {
  /// The hop as written on the command line or in ProxyJump, with its `user@` and `:port`.
  public let spec: HopSpec
  public let settings: HostSettings

  /// The name as typed, which ssh_config `Host` lines matched.
  public var name: String { spec.host }
}

/// The ordered hops from the first jump host to the destination, resolved through ssh_config.
///
/// Jump hosts follow OpenSSH: `-J` replaces the destination's ProxyJump; otherwise the
/// destination's ProxyJump applies. In a jump list `a,b`, ssh reaches `b` as `ssh -J a b`,
/// so `b`'s own ProxyJump is ignored, while `a`, the first of the list, follows its own
/// ProxyJump, whose hosts come before it. `ProxyJump none` ends the chain, and a hop that
/// leads back to itself is a configuration error naming the loop.
///
/// Command-line values apply differently from ssh, which gives them to the destination only:
/// - `-l` and `-p` apply to the destination only, and `user@`/`:port` in a `-J` element
///   apply to that hop.
/// - `-i`, `-I`, `-o`, `-4` and `-6` apply to every hop. On the destination they win over
///   the config as in ssh. On a jump host a keyword the config sets for that host (in any
///   matching block, `Host *` included) keeps the config's value, and the command-line value
///   only fills keywords left unset. For IdentityFile, any config IdentityFile for the jump
///   host means the `-i` files are not added to it.
/// - `-o` with a keyword in `HostCommandLine.destinationOnlyKeywords` (HostName, Port, User,
///   HostKeyAlias, ProxyJump, ProxyCommand and the forwards) applies to the destination only.
public struct ChainPlan: Sendable {
  /// Chains longer than this are reported as probable ProxyJump loops.
  public static let maximumHops = 32

  /// The hops in connection order; the last one is the destination.
  public let hops: [ResolvedHop]

  public var destination: ResolvedHop { hops[hops.count - 1] }

  /// Resolves the chain for an invocation.
  ///
  /// - Throws: `FwdError` with status `.configuration` for a ProxyJump loop or any error
  ///   from resolving a hop.
  public static func resolve(_ invocation: Invocation, config: SSHConfig) throws(FwdError)
    -> ChainPlan
  {
    var invocation = invocation
    invocation.identityFiles = accessibleIdentityFiles(
      invocation.identityFiles, environment: config.environment)
    var planner = ChainPlanner(config: config, invocation: invocation)
    let destinationCommandLine = HostCommandLine(
      loginName: invocation.loginName, port: invocation.port, proxyJump: invocation.jumpHops,
      localForwards: invocation.localForwards, options: invocation.options,
      identityFiles: invocation.identityFiles, pkcs11Provider: invocation.pkcs11Provider,
      addressFamily: invocation.addressFamily, precedence: .overConfig)
    try planner.plan(
      invocation.destination, commandLine: destinationCommandLine, path: [], depth: 1)
    try checkSelfLoops(planner.hops)
    return ChainPlan(hops: planner.hops)
  }

  /// Drops `-i` files that do not exist, with a warning, as ssh does when it reads its
  /// command line. PKCS#11 URIs are kept, and so are paths with an unknown `~user`, which
  /// resolution reports.
  private static func accessibleIdentityFiles(_ files: [String], environment: ConfigEnvironment)
    -> [String]
  {
    files.filter { file in
      guard !file.hasPrefix("pkcs11:"),
        let path = TildeExpansion.expand(file, environment: environment)
      else { return true }
      var status = stat()
      guard stat(path, &status) != 0 else { return true }
      let reason = String(cString: strerror(errno))
      logInfo(nil, "-i \(file): identity file not accessible: \(reason); ignoring it")
      return false
    }
  }

  /// Rejects a jump host that would connect through itself, as ssh's "jumphost loop" check
  /// does: the jump host's name as typed equals the next hop's resolved host name, and port
  /// and user are the same. Two aliases of one server (such as two names for 127.0.0.1 with
  /// the same port) pass, as in ssh.
  private static func checkSelfLoops(_ hops: [ResolvedHop]) throws(FwdError) {
    for (jump, next) in zip(hops, hops.dropFirst()) {
      let a = jump.settings
      let b = next.settings
      if jump.name == b.hostName, a.port == b.port, a.user == b.user {
        throw .configuration(
          "jump host loop: \(next.name) (\(b.user)@\(b.hostName):\(b.port)) would be reached "
            + "through itself")
      }
    }
  }
}

/// Walks ProxyJump recursively, collecting hops in connection order.
private struct ChainPlanner {
  let config: SSHConfig
  let invocation: Invocation
  var hops: [ResolvedHop] = []

  init(config: SSHConfig, invocation: Invocation) {
    self.config = config
    self.invocation = invocation
  }

  /// Command-line values for a jump host: shared options that fill what its config leaves
  /// unset, and the hops before it when it is not first in a jump list.
  func jumpCommandLine(proxyJump: [HopSpec]?) -> HostCommandLine {
    HostCommandLine(
      proxyJump: proxyJump, options: invocation.options, identityFiles: invocation.identityFiles,
      pkcs11Provider: invocation.pkcs11Provider, addressFamily: invocation.addressFamily,
      precedence: .underConfig)
  }

  /// Resolves `hop` and, before it, the hops it is reached through.
  ///
  /// - Parameters:
  ///   - path: the hops on the way here whose own ProxyJump was followed; meeting one of
  ///     them again means the config loops.
  ///   - depth: the number of hops from the destination to this one, counting both.
  mutating func plan(
    _ hop: HopSpec, commandLine: HostCommandLine, path: [HopSpec], depth: Int
  ) throws(FwdError) {
    let settings = try config.resolve(hop, commandLine: commandLine)
    let jumps = commandLine.proxyJump ?? settings.proxyJump
    if let last = jumps.last {
      let before = Array(jumps.dropLast())
      var nextPath = path
      if commandLine.proxyJump == nil { nextPath.append(hop) }
      if before.isEmpty {
        try checkLoop(at: last, path: nextPath, settings: settings)
      }
      guard depth < ChainPlan.maximumHops else {
        throw .configuration(
          "ProxyJump chain to \(invocation.destination.host) is longer than "
            + "\(ChainPlan.maximumHops) hops; check ProxyJump lines for a loop")
      }
      try plan(
        last, commandLine: jumpCommandLine(proxyJump: before.isEmpty ? nil : before),
        path: nextPath, depth: depth + 1)
    }
    hops.append(ResolvedHop(spec: hop, settings: settings))
  }

  /// Fails when `next`, whose own ProxyJump will be followed, is already on the path.
  private func checkLoop(at next: HopSpec, path: [HopSpec], settings: HostSettings)
    throws(FwdError)
  {
    guard let start = path.firstIndex(where: { $0.host == next.host }) else { return }
    let names = path[start...].map(\.host) + [next.host]
    let origin = settings.values("ProxyJump").first.map { " (ProxyJump at \($0.origin))" } ?? ""
    throw .configuration(
      "ProxyJump loop: \(names.joined(separator: " -> "))\(origin); remove one of the "
        + "ProxyJump lines or use ProxyJump none")
  }
}
