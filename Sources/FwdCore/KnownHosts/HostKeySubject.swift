/// A server host key under check, with what the messages about it name.
public struct HostKeySubject: Equatable, Sendable {
  /// The hop as the user named it, e.g. `sign`.
  public var hopName: String
  /// The address fwd connected to (HostName), e.g. `127.0.0.1`.
  public var host: String
  public var port: Int
  public var hostKeyAlias: String?
  /// The server's key type name, e.g. `ssh-ed25519`.
  public var keyType: String
  /// The server's key in SSH wire format.
  public var keyBlob: [UInt8]
  /// The UserKnownHostsFile list; new keys go to the first file.
  public var userKnownHostsFiles: [String]
  /// The previous hop's name when this host is reached through a jump host, so that the
  /// suggested `ssh-keyscan` runs there instead of on this machine.
  public var jumpHost: String?

  public init(
    hopName: String, host: String, port: Int, hostKeyAlias: String? = nil, keyType: String,
    keyBlob: [UInt8], userKnownHostsFiles: [String], jumpHost: String? = nil
  ) {
    self.hopName = hopName
    self.host = host
    self.port = port
    self.hostKeyAlias = hostKeyAlias
    self.keyType = keyType
    self.keyBlob = keyBlob
    self.userKnownHostsFiles = userKnownHostsFiles
    self.jumpHost = jumpHost
  }

  public var lookup: HostKeyLookup {
    HostKeyLookup(host: host, port: port, hostKeyAlias: hostKeyAlias)
  }

  /// The server key's fingerprint, `SHA256:...` as ssh prints it.
  public var fingerprint: String { HostKeyBlob.fingerprint(keyBlob) }

  /// The key type as ssh names it in messages, e.g. `ED25519`.
  public var keyTypeDisplayName: String { HostKeyBlob.displayName(keyType: keyType) }

  /// The start of every message about this key: the hop and its known_hosts name, e.g.
  /// `sign ([127.0.0.1]:2202)`.
  public var context: String { "\(hopName) (\(lookup.name))" }

  /// The file new keys are added to: the first UserKnownHostsFile, else ssh's default.
  public var userKnownHostsFile: String {
    KnownHostsFileIO.expandTilde(userKnownHostsFiles.first ?? "~/.ssh/known_hosts")
  }
}
