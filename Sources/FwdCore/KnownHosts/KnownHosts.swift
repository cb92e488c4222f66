/// The result of checking a server's host key against known_hosts.
public enum HostKeyVerification: Equatable, Sendable {
  /// A line for the host lists this key.
  case trusted(KnownHostsLocation)
  /// No line for the host lists a key of any type.
  case notFound
  /// Lines for the host list other keys and none lists this one. As in OpenSSH 9.2, this
  /// includes a host known only by keys of other types. The location is a line with a key
  /// of the server's type when there is one, otherwise the last line for the host.
  case changed(expectedKeyType: String, oldKey: KnownHostsLocation)
  /// A `@revoked` line for the host lists this key. It wins over any line that trusts the key.
  case revoked(KnownHostsLocation)
}

/// The host-key lines of one or more known_hosts files, in file order, for lookups as ssh 9.x
/// does them.
public struct KnownHosts: Sendable {
  public private(set) var entries: [KnownHostsEntry] = []
  /// Lines that did not parse; callers log them at debug level.
  public private(set) var skippedLines: [KnownHostsSkippedLine] = []
  /// Files that exist but could not be read; ssh ignores these too.
  public private(set) var unreadableFiles: [KnownHostsUnreadableFile] = []

  public init() {}

  /// Reads the files in order (UserKnownHostsFile entries, then GlobalKnownHostsFile entries).
  /// Missing files are skipped. A leading `~` is expanded; ssh_config tokens and the value
  /// `none` are the caller's to resolve.
  public init(files: [String]) {
    for path in files {
      let expanded = KnownHostsFileIO.expandTilde(path)
      switch KnownHostsFileIO.readFile(expanded) {
      case .missing:
        continue
      case .failed(let reason):
        unreadableFiles.append(KnownHostsUnreadableFile(path: expanded, reason: reason))
      case .contents(let bytes):
        append(KnownHostsParser.parse(bytes, file: expanded))
      }
    }
  }

  /// Parses known_hosts text held in memory; `file` names the lines' locations.
  public init(text: String, file: String) {
    append(KnownHostsParser.parse(text, file: file))
  }

  public mutating func append(_ parsed: KnownHostsParser.Result) {
    entries += parsed.entries
    skippedLines += parsed.skipped
  }

  /// Checks the key the server sent. `keyType` is the server's key type name as libssh2
  /// reports it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`); `keyBlob` is the key in
  /// SSH wire format.
  public func verify(
    host: String, port: Int, hostKeyAlias: String? = nil, keyType: String, keyBlob: [UInt8]
  ) -> HostKeyVerification {
    let lookup = HostKeyLookup(host: host, port: port, hostKeyAlias: hostKeyAlias)
    return verify(lookup, keyType: keyType, keyBlob: keyBlob)
  }

  /// Checks the key the server sent under the names in `lookup`.
  public func verify(_ lookup: HostKeyLookup, keyType: String, keyBlob: [UInt8])
    -> HostKeyVerification
  {
    let result = verify(name: lookup.name, keyType: keyType, keyBlob: keyBlob)
    guard result == .notFound, let portless = lookup.portlessName else { return result }
    // ssh 9.2 accepts a matching key under the port-less name but treats a different key
    // there as unknown. NOTE: ssh treats a key revoked only under the port-less name as
    // unknown too; fwd reports it as revoked, the safer reading.
    switch verify(name: portless, keyType: keyType, keyBlob: keyBlob) {
    case .trusted(let location): return .trusted(location)
    case .revoked(let location): return .revoked(location)
    case .notFound, .changed: return .notFound
    }
  }

  /// Returns the key type names listed for the host, in file order and without repeats, so
  /// the caller can set libssh2's host-key method preference. libssh2 1.10 prefers ECDSA, so
  /// without that preference a host known only by an Ed25519 key is reported as not found.
  /// `@revoked` and `@cert-authority` lines do not count, and the types of revoked keys come
  /// last. When the `[host]:port` name has no keys, the port-less name's keys are returned,
  /// matching the fallback in `verify`.
  public func knownKeyTypes(host: String, port: Int, hostKeyAlias: String? = nil) -> [String] {
    let lookup = HostKeyLookup(host: host, port: port, hostKeyAlias: hostKeyAlias)
    let types = keyTypes(name: lookup.name)
    guard types.isEmpty, let portless = lookup.portlessName else { return types }
    return keyTypes(name: portless)
  }

  /// Returns the `@cert-authority` lines that match the host. fwd skips them because it does
  /// not support host certificates; callers note them at `-v`.
  public func certificateAuthorityLines(host: String, port: Int, hostKeyAlias: String? = nil)
    -> [KnownHostsLocation]
  {
    let lookup = HostKeyLookup(host: host, port: port, hostKeyAlias: hostKeyAlias)
    return entries.filter { entry in
      entry.marker == .certificateAuthority && entry.hosts.matches(lookup.name)
    }.map(\.location)
  }

  /// Returns the entries whose host field matches the lookup name, in file order.
  public func entries(matching name: String) -> [KnownHostsEntry] {
    let lowered = name.lowercased()
    return entries.filter { $0.hosts.matches(lowered) }
  }

  private func verify(name: String, keyType: String, keyBlob: [UInt8]) -> HostKeyVerification {
    let matching = entries(matching: name)
    let revoked = matching.first { $0.marker == .revoked && $0.keyBlob == keyBlob }
    if let revoked { return .revoked(revoked.location) }

    let plain = matching.filter { $0.marker == .none }
    if let trusted = plain.first(where: { $0.keyBlob == keyBlob }) {
      return .trusted(trusted.location)
    }
    guard let last = plain.last else { return .notFound }
    let old = plain.last { $0.keyType == keyType } ?? last
    return .changed(expectedKeyType: old.keyType, oldKey: old.location)
  }

  /// Returns the key types of the plain lines for `name`, with the types of keys that a
  /// `@revoked` line lists last, as ssh 9.2 orders host-key algorithms. A host whose Ed25519
  /// key is revoked but whose ECDSA key is listed is so reached with ECDSA. A host known only
  /// by a revoked key is rejected as revoked rather than as changed.
  private func keyTypes(name: String) -> [String] {
    let matching = entries(matching: name)
    let revoked = Set(matching.filter { $0.marker == .revoked }.map(\.keyBlob))
    var usable: [String] = []
    var revokedTypes: [String] = []
    for entry in matching where entry.marker == .none {
      if revoked.contains(entry.keyBlob) {
        if !revokedTypes.contains(entry.keyType) { revokedTypes.append(entry.keyType) }
      } else if !usable.contains(entry.keyType) {
        usable.append(entry.keyType)
      }
    }
    return usable + revokedTypes.filter { !usable.contains($0) }
  }
}
