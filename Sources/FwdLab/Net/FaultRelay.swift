import Foundation
import Glibc

/// A TCP relay on 127.0.0.1 that a test puts in front of a server, usually a lab sshd, to
/// pause, drop, refuse or delay the traffic to it while the connections stay real TCP.
///
/// Each accepted connection gets its own connection to the target, and one thread relays all
/// of them with poll(2). The controls can be called from any thread at any time and take
/// effect before they return, so a test can measure from the call. The relay runs until
/// `stop()`, because its thread keeps it alive.
public final class FaultRelay: @unchecked Sendable {
  /// The port the relay listens on, on 127.0.0.1; give it to the client in place of the
  /// target's port.
  public let port: Int
  public let targetHost: String
  public let targetPort: Int

  private let listener: Int32
  private let wakeup: (read: Int32, write: Int32)
  private let condition = NSCondition()
  private var settings = Settings()
  private var currentCounters = FaultRelayCounters()
  /// Control changes requested and the number the relay's thread has applied; a control call
  /// returns once the second reaches the first.
  private var requestedChanges = 0
  private var appliedChanges = 0
  private var isStopping = false
  private var hasEnded = false

  private struct Settings {
    var isPaused = false
    var isRefusing = false
    var delayNanoseconds: UInt64 = 0
    /// Incremented by `dropAll()`; the thread resets every connection when it changes.
    var dropRequests = 0
  }

  /// Starts listening on a free port of 127.0.0.1, relaying each connection to
  /// `targetHost`:`targetPort`, a numeric address.
  public init(targetPort: Int, targetHost: String = "127.0.0.1") throws {
    self.targetHost = targetHost
    self.targetPort = targetPort
    (listener, port) = try Socket.listen(host: "127.0.0.1", port: 0)
    Socket.setBlocking(listener, false)
    var fds: [Int32] = [0, 0]
    guard makePipe(&fds) else {
      close(listener)
      throw LabError("start fault relay to port \(targetPort): pipe failed: \(errnoText())")
    }
    wakeup = (fds[0], fds[1])
    Socket.setBlocking(wakeup.read, false)
    Socket.setBlocking(wakeup.write, false)
    let thread = Thread { [self] in run() }
    thread.name = "fwd-lab fault relay \(port)"
    thread.start()
  }

  deinit {
    stop()
  }

  // MARK: - Controls

  /// Stops relaying in both directions. The relay keeps the bytes it has read and reads no
  /// more, so the senders' socket buffers fill and TCP pushes back. Connections stay open,
  /// and new ones are still accepted (unless refused) and held the same way.
  public func pause() {
    change { $0.isPaused = true }
  }

  /// Relays again after `pause()`, starting with the bytes kept.
  public func resume() {
    change { $0.isPaused = false }
  }

  /// Ends every current connection on both sides with a RST (SO_LINGER 0), discarding the
  /// bytes kept. New connections are relayed as before.
  public func dropAll() {
    change { $0.dropRequests += 1 }
  }

  /// With true, closes each new connection as soon as it is accepted, without connecting to
  /// the target, so the client sees its connection end before the first byte. Current
  /// connections are not affected, but those the kernel has queued and the relay has not yet
  /// accepted count as new.
  public func refuseNew(_ refuse: Bool) {
    change { $0.isRefusing = refuse }
  }

  /// Holds each chunk read, in both directions, for `milliseconds` before writing it on, in
  /// the order read. An EOF waits the same way. 0 relays at once. A new delay applies to the
  /// chunks already waiting too.
  public func delay(milliseconds: Int) {
    precondition(milliseconds >= 0, "fault relay delay must not be negative: \(milliseconds)")
    change { $0.delayNanoseconds = UInt64(milliseconds) * 1_000_000 }
  }

  // MARK: - Counters

  /// A copy of the counters now.
  public var counters: FaultRelayCounters {
    condition.withLock { currentCounters }
  }

  /// Connections accepted so far, refused ones included.
  public var acceptedConnections: Int { counters.accepted }
  /// Bytes written to the target so far.
  public var bytesToTarget: Int { counters.bytesToTarget }
  /// Bytes written back to the clients so far.
  public var bytesFromTarget: Int { counters.bytesFromTarget }
  /// Connections relayed now, including those whose connect to the target is in progress.
  public var openConnections: Int { counters.open }

  // MARK: - Stop

  /// Closes every connection (with a FIN, not a RST) and the listener, and waits for the
  /// relay's thread to end; idempotent.
  public func stop() {
    condition.withLock {
      isStopping = true
      signalWakeup()
      while !hasEnded { condition.wait() }
    }
  }

  // MARK: - Thread

  /// Applies `update` to the settings and waits until the relay's thread has taken it.
  private func change(_ update: (inout Settings) -> Void) {
    condition.withLock {
      update(&settings)
      requestedChanges += 1
      let request = requestedChanges
      signalWakeup()
      while appliedChanges < request && !hasEnded { condition.wait() }
    }
  }

  /// Wakes the relay's thread from poll. Called with `condition` locked, so the thread cannot
  /// set `hasEnded` and close the pipe in between.
  private func signalWakeup() {
    guard !hasEnded else { return }
    var byte: UInt8 = 1
    // A full pipe wakes the thread already, so the write end is non-blocking and a failed
    // write is ignored.
    _ = write(wakeup.write, &byte, 1)
  }

  private func run() {
    var connections: [FaultRelayConnection] = []
    var droppedRequests = 0
    var poller = FaultRelayPoller()
    while true {
      guard let (current, changeCount) = takeSettings() else { break }
      if current.dropRequests != droppedRequests {
        droppedRequests = current.dropRequests
        for connection in connections { connection.close(reset: true) }
        connections.removeAll()
      }
      finishChanges(changeCount, openConnections: connections.count)

      let now = Deadline.now()
      if !current.isPaused {
        relay(&connections, now: now, delay: current.delayNanoseconds)
      }
      poller.wait(
        wakeup: wakeup.read, listener: listener, connections: connections,
        isPaused: current.isPaused, delay: current.delayNanoseconds)
      if poller.isListenerReadable {
        connections += acceptAll(refusing: current.isRefusing)
      }
    }
    for connection in connections { connection.close() }
    close(listener)
    condition.withLock {
      currentCounters.open = 0
      hasEnded = true
      condition.broadcast()
    }
    // No call writes to the pipe once `hasEnded` is set.
    close(wakeup.read)
    close(wakeup.write)
  }

  /// Returns the settings and the number of changes they include; nil once `stop()` was
  /// called. A change requested later is taken in the next pass, because the wakeup byte it
  /// writes makes poll return at once.
  private func takeSettings() -> (Settings, Int)? {
    var byte: UInt8 = 0
    while read(wakeup.read, &byte, 1) > 0 {}
    return condition.withLock { isStopping ? nil : (settings, requestedChanges) }
  }

  /// Marks the first `changeCount` changes as applied, which lets their control calls return.
  private func finishChanges(_ changeCount: Int, openConnections: Int) {
    condition.withLock {
      currentCounters.open = openConnections
      appliedChanges = changeCount
      condition.broadcast()
    }
  }

  private func relay(_ connections: inout [FaultRelayConnection], now: UInt64, delay: UInt64) {
    var upward = 0
    var downward = 0
    var connectFailures = 0
    connections.removeAll { connection in
      let result = connection.service(now: now, delay: delay)
      upward += result.toTarget
      downward += result.fromTarget
      switch result.state {
      case .open: return false
      case .finished: connection.close()
      case .failed: connection.close(reset: true)
      case .connectFailed:
        connectFailures += 1
        connection.close(reset: true)
      }
      return true
    }
    condition.withLock {
      currentCounters.bytesToTarget += upward
      currentCounters.bytesFromTarget += downward
      currentCounters.targetConnectFailures += connectFailures
      currentCounters.open = connections.count
    }
  }

  /// Accepts every connection waiting on the listener and starts its connect to the target.
  private func acceptAll(refusing: Bool) -> [FaultRelayConnection] {
    var accepted: [FaultRelayConnection] = []
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR || errno == ECONNABORTED { continue }
        break
      }
      setCloseOnExec(client)
      condition.withLock { currentCounters.accepted += 1 }
      if refusing {
        condition.withLock { currentCounters.refused += 1 }
        close(client)
        continue
      }
      Socket.setBlocking(client, false)
      Socket.setNoDelay(client)
      do {
        let (target, inProgress) = try Socket.startConnect(host: targetHost, port: targetPort)
        accepted.append(
          FaultRelayConnection(client: client, target: target, isConnecting: inProgress))
      } catch {
        condition.withLock { currentCounters.targetConnectFailures += 1 }
        Socket.closeWithReset(client)
      }
    }
    return accepted
  }
}

/// The counters of a `FaultRelay` at one moment.
public struct FaultRelayCounters: Sendable, Equatable {
  /// Connections accepted, refused ones included.
  public var accepted = 0
  /// Connections closed at once because `refuseNew(true)` was in effect.
  public var refused = 0
  /// Connections reset because the connect to the target failed.
  public var targetConnectFailures = 0
  /// Connections relayed now.
  public var open = 0
  public var bytesToTarget = 0
  public var bytesFromTarget = 0
}
