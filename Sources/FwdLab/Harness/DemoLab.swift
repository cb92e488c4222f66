import Glibc

/// The lab behind `make demo`, where `fwd -J build sign -L P:localhost:P` reaches a demo service
/// on sign's localhost:P.
///
/// All lab hosts share this machine's loopback, so fwd's listener on 127.0.0.1:P and sign's
/// service on localhost:P would collide. Sign therefore runs with `AddressFamily inet6`: its
/// sshd opens forwards over IPv6 only, "localhost" then reaches [::1]:P, and the demo service
/// listens there.
public final class DemoLab: @unchecked Sendable {
  public let lab: Lab
  public let service: LabService
  /// The port of both fwd's listener (127.0.0.1) and the demo service ([::1]).
  public let port: Int
  public let preferredPort: Int

  /// Starts hosts `build` (127.0.0.1) and `sign` (::1) and the demo service on [::1]:port. The
  /// port is `preferredPort` when it is free on both 127.0.0.1 and ::1, else another one free
  /// on both.
  public init(preferredPort: Int = 4444) throws {
    self.preferredPort = preferredPort
    (service, port) = try DemoLab.startService(preferredPort: preferredPort)
    do {
      lab = try Lab(hosts: [LabHostOptions("build"), LabHostOptions("sign", addressFamily: .ipv6)])
    } catch {
      service.stop()
      throw error
    }
  }

  deinit {
    shutdown()
  }

  /// fwd's arguments for the demo: `-F CONFIG -J build sign -L P:localhost:P`.
  public var fwdArguments: [String] {
    ["-F", lab.sshConfigPath, "-J", "build", "sign", "-L", "\(port):localhost:\(port)"]
  }

  public func shutdown() {
    service.stop()
    lab.shutdown()
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
