import Foundation
import FwdBindings
import Synchronization
import Testing

@testable import FwdCore

/// fwd's own replacements for Foundation calls, checked against Foundation, which the tests may
/// still load.
@Suite struct FoundationReplacementTests {
  @Test func base64EncodeMatchesFoundation() {
    for length in 0..<70 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
      #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString(), "length \(length)")
    }
  }

  @Test func base64DecodeRoundTrips() {
    for length in 0..<70 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 91 &+ 7) }
      let text = Data(bytes).base64EncodedString()
      #expect(Base64.decode(text) == bytes, "length \(length)")
    }
  }

  @Test func base64DecodeRejectsMalformedText() {
    // Foundation accepts a few of these ("====", "AA=A"), which are not base64 by RFC 4648.
    let malformed = ["A", "AB", "ABC", "AB=", "A===", "====", "AA=A", "QUJD\n", " QUJD", "QU JD", "-_-_"]
    for text in malformed {
      #expect(Base64.decode(text) == nil, "'\(text)'")
    }
  }

  @Test func base64DecodePadding() {
    #expect(Base64.decode("") == [])
    #expect(Base64.decode("QQ==") == [0x41])
    #expect(Base64.decode("QUI=") == [0x41, 0x42])
    #expect(Base64.decode("QUJD") == [0x41, 0x42, 0x43])
  }

  @Test func deletingLastComponentMatchesFoundation() {
    let paths = [
      "", "/", "/a", "/a/", "/a/b", "/a/b/", "a/b", "a//b", "/a//b//", "//a",
      "~/.ssh/known_hosts", "./x", "../x/y", "/tmp/fwd.pid",
    ]
    for path in paths {
      let expected = (path as NSString).deletingLastPathComponent
      #expect(FilePath.deletingLastComponent(path) == expected, "'\(path)'")
    }
  }

  /// Foundation 6.3.1 traps on a relative path of one component and returns "" for "//".
  @Test func deletingLastComponentEdgeCases() {
    #expect(FilePath.deletingLastComponent("a") == "")
    #expect(FilePath.deletingLastComponent("a/") == "")
    #expect(FilePath.deletingLastComponent("fwd.pid") == "")
    #expect(FilePath.deletingLastComponent("//") == "/")
  }

  @Test func trimmingSpacesMatchesFoundation() {
    let answers = ["", " ", "yes", " yes ", "\tno\t", "\u{00A0}yes\u{3000}", " y e s ", "yes\n", "\n"]
    for answer in answers {
      let expected = answer.trimmingCharacters(in: .whitespaces)
      #expect(HostKeyPrompt.trimmingSpaces(answer) == expected, "'\(answer.debugDescription)'")
    }
  }

  @Test func environmentReadsVariables() {
    setenv("FWD_TEST_VARIABLE", "a=b", 1)
    defer { unsetenv("FWD_TEST_VARIABLE") }
    #expect(ProcessEnvironment.value("FWD_TEST_VARIABLE") == "a=b")
    #expect(ProcessEnvironment.all()["FWD_TEST_VARIABLE"] == "a=b")
    #expect(ProcessEnvironment.value("FWD_TEST_VARIABLE_UNSET") == nil)
    #expect(ProcessEnvironment.all()["PATH"] == ProcessInfo.processInfo.environment["PATH"])
  }

  @Test func shellCommandExitStatus() throws {
    #expect(try ShellCommand.run("exit 0") == 0)
    #expect(try ShellCommand.run("exit 3") == 3)
    #expect(try ShellCommand.run("read line; test -z \"$line\"") == 0)
    #expect(try ShellCommand.run("kill -TERM $$") == nil)
  }

  @Test func detachedThreadRunsWithName() {
    let done = DispatchSemaphore(value: 0)
    let seen = Mutex("")
    DetachedThread.start(name: "fwd hop a-very-long-name", stackSize: 1 << 20) {
      let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
      seen.withLock { $0 = name }
      done.signal()
    }
    #expect(done.wait(timeout: .now() + 5) == .success)
    // Linux keeps 15 bytes of a thread name.
    #expect(seen.withLock { $0 } == "fwd hop a-very-\n")
  }

  @Test func lockExcludesThreads() {
    let lock = FwdBindings.Lock()
    let group = DispatchGroup()
    nonisolated(unsafe) var counter = 0
    for _ in 0..<4 {
      DispatchQueue.global().async(group: group) {
        for _ in 0..<10_000 { lock.withLock { counter += 1 } }
      }
    }
    group.wait()
    #expect(lock.withLock { counter } == 40_000)
  }
}
