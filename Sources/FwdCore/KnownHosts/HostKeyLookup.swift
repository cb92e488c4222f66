/// The names under which ssh 9.x looks up a host's keys in known_hosts.
///
/// The name is the lowercased host for port 22 and `[host]:port` for other ports. A
/// HostKeyAlias replaces that name entirely, port included. When no line lists the
/// `[host]:port` name, ssh also checks the port-less name (`portlessName`) and accepts a
/// matching key found there. OpenSSH 9.2p1 logs this as "checking without port identifier".
public struct HostKeyLookup: Equatable, Sendable {
  /// The name written into and looked up in known_hosts, e.g. `[127.0.0.1]:2202`.
  public let name: String
  /// The bare host name ssh falls back to for ports other than 22 without an alias.
  public let portlessName: String?

  public init(host: String, port: Int, hostKeyAlias: String? = nil) {
    if let alias = hostKeyAlias {
      name = alias.lowercased()
      portlessName = nil
    } else if port == 22 || port == 0 {
      name = host.lowercased()
      portlessName = nil
    } else {
      name = "[\(host.lowercased())]:\(port)"
      portlessName = host.lowercased()
    }
  }
}
