import Foundation

/// The lines for one host in a known_hosts file written by `Lab.writeKnownHosts`.
public enum KnownHostsEntry: Sendable, Equatable {
  /// Every host key: ed25519, ecdsa and rsa.
  case allKeys
  /// Only the host key of one type.
  case only(LabKeyType)
  /// Keys of all three types that the host does not have.
  case wrongKeys
  /// No line for the host.
  case omitted
}

extension Lab {
  /// Writes a known_hosts file named `fileName` in the lab directory and returns its path. Each
  /// host gets `entries[name]`, or `defaultEntry` when absent. Lines read
  /// `[127.0.0.1]:PORT type base64`.
  ///
  /// - Parameter relayPorts: by host name, the port of a relay on 127.0.0.1 (such as a
  ///   `FaultRelay`) in front of that host. Lines for such a host name the relay's address.
  public func writeKnownHosts(
    named fileName: String, entries: [String: KnownHostsEntry] = [:],
    defaultEntry: KnownHostsEntry = .allKeys, relayPorts: [String: Int] = [:]
  ) throws -> String {
    for name in entries.keys { _ = host(name) }
    for name in relayPorts.keys { _ = host(name) }
    let strangerKeys = try HostKeyPool.shared.keySets(
      entries.values.contains(.wrongKeys) || defaultEntry == .wrongKeys
        ? [HostKeyPool.strangerSlot] : []
    ).first
    var lines: [String] = []
    for host in hosts {
      let keys: [LabKey]
      switch entries[host.name] ?? defaultEntry {
      case .allKeys: keys = host.hostKeys
      case .only(let type): keys = host.hostKeys.filter { $0.type == type }
      case .wrongKeys: keys = strangerKeys ?? []
      case .omitted: keys = []
      }
      let hostName = relayPorts[host.name].map { "[127.0.0.1]:\($0)" } ?? host.knownHostsName
      lines += keys.map { "\(hostName) \($0.publicKeyWithoutComment)" }
    }
    let path = try labFilePath(fileName)
    try writeFile(path, lines.map { $0 + "\n" }.joined(), mode: 0o644)
    return path
  }

  /// Writes an ssh_config named `fileName` in the lab directory and returns its path.
  ///
  /// Each host gets a `Host NAME` entry with HostName, Port, User, IdentityFile,
  /// UserKnownHostsFile, `StrictHostKeyChecking yes`, `IdentitiesOnly yes` and
  /// `GlobalKnownHostsFile /dev/null`, then its `LabHostOptions.sshConfig` lines and its
  /// `hostLines`. `globalLines` come first, before any `Host` entry.
  ///
  /// - Parameters:
  ///   - knownHostsPath: the UserKnownHostsFile; the lab's known_hosts when nil.
  ///   - identityFile: the IdentityFile; the lab user key when nil, none when empty.
  ///   - relayPorts: by host name, the port of a relay on 127.0.0.1 (such as a `FaultRelay`)
  ///     in front of that host. Such a host gets the relay's address as HostName and Port.
  public func writeSSHConfig(
    named fileName: String, knownHostsPath: String? = nil, identityFile: String? = nil,
    hostLines: [String: [String]] = [:], globalLines: [String] = [],
    relayPorts: [String: Int] = [:]
  ) throws -> String {
    for name in hostLines.keys { _ = host(name) }
    for name in relayPorts.keys { _ = host(name) }
    var lines = globalLines
    for host in hosts {
      let relayPort = relayPorts[host.name]
      lines += [
        "",
        "Host \(host.name)",
        "  HostName \(relayPort == nil ? host.address : "127.0.0.1")",
        "  Port \(relayPort ?? host.port)",
        "  User \(userName)",
      ]
      let identity = identityFile ?? userKey.privateKeyPath
      if !identity.isEmpty { lines.append("  IdentityFile \(identity)") }
      lines += [
        "  UserKnownHostsFile \(knownHostsPath ?? self.knownHostsPath)",
        "  StrictHostKeyChecking yes",
        "  IdentitiesOnly yes",
        "  GlobalKnownHostsFile /dev/null",
      ]
      lines += (host.options.sshConfig + (hostLines[host.name] ?? [])).map { "  " + $0 }
    }
    let path = try labFilePath(fileName)
    try writeFile(path, lines.joined(separator: "\n") + "\n", mode: 0o644)
    return path
  }

  private func labFilePath(_ fileName: String) throws -> String {
    guard !fileName.isEmpty, !fileName.contains("/") else {
      throw LabError("write lab file '\(fileName)': invalid name: expected a file name without '/'")
    }
    return "\(directory)/\(fileName)"
  }
}
