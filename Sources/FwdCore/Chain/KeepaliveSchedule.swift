/// When a hop sends keepalives and when it gives up on a silent server. All times are
/// milliseconds of the monotonic clock.
///
/// Only traffic from the server counts as a reply. A hop whose sshd is frozen keeps accepting
/// our bytes into its socket buffer, so our own sends prove nothing.
struct KeepaliveSchedule: Equatable {
  /// Milliseconds of silence before each keepalive (ServerAliveInterval).
  let interval: UInt64
  /// Keepalives that may go unanswered (ServerAliveCountMax), at least 1.
  let countMax: Int
  /// When the last keepalive was sent, or 0 before the first.
  private(set) var lastSent: UInt64 = 0

  enum Decision: Equatable {
    /// Nothing to do for this many milliseconds.
    case wait(UInt64)
    /// A keepalive is due now.
    case send
    /// The server has been silent this many milliseconds, longer than the schedule allows.
    case lost(silence: UInt64)
  }

  init(intervalSeconds: Int, countMax: Int) {
    interval = UInt64(max(1, intervalSeconds)) * 1000
    self.countMax = max(1, countMax)
  }

  /// The silence after which the session is lost: `countMax` intervals, as ssh documents it.
  /// Keepalives go out after one, two, ... intervals, so each one but the last has a whole
  /// interval for its reply. A single keepalive would have none, so it gets 1 s more.
  var lossAfter: UInt64 {
    interval * UInt64(countMax) + (countMax == 1 ? min(interval, 1000) : 0)
  }

  func decide(now: UInt64, lastReceive: UInt64) -> Decision {
    let silence = now - min(now, lastReceive)
    if silence >= lossAfter { return .lost(silence: silence) }
    let sendAt = max(lastReceive, lastSent) + interval
    if now >= sendAt { return .send }
    return .wait(min(sendAt, lastReceive + lossAfter) - now)
  }

  mutating func noteSent(at now: UInt64) { lastSent = now }
}
