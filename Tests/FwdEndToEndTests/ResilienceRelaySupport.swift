import Foundation
import FwdLab
import Glibc

/// A lab of build and sign with a `FaultRelay` in front of each sshd, and an ssh_config that
/// reaches each hop through its relay. fwd connects to build's relay itself, and sign's relay
/// is reached by build's sshd, which connects to 127.0.0.1 at the relay's port for the
/// direct-tcpip channel fwd opens to sign.
final class RelayedLab {
  static let hostNames = ["build", "sign"]

  let lab: Lab
  /// The relay in front of each host, by host name.
  let relays: [String: FaultRelay]
  /// The ssh_config whose HostName and Port lead to the relays.
  let configPath: String

  init() throws {
    lab = try Lab(hostNames: Self.hostNames)
    var relays: [String: FaultRelay] = [:]
    do {
      for name in Self.hostNames {
        relays[name] = try FaultRelay(targetPort: lab[name].port)
      }
      let ports = relays.mapValues(\.port)
      let knownHosts = try lab.writeKnownHosts(named: "known_hosts_relayed", relayPorts: ports)
      configPath = try lab.writeSSHConfig(
        named: "ssh_config_relayed", knownHostsPath: knownHosts, relayPorts: ports)
    } catch {
      for relay in relays.values { relay.stop() }
      lab.shutdown()
      throw error
    }
    self.relays = relays
  }

  /// Stops the relays and the lab.
  func shutdown() {
    for relay in relays.values { relay.stop() }
    lab.shutdown()
  }

  /// Returns the relay in front of host `name`. Traps when there is none, which is a mistake
  /// in the test.
  subscript(name: String) -> FaultRelay {
    guard let relay = relays[name] else {
      preconditionFailure("no fault relay in front of host '\(name)': hosts are \(Self.hostNames)")
    }
    return relay
  }

  /// Starts fwd through build to sign with `options`, forwarding a free port to each of
  /// `targetPorts` (the echo service when nil), and returns it with its ready lines.
  func startFwd(options: [String], targetPorts: [Int]? = nil) throws -> (
    fwd: FwdProcess, ready: [ReadyLine]
  ) {
    try Resilience.start(lab, options: options, targetPorts: targetPorts, config: configPath)
  }

  /// Returns the start of the line fwd logs when it loses host `name`, reached through its
  /// relay.
  func lostLine(_ name: String) -> String {
    "\(name): connection to \(name) (127.0.0.1:\(self[name].port)) lost:"
  }
}
