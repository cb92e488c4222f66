/// A line in a known_hosts file, printed as `file:line` (line numbers start at 1).
public struct KnownHostsLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
  public let file: String
  public let line: Int

  public init(file: String, line: Int) {
    self.file = file
    self.line = line
  }

  public var description: String { "\(file):\(line)" }
}

/// The marker that may start a known_hosts line.
public enum KnownHostsMarker: Equatable, Sendable {
  case none
  /// `@revoked`: the key must never be accepted for the matching hosts.
  case revoked
  /// `@cert-authority`: the key is a CA for host certificates, which fwd does not support.
  case certificateAuthority
}

/// The host field of a known_hosts line.
public enum KnownHostsHostField: Equatable, Sendable {
  /// A comma-separated pattern list as written, lowercased: `*` and `?` wildcards, `!` negation,
  /// `[host]:port` for ports other than 22.
  case patterns([String])
  /// A hashed name `|1|salt|hash`: HMAC-SHA1 keyed by the 20-byte salt over the lookup name.
  case hashed(salt: [UInt8], hash: [UInt8])

  /// Returns whether the lookup name (already lowercased) matches this field, as ssh's
  /// `match_hostname` and hashed-name check do: a matching `!` pattern excludes the line.
  public func matches(_ name: String) -> Bool {
    switch self {
    case .patterns(let patterns):
      return HostPatternMatcher.matchesList(name, patterns: patterns)
    case .hashed(let salt, let hash):
      return HostPatternMatcher.hashName(name, salt: salt) == hash
    }
  }
}

/// One parsed host-key line of a known_hosts file.
public struct KnownHostsEntry: Equatable, Sendable {
  public let marker: KnownHostsMarker
  public let hosts: KnownHostsHostField
  /// The key type name as written, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`.
  public let keyType: String
  /// The decoded public key blob, in SSH wire format.
  public let keyBlob: [UInt8]
  public let comment: String?
  public let location: KnownHostsLocation

  public init(
    marker: KnownHostsMarker, hosts: KnownHostsHostField, keyType: String, keyBlob: [UInt8],
    comment: String?, location: KnownHostsLocation
  ) {
    self.marker = marker
    self.hosts = hosts
    self.keyType = keyType
    self.keyBlob = keyBlob
    self.comment = comment
    self.location = location
  }
}

/// A line that could not be parsed and was skipped, with the reason, for a debug log line.
public struct KnownHostsSkippedLine: Equatable, Sendable, CustomStringConvertible {
  public let location: KnownHostsLocation
  public let reason: String

  public init(location: KnownHostsLocation, reason: String) {
    self.location = location
    self.reason = reason
  }

  public var description: String { "\(location): skipped invalid known_hosts line: \(reason)" }
}

/// A known_hosts file that exists but could not be read; the lookup goes on without it.
public struct KnownHostsUnreadableFile: Equatable, Sendable, CustomStringConvertible {
  public let path: String
  public let reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): cannot read known_hosts file: \(reason)" }
}
