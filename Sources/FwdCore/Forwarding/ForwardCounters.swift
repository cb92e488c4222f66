import Synchronization

/// Live counters of one `-L` forward, for the status view and SIGUSR1: connections and bytes.
///
/// The main thread counts accepted connections; the last hop's thread counts channel opens,
/// closes and bytes as it relays them. Every method is safe from any thread.
final class ForwardCounters: Sendable {
  private let accepted = Atomic<Int>(0)
  private let failed = Atomic<Int>(0)
  private let closed = Atomic<Int>(0)
  private let up = Atomic<UInt64>(0)
  private let down = Atomic<UInt64>(0)

  init() {}

  /// Counts a local client that connected. The main thread calls it before queueing the channel
  /// open.
  func connectionAccepted() { accepted.add(1, ordering: .relaxed) }

  /// Counts an accepted connection whose channel could not be opened. The hop has closed the
  /// client.
  func channelFailed() { failed.add(1, ordering: .relaxed) }

  /// Counts a relay of this forward that finished or was dropped with its session.
  func connectionClosed() { closed.add(1, ordering: .relaxed) }

  /// Bytes read from a local client and queued toward the target.
  func addBytesUp(_ count: Int) { up.add(UInt64(count), ordering: .relaxed) }

  /// Bytes read from the channel and queued toward the local client.
  func addBytesDown(_ count: Int) { down.add(UInt64(count), ordering: .relaxed) }

  /// Connections accepted and not yet failed or closed: open relays plus those whose channel
  /// is still being opened.
  var activeConnections: Int {
    let ended = failed.load(ordering: .relaxed) + closed.load(ordering: .relaxed)
    return max(0, accepted.load(ordering: .relaxed) - ended)
  }

  var acceptedConnections: Int { accepted.load(ordering: .relaxed) }
  var bytesUp: UInt64 { up.load(ordering: .relaxed) }
  var bytesDown: UInt64 { down.load(ordering: .relaxed) }
}
