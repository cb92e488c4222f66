import Foundation
import FwdBindings
import Glibc
import Synchronization
import Testing

@testable import FwdCore

/// A pseudo-terminal pair: the reader opens the secondary side as its terminal, the test
/// types on the primary side.
private final class PseudoTerminal {
  let primary: Int32
  let secondaryPath: String

  init() throws {
    // posix_openpt and friends are not in Swift's Glibc module, so this uses Linux's ptmx
    // ioctls: TIOCSPTLCK (_IOW('T', 0x31, int)) and TIOCGPTN (_IOR('T', 0x30, unsigned int)).
    primary = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    var unlock: Int32 = 0
    var number: UInt32 = 0
    guard primary >= 0, ioctl(primary, 0x4004_5431, &unlock) == 0,
      ioctl(primary, 0x8004_5430, &number) == 0
    else { throw SmartcardTestFailure("no pseudo-terminal available") }
    secondaryPath = "/dev/pts/\(number)"
  }

  deinit { close(primary) }

  /// Reads what the reader wrote until `suffix` appears (at most 5 s). The terminal turns
  /// each newline into CR LF.
  func read(until suffix: String) -> String {
    var bytes: [UInt8] = []
    let wanted = Array(suffix.utf8)
    let deadline = Date().addingTimeInterval(5)
    var byte: UInt8 = 0
    while !bytes.ends(with: wanted) && Date() < deadline {
      var poller = pollfd(fd: primary, events: Int16(POLLIN), revents: 0)
      guard poll(&poller, 1, 100) > 0, Glibc.read(primary, &byte, 1) == 1 else { continue }
      bytes.append(byte)
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  func type(_ text: String) {
    let bytes = Array(text.utf8)
    _ = write(primary, bytes, bytes.count)
  }

  /// Whether the terminal echoes input, as the reader left it.
  var echoes: Bool {
    let descriptor = open(secondaryPath, O_RDWR | O_NOCTTY)
    defer { close(descriptor) }
    var settings = termios()
    _ = tcgetattr(descriptor, &settings)
    return settings.c_lflag & tcflag_t(ECHO) != 0
  }
}

/// Runs `body` on its own thread, because the PIN reader blocks. Returns a function that
/// waits at most 10 s for the result and returns nil after that.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> () -> T? {
  let done = DispatchSemaphore(value: 0)
  let box = ResultBox<T>()
  Thread.detachNewThread {
    box.value = body()
    done.signal()
  }
  return {
    guard done.wait(timeout: .now() + 10) == .success else { return nil }
    return box.value
  }
}

private final class ResultBox<T>: @unchecked Sendable {
  var value: T?
}

extension Array where Element == UInt8 {
  fileprivate func ends(with suffix: [UInt8]) -> Bool {
    count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
  }
}

private struct SmartcardTestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

@Suite(.serialized) struct PINTerminalTests {
  @Test func readsLineWithEchoOffThenRestores() throws {
    let terminal = try PseudoTerminal()
    let reader = try #require(TerminalPINReader(path: terminal.secondaryPath))
    #expect(terminal.echoes)
    let result = onThread { () -> Int in
      let pin = try? reader.readPIN(token: "card", notice: "One attempt left before the PIN locks.")
      return pin?.count ?? -1
    }
    let displayed = terminal.read(until: "Enter PIN for 'card': ")
    #expect(displayed.hasPrefix("One attempt left before the PIN locks."))
    #expect(!terminal.echoes)
    terminal.type("123456\n")
    #expect(result() == 6)
    #expect(terminal.echoes)
    // Nothing typed is echoed back: the line after the prompt is only the newline fwd writes.
    #expect(!terminal.read(until: "\n").contains("123456"))
  }

  @Test func endOfFileGivesEmptyPINAndRestores() throws {
    let terminal = try PseudoTerminal()
    let reader = try #require(TerminalPINReader(path: terminal.secondaryPath))
    let result = onThread { () -> Int in
      (try? reader.readPIN(token: "card", notice: nil).count) ?? -1
    }
    _ = terminal.read(until: "': ")
    terminal.type("\u{04}")  // Ctrl-D: end of file in canonical mode
    #expect(result() == 0)
    #expect(terminal.echoes)
  }

  @Test func overlongPINIsRejected() throws {
    let terminal = try PseudoTerminal()
    let reader = try #require(TerminalPINReader(path: terminal.secondaryPath))
    let result = onThread { () -> String in
      do {
        _ = try reader.readPIN(token: "card", notice: nil)
        return "no error"
      } catch let error as FwdError {
        return error.message
      } catch {
        return "not a FwdError"
      }
    }
    _ = terminal.read(until: "': ")
    terminal.type(String(repeating: "9", count: 300) + "\n")
    #expect(result() == "token 'card': PIN longer than 256 bytes")
    #expect(terminal.echoes)
  }

  @Test func signalRestoresTerminalAndReachesPreviousHandler() throws {
    let terminal = try PseudoTerminal()
    let reader = try #require(TerminalPINReader(path: terminal.secondaryPath))
    var counting = sigaction()
    counting.__sigaction_handler.sa_handler = { _ in
      let savedErrno = errno
      interruptsSeen.add(1, ordering: .relaxed)
      errno = savedErrno
    }
    var original = sigaction()
    #expect(sigaction(SIGINT, &counting, &original) == 0)
    defer { _ = sigaction(SIGINT, &original, nil) }
    interruptsSeen.store(0, ordering: .relaxed)
    let result = onThread { () -> String in
      do {
        _ = try reader.readPIN(token: "card", notice: nil)
        return "no error"
      } catch let error as FwdError {
        return error.message
      } catch {
        return "not a FwdError"
      }
    }
    _ = terminal.read(until: "': ")
    #expect(!terminal.echoes)
    kill(getpid(), SIGINT)
    #expect(result() == "token 'card': PIN entry interrupted by signal \(SIGINT)")
    #expect(terminal.echoes)
    // The signal is raised again for the whole process, so its handler may run a little later.
    let deadline = Date().addingTimeInterval(2)
    while interruptsSeen.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(10_000) }
    #expect(interruptsSeen.load(ordering: .relaxed) == 1)
  }
}

/// SIGINTs that reached the handler installed before the prompt. The handler runs on
/// whichever thread takes the signal, so the count is atomic.
private let interruptsSeen = Atomic<Int>(0)
