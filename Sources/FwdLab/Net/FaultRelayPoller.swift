import Glibc

/// The poll(2) call of a `FaultRelay`'s thread: the wakeup pipe, the listener, and each
/// connection's two sockets with the events it waits for.
struct FaultRelayPoller {
  private var entries: [pollfd] = []

  /// Whether the last `wait` found a connection waiting on the listener.
  var isListenerReadable: Bool {
    entries.count > 1 && entries[1].revents != 0
  }

  /// Waits until a socket is ready, the wakeup pipe is written, or the next held chunk falls
  /// due; `delay` is in nanoseconds. While paused, the connections' sockets are left out, so
  /// that neither their data nor their errors wake the thread.
  mutating func wait(
    wakeup: Int32, listener: Int32, connections: [FaultRelayConnection], isPaused: Bool,
    delay: UInt64
  ) {
    let now = Deadline.now()
    entries.removeAll(keepingCapacity: true)
    entries.append(pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0))
    entries.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
    var nextDue: UInt64?
    if !isPaused {
      for connection in connections {
        let events = connection.pollEvents(now: now, delay: delay)
        // poll(2) skips an entry with a negative descriptor.
        entries.append(
          pollfd(fd: events.client == 0 ? -1 : connection.client, events: events.client, revents: 0))
        entries.append(
          pollfd(fd: events.target == 0 ? -1 : connection.target, events: events.target, revents: 0))
        if let due = connection.nextDueTime(now: now, delay: delay) {
          nextDue = min(nextDue ?? due, due)
        }
      }
    }
    var timeout: Int32 = -1
    if let nextDue {
      // Rounded up, so that the chunk is due when poll returns.
      let milliseconds = nextDue > now ? (nextDue - now + 999_999) / 1_000_000 : 0
      timeout = Int32(min(milliseconds, 60_000))
    }
    while poll(&entries, nfds_t(entries.count), timeout) < 0 && errno == EINTR {}
  }
}
