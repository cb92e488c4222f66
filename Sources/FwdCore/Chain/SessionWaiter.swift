import Foundation
import FwdBindings

/// Drives a non-blocking libssh2 call to completion during hop set-up, before the hop's event
/// loop runs: it repeats the call whenever poll reports the socket ready in the direction
/// libssh2 is blocked on.
struct SessionWaiter {
  let session: SSHSession
  /// The moment set-up gives up, or nil to wait as long as the server keeps the socket open.
  let deadline: Date?
  /// A descriptor that becomes readable when the wait should stop (the signal pipe); it is
  /// polled, never read, so the main loop still sees the signal.
  var cancelFD: Int32? = nil

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
        let remaining = deadline.timeIntervalSinceNow
        if remaining <= 0 { throw .timedOut }
        timeout = Int32(min(remaining * 1000, Double(Int32.max))) + 1
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
