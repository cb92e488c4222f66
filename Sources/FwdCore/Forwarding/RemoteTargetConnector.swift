import FwdBindings
import Glibc

/// Connects one `-R` connection to its target on this machine's side, on a thread of its own,
/// so that neither getaddrinfo nor a slow connect holds up the hop's thread.
///
/// Every address of the name is tried in turn, as ssh does. This matters for "localhost",
/// which Debian's /etc/hosts resolves to ::1 before 127.0.0.1, while many services listen on
/// 127.0.0.1 only. The channel's relay gets one end of a socketpair at once. Once the target
/// is connected, two pumps copy between the other end and the target. When every address
/// fails, the failure is logged and the socketpair closed, so the server closes the client's
/// connection.
final class RemoteTargetConnector: @unchecked Sendable {
  let host: String
  let port: Int
  let family: Int32
  /// Milliseconds each address may take to connect.
  let timeout: Int32
  /// The connection and forward for log lines, e.g. "rconn 3" and "-R 8080:localhost:80".
  let label: String
  let forwardText: String

  private let lock = Lock()
  private var openPumps = 2

  init(host: String, port: Int, family: Int32, timeout: Int32, label: String, forwardText: String) {
    self.host = host
    self.port = port
    self.family = family
    self.timeout = timeout
    self.label = label
    self.forwardText = forwardText
  }

  /// Starts connecting and returns the socket for the channel's relay.
  func start() throws(SystemError) -> Int32 {
    let (relaySide, pumpSide) = try Socket.pair()
    DetachedThread.start(name: "fwd \(label) connect", stackSize: 1 << 18) { [self] in
      connect(pumpSide: pumpSide)
    }
    return relaySide
  }

  private func connect(pumpSide: Int32) {
    let addresses: [SocketAddress]
    do {
      addresses = try SocketAddress.resolve(host: host, port: port, family: family)
    } catch {
      logError(label, "\(forwardText): \(host) not resolved: \(error.reason)")
      Socket.close(pumpSide)
      return
    }
    var failures: [String] = []
    for address in addresses {
      do {
        let target = try Socket.connect(to: address, timeout: timeout)
        logDebug(label, "\(forwardText): connected to \(address)")
        pump(pumpSide, target)
        return
      } catch {
        failures.append("\(address) \(error.reason)")
      }
    }
    logError(
      label,
      "\(forwardText): connect to \(host) port \(port) failed: \(failures.joined(separator: ", "));"
        + " check that the service listens there")
    Socket.close(pumpSide)
  }

  /// Copies both ways and passes each end of file on as a half-close; closes both sockets once
  /// both directions have ended.
  ///
  /// NOTE: a target that never closes after our half-close keeps its pump thread and both
  /// sockets until it does or fwd exits, even after the channel has closed, because StreamPump
  /// reads the target without watching the relay's side.
  private func pump(_ pumpSide: Int32, _ target: Int32) {
    Socket.setNoDelay(target)
    let finish: @Sendable () -> Void = { [self] in
      let last = lock.withLock {
        openPumps -= 1
        return openPumps == 0
      }
      if last {
        Socket.close(pumpSide)
        Socket.close(target)
      }
    }
    StreamPump(from: pumpSide, to: target) {
      Socket.shutdownWrite(target)
      finish()
    }.start()
    StreamPump(from: target, to: pumpSide) {
      Socket.shutdownWrite(pumpSide)
      finish()
    }.start()
  }
}
