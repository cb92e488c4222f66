import FwdBindings

/// ssh_config keywords that OpenSSH's client accepts and fwd does not use. fwd accepts them
/// with any arguments and notes them at debug level, so a config written for ssh loads.
///
/// The list contains the client keywords of OpenSSH 9.2 (readconf.c), its deprecated and
/// unsupported names, Debian's GSSAPI additions, and keywords added up to OpenSSH 9.8
/// (Tag, ChannelTimeout, ObscureKeystrokeTiming). A keyword in neither this list nor
/// `ConfigKeyword.supported` is an error unless IgnoreUnknown matches it.
enum IgnoredKeywords {
  static let names: Set<String> = [
    // Authentication and agent.
    "addkeystoagent", "challengeresponseauthentication", "dsaauthentication",
    "enablesshkeysign", "forwardagent", "hostbasedacceptedalgorithms",
    "hostbasedauthentication", "hostbasedkeytypes", "kbdinteractiveauthentication",
    "kbdinteractivedevices", "numberofpasswordprompts", "passwordauthentication",
    "preferredauthentications", "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes",
    "pubkeyauthentication", "securitykeyprovider", "skeyauthentication", "tisauthentication",
    // GSSAPI, including Debian's key-exchange patch.
    "gssapiauthentication", "gssapiclientidentity", "gssapidelegatecredentials",
    "gssapikeyexchange", "gssapikexalgorithms", "gssapirenewalforcesrekey",
    "gssapiserveridentity", "gssapitrustdns",
    // Host keys and known_hosts.
    "casignaturealgorithms", "checkhostip", "fingerprinthash", "knownhostscommand",
    "nohostauthenticationforlocalhost", "requiredrsasize", "revokedhostkeys",
    "updatehostkeys", "verifyhostkeydns", "visualhostkey",
    // Host name canonicalisation (fwd does not resolve CNAMEs or search domains).
    "canonicaldomains", "canonicalizefallbacklocal", "canonicalizemaxdots",
    "canonicalizepermittedcnames",
    // Sessions, terminals and commands.
    "enableescapecommandline", "escapechar", "forkafterauthentication", "localcommand",
    "obscurekeystroketiming", "permitlocalcommand", "remotecommand", "requesttty",
    "sessiontype", "setenv", "stdinnull",
    // X11, tunnels and other forwarding fwd does not offer.
    "clearallforwardings", "forwardx11", "forwardx11timeout", "forwardx11trusted",
    "permitremoteopen", "streamlocalbindmask", "streamlocalbindunlink", "tunnel",
    "tunneldevice", "xauthlocation",
    // Connection multiplexing, transport and logging details.
    "bindinterface", "channeltimeout", "compression", "controlmaster", "controlpath",
    "controlpersist", "ipqos", "logverbose", "proxyusefdpass", "rekeylimit",
    "syslogfacility", "tag",
    // Deprecated or unsupported names that OpenSSH 9.2 still accepts.
    "afstokenpassing", "cipher", "compressionlevel", "fallbacktorsh",
    "globalknownhostsfile2", "kerberosauthentication", "kerberostgtpassing", "protocol",
    "rhostsauthentication", "rhostsrsaauthentication", "rsaauthentication", "useprivilegedport",
    "userknownhostsfile2", "useroaming", "usersh",
  ]
}

/// Logs at debug1 that fwd ignores a keyword, once per keyword in a process: a config read
/// for several hops, or with a keyword on many lines, would otherwise repeat the note.
enum IgnoredKeywordNote {
  private static let noted = NotedNames()

  /// Logs `where: ignoring Keyword, which fwd does not use` unless the keyword (in any case)
  /// was noted before.
  static func note(_ keyword: String, at origin: String) {
    guard noted.insert(keyword.lowercased()) else { return }
    logDebug("config", "\(origin): ignoring \(keyword), which fwd does not use")
  }
}

/// A set of names shared by the threads that resolve config.
private final class NotedNames: @unchecked Sendable {
  private let lock = Lock()
  private var names: Set<String> = []

  /// Adds `name`; returns whether it was new.
  func insert(_ name: String) -> Bool {
    lock.withLock { names.insert(name).inserted }
  }
}
