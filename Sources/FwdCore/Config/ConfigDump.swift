/// Prints a host's effective settings in `ssh -G` format: a lowercase keyword, a space and the
/// value, one line per value for multi-valued keywords, in the order OpenSSH 9.2 prints them.
///
/// Only the keywords fwd supports are printed. Values follow ssh's choices: IdentityFile,
/// CertificateFile, GlobalKnownHostsFile and ProxyCommand unexpanded; UserKnownHostsFile
/// and IdentityAgent expanded; HostKeyAlias lowercased. Ciphers, MACs, KexAlgorithms and
/// HostKeyAlgorithms are printed only when set, as written, because fwd's defaults are
/// libssh2's and ssh prints its own expanded lists.
public enum ConfigDump {
  public static func render(_ settings: HostSettings) -> String {
    var lines: [String] = []
    func add(_ keyword: String, _ value: String?) {
      if let value { lines.append("\(keyword) \(value)") }
    }
    func flag(_ value: Bool) -> String { value ? "yes" : "no" }

    add("host", settings.hostArgument)
    add("user", settings.user)
    add("hostname", settings.hostName)
    add("port", String(settings.port))
    add("addressfamily", settings.addressFamily.rawValue)
    add("batchmode", flag(settings.batchMode))
    add("exitonforwardfailure", flag(settings.exitOnForwardFailure))
    add("gatewayports", flag(settings.gatewayPorts))
    add("hashknownhosts", flag(settings.hashKnownHosts))
    add("identitiesonly", flag(settings.identitiesOnly))
    add("stricthostkeychecking", settings.strictHostKeyChecking.sshGName)
    add("tcpkeepalive", flag(settings.tcpKeepAlive))
    add("connectionattempts", String(settings.connectionAttempts))
    add("serveralivecountmax", String(settings.serverAliveCountMax))
    add("serveraliveinterval", String(settings.serverAliveInterval))
    add("bindaddress", settings.bindAddress)
    add("ciphers", settings.ciphers)
    add("hostkeyalgorithms", settings.hostKeyAlgorithms)
    add("hostkeyalias", settings.hostKeyAlias)
    add("identityagent", settings.identityAgent)
    add("ignoreunknown", settings.ignoreUnknown)
    add("kexalgorithms", settings.kexAlgorithms)
    add("loglevel", settings.logLevel.rawValue)
    add("macs", settings.macs)
    add("pkcs11provider", settings.pkcs11Provider)
    lines += forwardLines(settings)
    lines += rawValues(settings, "identityfile", defaults: HostSettings.defaultIdentityFiles)
      .map { "identityfile \($0)" }
    lines += rawValues(settings, "certificatefile", defaults: []).map { "certificatefile \($0)" }
    let globalDefaults = HostSettings.defaultGlobalKnownHostsFiles(settings.environment)
    add("globalknownhostsfile", oneLine(rawList(settings, "globalknownhostsfile", globalDefaults)))
    add("userknownhostsfile", oneLine(settings.userKnownHostsFiles))
    lines += settings.sendEnv.map { "sendenv \($0)" }
    add("connecttimeout", settings.connectTimeout.map(String.init) ?? "none")
    add("proxycommand", proxyCommandLine(settings))
    add("proxyjump", proxyJumpLine(settings))
    return lines.joined(separator: "\n") + "\n"
  }

  private static func forwardLines(_ settings: HostSettings) -> [String] {
    var lines: [String] = []
    let kinds: [(String, ForwardSyntax.Kind)] = [
      ("dynamicforward", .dynamic), ("localforward", .local), ("remoteforward", .remote),
    ]
    for (keyword, kind) in kinds {
      for value in settings.state.all(keyword) {
        guard case .success(let syntax) = ForwardSyntax.parse(value.arguments[0], kind: kind)
        else { continue }
        lines.append("\(keyword) \(syntax.configDumpText(kind: kind))")
      }
    }
    return lines
  }

  private static func rawValues(
    _ settings: HostSettings, _ keyword: String, defaults: [String]
  ) -> [String] {
    let values = settings.state.all(keyword).map { $0.arguments[0] }
    return values.isEmpty ? defaults : values
  }

  private static func rawList(
    _ settings: HostSettings, _ keyword: String, _ defaults: [String]
  ) -> [String] {
    guard let value = settings.state.first(keyword) else { return defaults }
    return value.arguments.first?.lowercased() == "none" ? [] : value.arguments
  }

  /// Several values on one line, or `none` for an empty list.
  private static func oneLine(_ values: [String]) -> String {
    values.isEmpty ? "none" : values.joined(separator: " ")
  }

  private static func proxyCommandLine(_ settings: HostSettings) -> String? {
    guard settings.state.first("proxyjump").map({ $0.arguments == ["none"] }) ?? true,
      let command = settings.state.first("proxycommand")?.arguments[0],
      command.lowercased() != "none"
    else { return nil }
    return command
  }

  /// ProxyJump as ssh prints it: the hops before the last as written, then the last hop
  /// rebuilt, with brackets around a numeric or IPv6 host.
  private static func proxyJumpLine(_ settings: HostSettings) -> String? {
    guard let text = settings.state.first("proxyjump")?.arguments[0], text != "none",
      let hops = try? HopSpec.parseList(text, label: "ProxyJump hop"), let last = hops.last
    else { return nil }
    var prefix = ""
    if let comma = text.lastIndex(of: ",") { prefix = String(text[...comma]) }
    let numeric = last.host.contains(":") || last.host.allSatisfy { $0 == "." || $0.isNumber }
    var formatted = last.user.map { "\($0)@" } ?? ""
    formatted += numeric ? "[\(last.host)]" : last.host
    if let port = last.port { formatted += ":\(port)" }
    return prefix + formatted
  }
}
