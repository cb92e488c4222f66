import Foundation
import FwdBindings
import FwdLab
import Testing

@testable import FwdCore

private let available = SmartcardFixture.isAvailable

/// A scripted askpass: each run records its prompt and prints the next of `answers`.
private struct ScriptedAskpass {
  let program: String
  let promptsFile: String

  init(answers: [String]) throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("fwd-askpass-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let dir = folder.path
    promptsFile = dir + "/prompts"
    try (answers.joined(separator: "\n") + "\n").write(
      toFile: dir + "/answers", atomically: true, encoding: .utf8)
    program = dir + "/askpass"
    let script = """
      #!/bin/sh
      printf '%s\\n--\\n' "$1" >> '\(dir)/prompts'
      n=$(cat '\(dir)/count' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '\(dir)/count'
      sed -n "${n}p" '\(dir)/answers'
      """
    try script.write(toFile: program, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: program)
  }

  /// The prompts shown so far, in order.
  var prompts: [String] {
    let text = (try? String(contentsOfFile: promptsFile, encoding: .utf8)) ?? ""
    return text.components(separatedBy: "\n--\n").filter { !$0.isEmpty }
  }

  /// A process state with no terminal where askpass is used, as with DISPLAY set.
  var environment: PINEnvironment {
    PINEnvironment(
      variables: ["DISPLAY": ":0", "SSH_ASKPASS": program],
      terminalPath: SmartcardFixture.noTerminal.terminalPath)
  }
}

/// Writes a retry counter file for the test token, starting at `wrongPINs`, and returns its
/// path.
private func counterFile(_ wrongPINs: Int) throws -> String {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("fwd-counter-\(UUID().uuidString.prefix(8))").path
  try "\(wrongPINs)\n".write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

private func counter(_ path: String) -> Int? {
  let text = try? String(contentsOfFile: path, encoding: .utf8)
  return text.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Runs `body` with the test token's counter at `wrongPINs` out of `maxTries`.
private func withCounter(
  _ wrongPINs: Int, maxTries: Int = 3, _ body: (String) throws -> Void
) throws {
  let state = try counterFile(wrongPINs)
  defer { try? FileManager.default.removeItem(atPath: state) }
  try SmartcardFixture.withEnvironment(
    ["FWD_TEST_TOKEN_STATE": state, "FWD_TEST_TOKEN_MAX_TRIES": "\(maxTries)"]
  ) { try body(state) }
}

extension SmartcardTests {
  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func wrongPINFromFileLogsInOnce() throws {
    let spy = try #require(SoftHSMToken.spyModulePath)
    let token = try #require(SmartcardFixture.token)
    let log = token.directory.appendingPathComponent("spy-\(UUID().uuidString).log").path
    let environment = SoftHSMToken.spyEnvironment(wrapping: SoftHSMToken.modulePath, log: log)
    try SmartcardFixture.withEnvironment(environment) {
      let wrong = try SmartcardFixture.privateFile("00000000")
      let message = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(module: spy, pinSource: .file(wrong))
      }
      #expect(
        message?.contains("token 'fwd-test': login failed: wrong PIN (CKR_PIN_INCORRECT)") == true)
      #expect(message?.contains("from --pin-file \(wrong), not tried again") == true)
      #expect(SoftHSMToken.countCalls("C_Login", inSpyLog: log) == 1)

      let session = try SmartcardFixture.open(
        module: spy, pinSource: .file(try token.writePINFile()))
      #expect(SoftHSMToken.countCalls("C_Login", inSpyLog: log) == 2)
      let before = SoftHSMToken.countCalls("C_Sign", inSpyLog: log)
      for key in session.smartcardKeys { _ = try key.sign([1, 2, 3]) }
      let signatures = SoftHSMToken.countCalls("C_Sign", inSpyLog: log) - before
      // Each signature is a length query and the signing call.
      #expect(signatures == 2 * session.smartcardKeys.count)
      #expect(SoftHSMToken.countCalls("C_Login", inSpyLog: log) == 2)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func noPINSourceFailsWithinASecond() throws {
    let started = Date()
    let message = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .interactive)
    }
    #expect(Date().timeIntervalSince(started) < 1)
    #expect(
      message
        == "token 'fwd-test': PIN needed but no terminal or askpass is available: give it with"
        + " --pin-fd N or --pin-file PATH, or set SSH_ASKPASS and DISPLAY")
    let batch = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .interactive, batchMode: true)
    }
    #expect(
      batch
        == "token 'fwd-test': PIN needed but BatchMode is on: give it with --pin-fd N or"
        + " --pin-file PATH")
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func countLowIsShownBeforeAsking() throws {
    let token = try #require(SmartcardFixture.token)
    try withCounter(1) { state in
      let askpass = try ScriptedAskpass(answers: [token.userPIN])
      _ = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .interactive,
        environment: askpass.environment)
      #expect(askpass.prompts.count == 1)
      #expect(
        askpass.prompts.first?.contains(
          "A wrong PIN was entered since the last successful login.") == true)
      #expect(askpass.prompts.first?.hasSuffix("Enter PIN for 'fwd-test': ") == true)
      #expect(counter(state) == 0)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func finalTryIsRefusedForPINFile() throws {
    let token = try #require(SmartcardFixture.token)
    try withCounter(2) { state in
      let pinFile = try token.writePINFile()
      let message = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(
          module: SmartcardFixture.testTokenModule, pinSource: .file(pinFile))
      }
      #expect(
        message
          == "token 'fwd-test': one attempt left before the PIN locks: the PIN from --pin-file"
          + " \(pinFile) was not tried: check it, then add --pin-allow-final-try or enter it at a"
          + " terminal")
      #expect(counter(state) == 2)
      _ = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .file(pinFile), allowFinalTry: true)
      #expect(counter(state) == 0)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func wrongFinalTryLocksThePIN() throws {
    try withCounter(2) { state in
      let wrong = try SmartcardFixture.privateFile("00000000")
      let message = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(
          module: SmartcardFixture.testTokenModule, pinSource: .file(wrong), allowFinalTry: true)
      }
      #expect(message?.hasPrefix("token 'fwd-test': wrong PIN, and the PIN is now locked:") == true)
      #expect(counter(state) == 3)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func lockedPINIsNotTried() throws {
    let token = try #require(SmartcardFixture.token)
    try withCounter(3) { state in
      let askpass = try ScriptedAskpass(answers: [token.userPIN])
      let message = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(
          module: SmartcardFixture.testTokenModule, pinSource: .interactive,
          environment: askpass.environment)
      }
      #expect(
        message
          == "token 'fwd-test': the PIN is locked: unblock it with the security officer PIN"
          + " (e.g. pkcs11-tool --unlock-pin) or the card vendor's tool")
      #expect(askpass.prompts.isEmpty)
      #expect(counter(state) == 3)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func repeatedWrongPINIsNotResent() throws {
    let token = try #require(SmartcardFixture.token)
    try withCounter(0) { state in
      let askpass = try ScriptedAskpass(answers: ["11111111", "11111111", token.userPIN])
      _ = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .interactive,
        environment: askpass.environment)
      let prompts = askpass.prompts
      #expect(prompts.count == 3)
      #expect(
        prompts.count == 3 && prompts[1] == "Wrong PIN.\nEnter PIN for 'fwd-test': ")
      #expect(
        prompts.count == 3
          && prompts[2].hasPrefix("This PIN was already rejected and was not sent again."))
      #expect(counter(state) == 0)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func interactiveStopsAfterThreePrompts() throws {
    try withCounter(0, maxTries: 10) { state in
      let askpass = try ScriptedAskpass(answers: ["11111111", "22222222", "33333333", "44444444"])
      let message = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(
          module: SmartcardFixture.testTokenModule, pinSource: .interactive,
          environment: askpass.environment)
      }
      #expect(
        message
          == "token 'fwd-test': login failed: wrong PIN (CKR_PIN_INCORRECT) after 3 prompts")
      #expect(askpass.prompts.count == 3)
      #expect(counter(state) == 3)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func interactiveFinalTryWarns() throws {
    try withCounter(1) { state in
      let askpass = try ScriptedAskpass(answers: ["11111111", "22222222"])
      let message = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(
          module: SmartcardFixture.testTokenModule, pinSource: .interactive,
          environment: askpass.environment)
      }
      #expect(askpass.prompts.count == 2)
      #expect(
        askpass.prompts.last?.hasPrefix("Wrong PIN. One attempt left before the PIN locks.") == true
      )
      #expect(message?.hasPrefix("token 'fwd-test': wrong PIN, and the PIN is now locked") == true)
      #expect(counter(state) == 3)
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func pinPadLogsInWithoutPIN() throws {
    let token = try #require(SmartcardFixture.token)
    let typed = try token.writePINFile(name: "pinpad-\(UUID().uuidString)")
    try SmartcardFixture.withEnvironment(["FWD_TEST_TOKEN_PINPAD": typed]) {
      let session = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .interactive)
      #expect(!session.smartcardKeys.isEmpty)
      let batch = SmartcardFixture.errorMessage {
        _ = try SmartcardFixture.open(
          module: SmartcardFixture.testTokenModule, pinSource: .interactive, batchMode: true)
      }
      #expect(batch == "token 'fwd-test': PIN needed on the reader's PIN pad but BatchMode is on")
    }
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func unusedPINDescriptorIsClosed() throws {
    let token = try #require(SmartcardFixture.token)
    let typed = try token.writePINFile(name: "pinpad-\(UUID().uuidString)")
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    defer { close(ends[1]) }
    try SmartcardFixture.withEnvironment(["FWD_TEST_TOKEN_PINPAD": typed]) {
      _ = try SmartcardFixture.open(
        module: SmartcardFixture.testTokenModule, pinSource: .fileDescriptor(ends[0]))
    }
    #expect(fcntl(ends[0], F_GETFD) == -1)
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func pinFileMustBePrivate() throws {
    let token = try #require(SmartcardFixture.token)
    let readable = try SmartcardFixture.privateFile(token.userPIN, mode: 0o644)
    let open = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .file(readable))
    }
    #expect(open == "--pin-file \(readable): mode 644 is not 600 or 400: run chmod 600 \(readable)")
    let folder = token.directory.path
    let directory = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .file(folder))
    }
    #expect(
      directory == "--pin-file \(folder): not a regular file: give a file holding only the PIN")
    let missing = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .file(folder + "/missing"))
    }
    #expect(missing == "--pin-file \(folder)/missing: cannot open: No such file or directory")
    let readOnly = try SmartcardFixture.privateFile(token.userPIN, mode: 0o400)
    _ = try SmartcardFixture.open(pinSource: .file(readOnly))
  }

  @Test(.enabled(if: available && geteuid() == 0, "needs SoftHSM and root to chown"))
  func pinFileMustBeOwnedByUser() throws {
    let token = try #require(SmartcardFixture.token)
    let file = try SmartcardFixture.privateFile(token.userPIN)
    #expect(chown(file, 4242, 4242) == 0)
    let message = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .file(file))
    }
    #expect(
      message
        == "--pin-file \(file): owned by uid 4242, not by uid 0: chown it to the user running fwd")
  }

  @Test(.enabled(if: available, "softhsm2 and opensc are not installed"))
  func pinDescriptorIsReadOnceAndClosed() throws {
    let token = try #require(SmartcardFixture.token)
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    let line = Array((token.userPIN + "\n").utf8)
    #expect(write(ends[1], line, line.count) == line.count)
    close(ends[1])
    let session = try SmartcardFixture.open(pinSource: .fileDescriptor(ends[0]))
    #expect(!session.smartcardKeys.isEmpty)
    #expect(fcntl(ends[0], F_GETFD) == -1)
    let closed = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(pinSource: .fileDescriptor(ends[0]))
    }
    #expect(
      closed
        == "--pin-fd \(ends[0]): descriptor is not open: open it in the calling shell, e.g."
        + " 3<pinfile")
  }

  @Test(
    .enabled(
      if: FileManager.default.fileExists(atPath: Smartcard.defaultProvider()),
      "OpenSC's opensc-pkcs11.so is not installed"))
  func noReaderNamesModuleAndFix() throws {
    let provider = Smartcard.defaultProvider()
    let message = SmartcardFixture.errorMessage {
      _ = try Smartcard.open(
        provider: nil, identityURIs: [], pinSource: .interactive, batchMode: true)
    }
    #expect(
      message
        == "PKCS#11 module \(provider): no slots found: check that the reader is plugged in and"
        + " pcscd is running, or name another module with -I")
  }

  @Test func missingModuleNamesPath() throws {
    let message = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(module: "/nonexistent/module.so", pinSource: .interactive)
    }
    #expect(message?.hasPrefix("PKCS#11 module /nonexistent/module.so: cannot load: ") == true)
    #expect(message?.hasSuffix(": check the path given with -I or PKCS11Provider") == true)
  }
}
