import FwdBindings
import Glibc
import Synchronization

/// Asks for the PIN on the controlling terminal with echo off.
///
/// The terminal settings are restored on every path out of `readPIN`: a line read, end of
/// file, an error, or a signal. Signals that end or stop the process while the prompt is up
/// are caught, the terminal restored, and the signal raised again with the previous handler
/// in place.
final class TerminalPINReader: PINReader {
  private let descriptor: Int32
  let isInteractive = true
  let sourceName = "the terminal"

  /// Opens the terminal at `path` (normally /dev/tty); nil when the process has none.
  init?(path: String) {
    let descriptor = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    var settings = termios()
    guard tcgetattr(descriptor, &settings) == 0 else {
      close(descriptor)
      return nil
    }
    self.descriptor = descriptor
  }

  deinit { close(descriptor) }

  func readPIN(token: String, notice: String?) throws(FwdError) -> SecretBytes {
    if let notice { writeText(notice + "\n") }
    while true {
      let outcome = readLineWithoutEcho(prompt: "Enter PIN for '\(token)': ")
      switch outcome {
      case .line(let pin):
        return pin
      case .stopped:
        // SIGTSTP and friends: the process was stopped and has been continued; ask again.
        continue
      case .interrupted(let signal):
        throw FwdError(
          .authentication, "token '\(token)': PIN entry interrupted by signal \(signal)")
      case .failed(let reason):
        throw FwdError(
          .authentication, "token '\(token)': cannot read the PIN from the terminal: \(reason)")
      case .tooLong:
        throw FwdError(
          .authentication, "token '\(token)': PIN longer than \(maximumPINLength) bytes")
      }
    }
  }

  fileprivate enum Outcome {
    case line(SecretBytes)
    case stopped
    case interrupted(Int32)
    case failed(String)
    case tooLong
  }

  private func readLineWithoutEcho(prompt: String) -> Outcome {
    var saved = termios()
    guard tcgetattr(descriptor, &saved) == 0 else { return .failed(errnoText()) }
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
    let handlers = PromptSignals.install()
    guard tcsetattr(descriptor, TCSAFLUSH, &quiet) == 0 else {
      handlers.restore()
      return .failed(errnoText())
    }
    writeText(prompt)
    let result = readLine()
    _ = tcsetattr(descriptor, TCSAFLUSH, &saved)
    writeText("\n")
    handlers.restore()
    if let signal = handlers.caught {
      result.pin?.wipe()
      // The previous handler is back in place, so this acts as if the prompt was not there.
      // kill() rather than raise(): this thread may block the signal, so any thread that
      // accepts it must be able to take it, and its handler may run after this returns.
      kill(getpid(), signal)
      return PromptSignals.stopSignals.contains(signal) ? .stopped : .interrupted(signal)
    }
    return result.outcome
  }

  /// Reads bytes up to a newline. The descriptor is polled in short steps so a signal
  /// delivered to another thread still ends the prompt.
  private func readLine() -> (outcome: Outcome, pin: SecretBytes?) {
    let pin = SecretBytes(capacity: maximumPINLength)
    var overflow = false
    var byte: UInt8 = 0
    defer { byte = 0 }
    while PromptSignals.caughtSignal.load(ordering: .relaxed) == 0 {
      var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, 200)
      if ready == 0 || (ready < 0 && errno == EINTR) { continue }
      if ready < 0 { return (.failed(errnoText()), pin) }
      let count = read(descriptor, &byte, 1)
      if count < 0 && errno == EINTR { continue }
      if count < 0 { return (.failed(errnoText()), pin) }
      if count == 0 || byte == 0x0a || byte == 0x0d { break }
      if !pin.append(byte) { overflow = true }
    }
    if overflow {
      pin.wipe()
      return (.tooLong, nil)
    }
    return (.line(pin), pin)
  }

  private func writeText(_ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count, let base = buffer.baseAddress {
        let written = write(descriptor, base + offset, buffer.count - offset)
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
      }
    }
  }
}

extension TerminalPINReader.Outcome {
  fileprivate var pin: SecretBytes? {
    if case .line(let pin) = self { return pin }
    return nil
  }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// The signal handlers in place while the PIN prompt is up.
private struct PromptSignals {
  /// The signals that end or stop a process by default, as readpassphrase(3) catches them.
  static let signals: [Int32] = [
    SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
  ]
  static let stopSignals: Set<Int32> = [SIGTSTP, SIGTTIN, SIGTTOU]

  /// The last signal caught, or 0. Written only by the handler and by `install`. The
  /// handler may run on any thread while the reading thread polls the value, so it is
  /// atomic.
  static let caughtSignal = Atomic<Int32>(0)

  private var previous: [(Int32, sigaction)] = []

  var caught: Int32? {
    let signal = PromptSignals.caughtSignal.load(ordering: .relaxed)
    return signal == 0 ? nil : signal
  }

  static func install() -> PromptSignals {
    // This store also initializes the static before any handler can run, so the handler
    // never runs the lazy initializer, which is not async-signal-safe.
    caughtSignal.store(0, ordering: .relaxed)
    var handlers = PromptSignals()
    for signal in signals {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { signal in
        // A handler must leave errno as it found it for the code it interrupted.
        let savedErrno = errno
        PromptSignals.caughtSignal.store(signal, ordering: .relaxed)
        errno = savedErrno
      }
      sigemptyset(&action.sa_mask)
      // No SA_RESTART: a blocked read returns EINTR when the signal lands on this thread.
      action.sa_flags = 0
      var old = sigaction()
      if sigaction(signal, &action, &old) == 0 { handlers.previous.append((signal, old)) }
    }
    return handlers
  }

  func restore() {
    for (signal, action) in previous {
      var action = action
      _ = sigaction(signal, &action, nil)
    }
  }
}
