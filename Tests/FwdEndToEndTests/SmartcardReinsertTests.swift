import Foundation
import FwdBindings
import FwdLab
import Synchronization
import Testing

@testable import FwdCore

private let available = SmartcardFixture.isAvailable

/// Creates a folder for one test's askpass and presence files, which the caller removes.
private func temporaryFolder() throws -> String {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("fwd-reinsert-\(UUID().uuidString.prefix(8))").path
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  return folder
}

/// Returns a process state with no terminal where `program` is the askpass, as with DISPLAY
/// set.
private func askpassEnvironment(_ program: String) -> PINEnvironment {
  PINEnvironment(
    variables: ["DISPLAY": ":0", "SSH_ASKPASS": program],
    terminalPath: SmartcardFixture.noTerminal.terminalPath)
}

/// Writes an askpass to `folder` that waits `seconds` before it runs `askpass`, and returns
/// its path. The wait keeps a PIN request open while other threads fail.
private func slowAskpass(_ askpass: CountingAskpass, seconds: Double, folder: String) throws
  -> String
{
  let program = folder + "/slow-askpass"
  try "#!/bin/sh\nsleep \(seconds)\nexec '\(askpass.program)' \"$1\"\n".write(
    toFile: program, atomically: true, encoding: .utf8)
  try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: program)
  return program
}

/// Starts `threads` threads that sign at the same moment, thread i with key i modulo the key
/// count, and returns the errors thrown, nil for each signature made.
private func signConcurrently(_ keys: [SmartcardKey], threads: Int = 16) -> [FwdError?] {
  // A class, so the threads share one lock: a Mutex captured by escaping closures is a boxed
  // variable, and ThreadSanitizer reported the withLock calls as racing writes to that box.
  let results = SignResults()
  let start = DispatchSemaphore(value: 0)
  let done = DispatchGroup()
  for index in 0..<threads {
    let key = keys[index % keys.count]
    done.enter()
    Thread {
      start.wait()
      var failure: FwdError?
      do {
        _ = try key.sign(Array("message \(index)".utf8))
      } catch let error as FwdError {
        failure = error
      } catch {
        failure = FwdError(.software, "not a FwdError: \(error)")
      }
      results.append(failure)
      done.leave()
    }.start()
  }
  for _ in 0..<threads { start.signal() }
  done.wait()
  return results.all
}

/// The outcomes of `signConcurrently`'s threads, appended under a lock.
private final class SignResults: @unchecked Sendable {
  private let lock = NSLock()
  private var outcomes: [FwdError?] = []

  func append(_ outcome: FwdError?) {
    lock.lock()
    outcomes.append(outcome)
    lock.unlock()
  }

  var all: [FwdError?] {
    lock.lock()
    defer { lock.unlock() }
    return outcomes
  }
}

/// Runs `body` and returns the lines fwd logged meanwhile that name `token`.
private func loggedLines(naming token: String, _ body: () throws -> Void) rethrows -> [String] {
  let lines = Mutex<[String]>([])
  Log.shared.sink = { _, text in
    let named = text.split(separator: "\n").map(String.init).filter { $0.contains(token) }
    lines.withLock { $0 += named }
  }
  defer { Log.shared.sink = nil }
  try body()
  return lines.withLock { $0 }
}

/// Returns the error `key.sign` throws, or nil when it signs.
private func signError(_ key: SmartcardKey) -> FwdError? {
  signConcurrently([key], threads: 1)[0]
}

/// Logging in again after the test token was removed and inserted, in this process.
extension SmartcardTests {
  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func reinsertedTokenAsksOnceForConcurrentSigners() throws {
    let token = try #require(SmartcardFixture.token)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let presence = TestTokenPresence(path: folder + "/presence")
    let askpass = try CountingAskpass(folder: folder, answers: [token.userPIN, token.userPIN])
    try SmartcardFixture.withEnvironment(presence.environment) {
      let session = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .interactive,
        environment: askpassEnvironment(askpass.program))
      let keys = session.smartcardKeys
      #expect(askpass.runs == 1)

      try presence.remove()
      let removed = SmartcardToken.removedError(token: "fwd-test")
      let whileRemoved = signConcurrently(keys)
      #expect(whileRemoved.count == 16)
      for failure in whileRemoved {
        #expect(failure?.message == removed.message)
        #expect(failure?.isPermanent == false)
      }
      #expect(askpass.runs == 1)

      try presence.insert()
      let afterInsertion = signConcurrently(keys)
      #expect(afterInsertion.count == 16)
      for failure in afterInsertion {
        #expect(failure == nil, "\(failure?.message ?? "")")
      }
      #expect(askpass.runs == 2)
      #expect(askpass.prompts.last == "Enter PIN for 'fwd-test': ")
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func quickReinsertionAsksOnceForConcurrentSigners() throws {
    let token = try #require(SmartcardFixture.token)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let presence = TestTokenPresence(path: folder + "/presence")
    let askpass = try CountingAskpass(folder: folder, answers: [token.userPIN, token.userPIN])
    let slow = try slowAskpass(askpass, seconds: 0.5, folder: folder)
    try SmartcardFixture.withEnvironment(presence.environment) {
      let session = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .interactive,
        environment: askpassEnvironment(slow))
      // Out and back before any call: every signer fails in the old session at about the same
      // time, and only the first of them opens a new session and logs in.
      try presence.remove()
      try presence.insert()
      var afterInsertion: [FwdError?] = []
      let lines = loggedLines(naming: "token 'fwd-test'") {
        afterInsertion = signConcurrently(session.smartcardKeys)
      }
      #expect(afterInsertion.count == 16)
      for failure in afterInsertion {
        #expect(failure == nil, "\(failure?.message ?? "")")
      }
      #expect(askpass.runs == 2)
      #expect(
        lines == [
          "fwd: token 'fwd-test' removed or reset (C_SignInit failed: CKR_SESSION_HANDLE_INVALID):"
            + " logging in again",
          "fwd: logged in to token 'fwd-test' again",
        ])
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func reinsertedTokenRejectsPINOnce() throws {
    let token = try #require(SmartcardFixture.token)
    // SoftHSM keeps CKF_USER_PIN_COUNT_LOW after the wrong PIN until a good login.
    defer { try? token.logInOnce() }
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let presence = TestTokenPresence(path: folder + "/presence")
    let pinName = "pin-\(UUID().uuidString)"
    let pinFile = try token.writePINFile(name: pinName)
    try SmartcardFixture.withEnvironment(presence.environment) {
      let session = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .file(pinFile))
      let key = try #require(session.smartcardKeys.first)
      try presence.remove()
      _ = try token.writePINFile(name: pinName, contents: "00000000")
      try presence.insert()

      let failure = signError(key)
      #expect(
        failure?.message
          == "token 'fwd-test': login failed: wrong PIN (CKR_PIN_INCORRECT) from --pin-file"
          + " \(pinFile), not tried again")
      #expect(failure?.status == .authentication)
      #expect(failure?.isPermanent == true)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func reinsertedTokenCannotRereadPINDescriptor() throws {
    let token = try #require(SmartcardFixture.token)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let presence = TestTokenPresence(path: folder + "/presence")
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    let line = Array((token.userPIN + "\n").utf8)
    #expect(write(ends[1], line, line.count) == line.count)
    close(ends[1])
    try SmartcardFixture.withEnvironment(presence.environment) {
      let session = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .fileDescriptor(ends[0]))
      let key = try #require(session.smartcardKeys.first)
      #expect(signError(key) == nil)
      try presence.remove()
      try presence.insert()

      let failure = signError(key)
      #expect(
        failure?.message
          == "token 'fwd-test': PIN needed to log in again after the token was removed, but"
          + " --pin-fd \(ends[0]) can be read only once: start fwd again, with --pin-file or"
          + " SSH_ASKPASS so that it can log in again by itself")
      #expect(failure?.isPermanent == true)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func reinsertedPINPadTokenNeedsNoDescriptor() throws {
    let token = try #require(SmartcardFixture.token)
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let presence = TestTokenPresence(path: folder + "/presence")
    let typed = try token.writePINFile(name: "pinpad-\(UUID().uuidString)")
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    defer { close(ends[1]) }
    let variables = presence.environment.merging(["FWD_TEST_TOKEN_PINPAD": typed]) { $1 }
    try SmartcardFixture.withEnvironment(variables) {
      let session = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .fileDescriptor(ends[0]))
      let key = try #require(session.smartcardKeys.first)
      try presence.remove()
      try presence.insert()
      // The reader's PIN pad takes the PIN again, so the spent descriptor is not needed.
      #expect(signError(key) == nil)
    }
  }
}
