import Foundation
import Glibc

/// Makes "localhost" resolve to ::1 for an sshd with `AddressFamily inet6`.
///
/// Such an sshd resolves forward targets with getaddrinfo for AF_INET6 only. Debian's
/// /etc/hosts maps ::1 to localhost, but some machines (sandboxes that write their own
/// /etc/hosts) list only 127.0.0.1, and "localhost" then fails with "Name or service not
/// known". There the lab runs sshd in a private mount namespace whose /etc/hosts adds
/// `::1 localhost`; the machine's own file stays unchanged.
enum IPv6Localhost {
  /// Tells whether getaddrinfo resolves "localhost" to ::1 when asked for IPv6 only.
  static let resolvesOnThisMachine: Bool = {
    var hints = addrinfo()
    hints.ai_family = AF_INET6
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo("localhost", nil, &hints, &result) == 0, let first = result else {
      return false
    }
    defer { freeaddrinfo(first) }
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let current = entry {
      if current.pointee.ai_family == AF_INET6, let address = current.pointee.ai_addr {
        let isLoopback = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
          var loopback = in6addr_loopback
          return memcmp(&loopback, &$0.pointee.sin6_addr, MemoryLayout<in6_addr>.size) == 0
        }
        if isLoopback { return true }
      }
      entry = current.pointee.ai_next
    }
    return false
  }()

  /// Returns the executable and arguments that run `command` with a private /etc/hosts, written
  /// to `hostsPath`, in which localhost also means ::1; `command` unchanged when the machine's
  /// /etc/hosts already does. Throws when a private mount namespace needs root and this
  /// process is not root.
  static func wrap(_ command: [String], hostsPath: String, hostName: String) throws -> [String] {
    if resolvesOnThisMachine { return command }
    guard geteuid() == 0 else {
      throw LabError(
        "start sshd for host \(hostName) with AddressFamily inet6: 'localhost' does not resolve "
          + "to ::1 on this machine and a private /etc/hosts needs root: add '::1 localhost' to "
          + "/etc/hosts")
    }
    let systemHosts = (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? ""
    try writeFile(
      hostsPath, systemHosts + "\n# Added by FwdLab for IPv6 forwards.\n::1 localhost\n")
    // unshare's default propagation is private, so the bind mount stays in this namespace.
    // sh and sshd replace each other with exec, so the PID stays that of sshd.
    let script = #"mount --bind "$0" /etc/hosts && exec "$@""#
    return [
      "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, hostsPath,
    ]
      + command
  }
}
