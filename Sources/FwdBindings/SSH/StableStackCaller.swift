import CLibSSH2
import Dispatch
import Foundation

/// Runs libssh2 calls whose retry must pass the same buffer address, on one dedicated thread
/// that makes each call from the same stack frame.
///
/// `libssh2_channel_send_eof` builds the EOF packet in a local array. When the socket takes
/// only part of the packet, libssh2 returns EAGAIN and keeps the rest, and its transport layer
/// resumes the packet only for a retry with the same buffer address. With Debian's libssh2
/// 1.10.0, a retry from another call depth (as a poll loop makes it) failed with
/// LIBSSH2_ERROR_SOCKET_SEND "Unable to send EOF on channel", which ends the session. From this
/// thread the local array has the same address on every call.
final class StableStackCaller: @unchecked Sendable {
  /// A libssh2 call that builds its packet on the stack.
  enum Call {
    case channelSendEOF(OpaquePointer)
  }

  static let shared = StableStackCaller()

  /// Serializes callers: one call at a time uses the thread.
  private let callerLock = NSLock()
  private let requested = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)
  private var pending: Call?
  private var status: Int32 = 0

  private init() {
    let thread = Thread { [self] in serve() }
    thread.name = "fwd libssh2 stable stack"
    thread.start()
  }

  /// Makes `call` on the dedicated thread and returns libssh2's status. The calling thread
  /// waits, so the session is still used by one thread at a time.
  func run(_ call: Call) -> Int32 {
    callerLock.lock()
    defer { callerLock.unlock() }
    pending = call
    requested.signal()
    finished.wait()
    return status
  }

  private func serve() -> Never {
    while true {
      requested.wait()
      switch pending {
      case .channelSendEOF(let channel):
        status = libssh2_channel_send_eof(channel)
      case nil:
        status = LIBSSH2_ERROR_BAD_USE
      }
      pending = nil
      finished.signal()
    }
  }
}
