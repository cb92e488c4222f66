import FwdBindings

/// Drives a non-blocking libssh2 call to completion during hop set-up, before the hop's event
/// loop runs: it repeats the call whenever poll reports the socket ready in the direction
/// libssh2 is blocked on.
struct SessionWaiter {
  let session: SSHSession
  /// The moment set-up gives up, in `Clock.monotonicMilliseconds`, or nil to wait as long as
  /// the server keeps the socket open.
  let deadline: UInt64?
  /// A descriptor that becomes readable when the wait should stop (the signal pipe); it is
  /// polled, never read, so the main loop still sees the signal.
  var cancelFD: Int32? = nil

  /// Returns the moment `seconds` from now. A negative count is now, and a count beyond a
  /// century is cut to one, so the sum cannot overflow.
  static func deadline(afterSeconds seconds: Int) -> UInt64 {
    let capped = UInt64(min(max(seconds, 0), 100 * 365 * 86_400))
    return Clock.monotonicMilliseconds() + capped * 1000
  }

  enum Failure: Error {
    case timedOut
    case cancelled
    case ssh(SSHError)
  }

  func run<T>(_ call: () throws(SSHError) -> Attempt<T>) throws(Failure) -> T {
    var poller = Poller()
    while true {
      let attempt: Attempt<T>
      do {
        attempt = try call()
      } catch {
        throw .ssh(error)
      }
      if case .done(let value) = attempt { return value }
      var timeout: Int32 = -1
      if let deadline {
        let now = Clock.monotonicMilliseconds()
        if now >= deadline { throw .timedOut }
        timeout = Int32(min(deadline - now, UInt64(Int32.max - 1))) + 1
      }
      let directions = session.blockDirections
      poller.reset()
      poller.add(session.socket, read: directions.inbound || !directions.outbound, write: directions.outbound)
      if let cancelFD { poller.add(cancelFD, read: true, write: false) }
      do {
        try poller.wait(timeout: timeout)
      } catch {
        throw .ssh(SSHError(code: -1, message: error.description, function: "poll"))
      }
      if cancelFD != nil, poller.readable(1) { throw .cancelled }
    }
  }
}
