import Foundation
import Glibc

/// A lab of real OpenSSH sshd instances on loopback ports, with the keys, known_hosts and
/// ssh_config to reach them and the target services to forward to.
///
/// Files live in a new directory under /tmp that `shutdown()` removes; set FWD_LAB_KEEP=1 in
/// the environment to keep it for debugging. Every process the lab starts ends at `shutdown()`,
/// at deinit, when the test process exits, or (through the parent-death signal) when it crashes.
public final class Lab: @unchecked Sendable {
  public static let defaultHostNames = ["build", "sign", "deep"]

  /// The lab directory, e.g. /tmp/fwd-lab.Ab12Cd.
  public let directory: String
  /// The login name on every host: the user running the tests.
  public let userName: String
  /// The ed25519 key without passphrase that every host authorizes and ssh_config names.
  public let userKey: LabKey
  public let hosts: [LabHost]
  /// The ssh_config with a `Host` entry per lab host; see `writeSSHConfig`.
  public let sshConfigPath: String
  /// The known_hosts with every key of every host.
  public let knownHostsPath: String

  public let echoService: LabService
  public let sinkService: LabService
  public let sourceService: LabService
  /// The demo service on 127.0.0.1; its reply names host "sign".
  public let demoService: LabService

  private let lock = NSLock()
  private var isShutDown = false

  /// Starts sshd for each of `hosts` and the services on 127.0.0.1.
  public init(hosts hostOptions: [LabHostOptions] = Lab.defaultHostNames.map { LabHostOptions($0) })
    throws
  {
    try Lab.validate(hostOptions)
    try Lab.preparePrivilegeSeparationDirectory()
    directory = try makeTemporaryDirectory(prefix: "fwd-lab")
    CleanupRegistry.shared.register(directory: directory)
    userName = Lab.currentUserName()
    sshConfigPath = directory + "/ssh_config"
    knownHostsPath = directory + "/known_hosts"

    var started: [LabHost] = []
    var services: [LabService] = []
    do {
      try FileManager.default.createDirectory(
        atPath: directory + "/keys", withIntermediateDirectories: false)
      userKey = try KeyGenerator.generate(
        type: .ed25519, path: directory + "/keys/user_ed25519", comment: "fwd-lab user key")
      let keySets = try HostKeyPool.shared.keySets(Array(hostOptions.indices))
      for (options, pooledKeys) in zip(hostOptions, keySets) {
        let host = try Lab.makeHost(options, in: directory, pooledKeys: pooledKeys)
        try writeFile(host.authorizedKeysPath, userKey.publicKey + "\n", mode: 0o600)
        try host.start()
        started.append(host)
      }
      for kind in [LabServiceKind.echo, .sink, .source, .demo(servedBy: "sign")] {
        services.append(try LabService(kind))
      }
    } catch {
      for service in services { service.stop() }
      for host in started { host.stop() }
      Lab.removeDirectory(directory)
      throw error
    }
    hosts = started
    (echoService, sinkService, sourceService, demoService) = (
      services[0], services[1], services[2], services[3]
    )
    do {
      _ = try writeKnownHosts(named: "known_hosts")
      _ = try writeSSHConfig(named: "ssh_config")
    } catch {
      shutdown()
      throw error
    }
  }

  /// Starts a lab with default options for each host named.
  public convenience init(hostNames: [String]) throws {
    try self.init(hosts: hostNames.map { LabHostOptions($0) })
  }

  deinit {
    shutdown()
  }

  /// Returns the host named `name`. Traps when the lab has none, which is a mistake in the test.
  public func host(_ name: String) -> LabHost {
    guard let host = hosts.first(where: { $0.name == name }) else {
      preconditionFailure("lab has no host '\(name)': its hosts are \(hosts.map(\.name))")
    }
    return host
  }

  public subscript(name: String) -> LabHost { host(name) }

  /// Returns the sshd log of host `name`, across restarts.
  public func log(of name: String) -> String {
    host(name).log
  }

  public var echoPort: Int { echoService.port }
  public var sinkPort: Int { sinkService.port }
  public var sourcePort: Int { sourceService.port }
  public var demoPort: Int { demoService.port }

  /// Returns the PIDs of the sshd listeners and their per-connection processes now.
  public func processIDs() -> [pid_t] {
    hosts.flatMap { $0.processIDs() }
  }

  /// Stops every sshd and service and removes the lab directory; idempotent.
  public func shutdown() {
    let alreadyDone = lock.withLock {
      defer { isShutDown = true }
      return isShutDown
    }
    if alreadyDone { return }
    for service in [echoService, sinkService, sourceService, demoService] { service.stop() }
    DispatchQueue.concurrentPerform(iterations: hosts.count) { hosts[$0].stop() }
    Lab.removeDirectory(directory)
  }

  // MARK: - Authorized keys and user keys

  /// Appends `publicKey`, an authorized_keys line, on the hosts named (all when nil).
  public func authorizeKey(_ publicKey: String, on hostNames: [String]? = nil) throws {
    for host in selectedHosts(hostNames) {
      let existing = (try? String(contentsOfFile: host.authorizedKeysPath, encoding: .utf8)) ?? ""
      try writeFile(host.authorizedKeysPath, existing + publicKey + "\n", mode: 0o600)
    }
  }

  /// Replaces the authorized_keys of host `name` with `lines`; an empty list rejects every key.
  public func setAuthorizedKeys(_ lines: [String], on name: String) throws {
    let text = lines.map { $0 + "\n" }.joined()
    try writeFile(host(name).authorizedKeysPath, text, mode: 0o600)
  }

  /// Generates another user key in the lab's keys directory, e.g. an unauthorized one for a
  /// wrong-key test or one with a passphrase. With `authorize`, every host accepts it.
  public func makeUserKey(
    named name: String, type: LabKeyType = .ed25519, passphrase: String? = nil,
    authorize: Bool = false
  ) throws -> LabKey {
    guard !name.isEmpty, !name.contains("/") else {
      throw LabError("make user key '\(name)': invalid name: expected a file name without '/'")
    }
    let key = try KeyGenerator.generate(
      type: type, path: "\(directory)/keys/\(name)", comment: "fwd-lab \(name)",
      passphrase: passphrase)
    if authorize { try authorizeKey(key.publicKey) }
    return key
  }

  func selectedHosts(_ names: [String]?) -> [LabHost] {
    guard let names else { return hosts }
    return names.map { host($0) }
  }

  // MARK: - Setup helpers

  private static func validate(_ options: [LabHostOptions]) throws {
    let names = options.map(\.name)
    guard !names.isEmpty else { throw LabError("start lab: no hosts given") }
    for name in names where name.isEmpty || name.contains(where: { $0 == " " || $0 == "/" }) {
      throw LabError(
        "start lab: invalid host name '\(name)': expected a word without spaces or '/'")
    }
    guard Set(names).count == names.count else {
      throw LabError("start lab: duplicate host names in \(names)")
    }
  }

  private static func makeHost(
    _ options: LabHostOptions, in directory: String, pooledKeys: [LabKey]
  )
    throws -> LabHost
  {
    let hostDirectory = "\(directory)/\(options.name)"
    try FileManager.default.createDirectory(
      atPath: hostDirectory, withIntermediateDirectories: false)
    var keys: [LabKey] = []
    for pooled in pooledKeys {
      let path = "\(hostDirectory)/ssh_host_\(pooled.type.rawValue)_key"
      try copyFile(pooled.privateKeyPath, to: path, mode: 0o600)
      try copyFile(pooled.publicKeyPath, to: path + ".pub", mode: 0o644)
      keys.append(
        try KeyGenerator.load(type: pooled.type, path: path, isPassphraseProtected: false))
    }
    return LabHost(options: options, directory: hostDirectory, hostKeys: keys)
  }

  /// Creates /run/sshd, which sshd 9.2 requires when run as root ("Missing privilege separation
  /// directory").
  private static func preparePrivilegeSeparationDirectory() throws {
    guard geteuid() == 0 else { return }
    if mkdir("/run/sshd", 0o755) != 0 && errno != EEXIST {
      throw LabError("start lab: mkdir /run/sshd failed: \(errnoText())")
    }
  }

  private static func currentUserName() -> String {
    guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else {
      return ProcessInfo.processInfo.environment["USER"] ?? "root"
    }
    return String(cString: name)
  }

  private static func removeDirectory(_ directory: String) {
    CleanupRegistry.shared.unregister(directory: directory)
    if ProcessInfo.processInfo.environment["FWD_LAB_KEEP"] == "1" { return }
    try? FileManager.default.removeItem(atPath: directory)
  }
}
