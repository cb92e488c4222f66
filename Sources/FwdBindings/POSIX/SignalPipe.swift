import Glibc

/// The write end of the signal pipe, read by the handler. A signal handler may only call
/// async-signal-safe functions, so it writes the signal number to a pipe and the main loop
/// does the rest.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1
nonisolated(unsafe) private var interruptCount: Int32 = 0

private func forwardSignal(_ number: Int32) {
  if number == SIGINT {
    interruptCount += 1
    // A second SIGINT ends fwd at once, without the clean shutdown.
    if interruptCount > 1 { _exit(0) }
  }
  var byte = UInt8(truncatingIfNeeded: number)
  let saved = errno
  _ = write(signalPipeWriteEnd, &byte, 1)
  errno = saved
}

/// Delivers SIGINT, SIGTERM and the other signals fwd handles as bytes on a pipe that the
/// main loop polls.
public final class SignalPipe {
  /// The read end, to poll for readability.
  public let fd: Int32

  public init(signals: [Int32]) throws(SystemError) {
    var fds: [Int32] = [0, 0]
    if pipe(&fds) != 0 { throw SystemError("pipe") }
    for end in fds {
      Socket.setCloseOnExec(end)
      try Socket.setNonBlocking(end)
    }
    fd = fds[0]
    signalPipeWriteEnd = fds[1]
    for number in signals {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = forwardSignal
      sigemptyset(&action.sa_mask)
      action.sa_flags = SA_RESTART
      sigaction(number, &action, nil)
    }
  }

  /// Returns the signals received since the last call.
  public func take() -> [Int32] {
    var buffer = [UInt8](repeating: 0, count: 64)
    var received: [Int32] = []
    while true {
      let n = read(fd, &buffer, buffer.count)
      if n <= 0 { break }
      received += buffer[0..<n].map { Int32($0) }
    }
    return received
  }
}
