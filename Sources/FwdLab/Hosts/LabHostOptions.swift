/// The loopback address family an sshd of the lab listens on.
public enum LabAddressFamily: Sendable {
  /// 127.0.0.1, and sshd's default `AddressFamily any` for its outgoing connections.
  case ipv4
  /// ::1 with `AddressFamily inet6`, so sshd also opens forwards over IPv6 only: "localhost" as
  /// a forward target then means [::1].
  case ipv6

  public var loopbackAddress: String {
    switch self {
    case .ipv4: "127.0.0.1"
    case .ipv6: "::1"
    }
  }
}

/// The settings of one sshd host of the lab.
public struct LabHostOptions: Sendable {
  /// The host's alias in the lab's ssh_config, e.g. "build".
  public var name: String
  public var addressFamily: LabAddressFamily
  /// Extra sshd_config lines, e.g. "PermitOpen 127.0.0.1:80" or "RekeyLimit 1M". They come
  /// before the lab's own lines, and sshd takes the first value of a keyword, so they override
  /// the lab's settings. A `Match` block cannot be given here because it would swallow the
  /// lab's lines.
  public var sshdConfig: [String]
  /// Extra lines for this host's entry in every ssh_config the lab writes.
  public var sshConfig: [String]

  public init(
    _ name: String, addressFamily: LabAddressFamily = .ipv4, sshdConfig: [String] = [],
    sshConfig: [String] = []
  ) {
    self.name = name
    self.addressFamily = addressFamily
    self.sshdConfig = sshdConfig
    self.sshConfig = sshConfig
  }
}
