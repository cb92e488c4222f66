import Glibc

/// The lab behind `make demo`, where `fwd -I SOFTHSM -J build sign -L P:localhost:P` reaches a
/// demo service on sign's localhost:P.
///
/// Build and sign accept only the Ed25519 key of a SoftHSM token made for the demo, and the
/// demo's ssh_config names no identity file, so fwd must log in to the token to reach them.
///
/// All lab hosts share this machine's loopback, so fwd's listener on 127.0.0.1:P and sign's
/// service on localhost:P would collide. Sign therefore runs with `AddressFamily inet6`: its
/// sshd opens forwards over IPv6 only, "localhost" then reaches [::1]:P, and the demo service
/// listens there.
public final class DemoLab: @unchecked Sendable {
  public let lab: Lab
  public let service: LabService
  /// The demo's token, labelled "fwd-demo", with one Ed25519 key pair.
  public let token: SoftHSMToken
  /// The ssh_config fwd reads: the lab's hosts without IdentityFile.
  public let sshConfigPath: String
  /// The port of both fwd's listener (127.0.0.1) and the demo service ([::1]).
  public let port: Int
  public let preferredPort: Int

  /// Starts hosts `build` (127.0.0.1) and `sign` (::1) and the demo service on [::1]:port. The
  /// port is `preferredPort` when it is free on both 127.0.0.1 and ::1, else another one free
  /// on both. Makes the token and authorizes its key, and only that key, on both hosts.
  public init(preferredPort: Int = 4444) throws {
    guard SoftHSMToken.isInstalled else {
      throw LabError(
        "start demo lab: SoftHSM or OpenSC's tools are missing: install softhsm2 and opensc")
    }
    self.preferredPort = preferredPort
    (service, port) = try DemoLab.startService(preferredPort: preferredPort)
    var madeToken: SoftHSMToken?
    var startedLab: Lab?
    do {
      let token = try SoftHSMToken(label: "fwd-demo", keyTypes: [.ed25519])
      madeToken = token
      let lab = try Lab(
        hosts: [LabHostOptions("build"), LabHostOptions("sign", addressFamily: .ipv6)])
      startedLab = lab
      let keys = token.keys.map(\.authorizedKey)
      for host in lab.hosts { try lab.setAuthorizedKeys(keys, on: host.name) }
      sshConfigPath = try lab.writeSSHConfig(named: "ssh_config_demo", identityFile: "")
      self.token = token
      self.lab = lab
    } catch {
      startedLab?.shutdown()
      madeToken?.remove()
      service.stop()
      throw error
    }
  }

  deinit {
    shutdown()
  }

  /// fwd's arguments for the demo: `-I SOFTHSM -F CONFIG -J build sign -L P:localhost:P`.
  /// fwd needs `tokenEnvironment` to find the token.
  public var fwdArguments: [String] {
    [
      "-I", SoftHSMToken.modulePath, "-F", sshConfigPath, "-J", "build", "sign", "-L",
      "\(port):localhost:\(port)",
    ]
  }

  /// The variables that point SoftHSM at the demo token.
  public var tokenEnvironment: [String: String] { token.environment }

  public func shutdown() {
    service.stop()
    lab.shutdown()
    token.remove()
  }

  private static func startService(preferredPort: Int) throws -> (LabService, Int) {
    var candidate = preferredPort
    for _ in 0..<20 {
      if let service = try? LabService(.demo(servedBy: "sign"), host: "::1", port: candidate) {
        if isFree(host: "127.0.0.1", port: candidate) { return (service, candidate) }
        service.stop()
      }
      candidate = try freePort(host: "127.0.0.1")
    }
    throw LabError(
      "start demo service: no port free on both 127.0.0.1 and ::1 after 20 attempts, "
        + "starting with \(preferredPort)")
  }

  private static func isFree(host: String, port: Int) -> Bool {
    guard let (fd, _) = try? Socket.listen(host: host, port: port, backlog: 1) else { return false }
    close(fd)
    return true
  }
}
