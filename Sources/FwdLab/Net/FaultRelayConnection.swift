import Glibc

/// One connection a `FaultRelay` accepted, with its own connection to the target. Only the
/// relay's thread uses it.
final class FaultRelayConnection {
  let client: Int32
  let target: Int32
  private var isConnecting: Bool
  private var toTarget = DelayedByteQueue()
  private var fromTarget = DelayedByteQueue()
  private var isClosed = false

  /// The state after a `service` pass.
  enum State: Equatable {
    case open
    /// Both directions passed their EOF on, so both sockets can be closed.
    case finished
    /// A socket failed, e.g. with a RST from its peer; the connection must be reset.
    case failed
    /// The connect to the target failed; the client must be reset.
    case connectFailed
  }

  /// Takes ownership of `client`, an accepted non-blocking socket, and of `target`, a
  /// non-blocking socket whose connect may be in progress.
  init(client: Int32, target: Int32, isConnecting: Bool) {
    self.client = client
    self.target = target
    self.isConnecting = isConnecting
  }

  deinit {
    close()
  }

  /// Moves every byte the sockets and the delay allow, in both directions, and returns the
  /// bytes written to each side.
  func service(now: UInt64, delay: UInt64) -> (
    toTarget: Int, fromTarget: Int, state: State
  ) {
    if isConnecting {
      switch connectState() {
      case .failed: return (0, 0, .connectFailed)
      case .inProgress:
        guard case .moved = toTarget.read(from: client, now: now) else { return (0, 0, .failed) }
        return (0, 0, .open)
      case .connected: isConnecting = false
      }
    }
    guard case .moved = toTarget.read(from: client, now: now),
      case .moved = fromTarget.read(from: target, now: now),
      case .moved(let upward) = toTarget.write(to: target, now: now, delay: delay),
      case .moved(let downward) = fromTarget.write(to: client, now: now, delay: delay)
    else { return (0, 0, .failed) }
    let finished = toTarget.endForwarded && fromTarget.endForwarded
    return (upward, downward, finished ? .finished : .open)
  }

  /// Returns the poll(2) events to wait for on the client and on the target; 0 for none.
  func pollEvents(now: UInt64, delay: UInt64) -> (client: Int16, target: Int16) {
    var clientEvents: Int32 = 0
    var targetEvents: Int32 = 0
    if toTarget.canRead { clientEvents |= POLLIN }
    if fromTarget.hasDueBytes(now: now, delay: delay) { clientEvents |= POLLOUT }
    if isConnecting {
      targetEvents = POLLOUT
    } else {
      if fromTarget.canRead { targetEvents |= POLLIN }
      if toTarget.hasDueBytes(now: now, delay: delay) { targetEvents |= POLLOUT }
    }
    return (Int16(clientEvents), Int16(targetEvents))
  }

  /// Returns when the next held chunk or EOF falls due, in monotonic nanoseconds; see
  /// `DelayedByteQueue.nextDueTime`.
  func nextDueTime(now: UInt64, delay: UInt64) -> UInt64? {
    // Until the target is connected nothing can be written, and the connect wakes the thread.
    if isConnecting { return nil }
    return [toTarget.nextDueTime(now: now, delay: delay), fromTarget.nextDueTime(now: now, delay: delay)]
      .compactMap { $0 }.min()
  }

  /// Closes both sockets, with a RST when `reset` is true; idempotent.
  func close(reset: Bool = false) {
    guard !isClosed else { return }
    isClosed = true
    for fd in [client, target] {
      if reset {
        Socket.closeWithReset(fd)
      } else {
        Glibc.close(fd)
      }
    }
  }

  private enum ConnectState {
    case inProgress, connected, failed
  }

  /// Returns whether the connect to the target has ended, and how. SO_ERROR contains a
  /// failure, and getpeername succeeds only once the connection is up.
  private func connectState() -> ConnectState {
    var error: Int32 = 0
    var size = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(target, SOL_SOCKET, SO_ERROR, &error, &size) == 0, error == 0 else {
      return .failed
    }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let named = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(target, $0, &length) }
    }
    if named == 0 {
      Socket.setNoDelay(target)
      return .connected
    }
    return errno == ENOTCONN ? .inProgress : .failed
  }
}
