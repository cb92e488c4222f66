import Foundation
import FwdLab
import Glibc
import Testing

private let available = SmartcardChainFixture.isAvailable

/// The test token module built beside the test bundle, which simulates a retry counter.
private var testTokenModule: String { SmartcardFixture.testTokenModule }

/// Returns the wrong-PIN count the test token keeps in `path`.
private func wrongPINCount(_ path: String) -> Int? {
  let text = try? String(contentsOfFile: path, encoding: .utf8)
  return text.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Makes a chain on the test token with its counter at `wrongPINs` of 3 tries. Returns the
/// chain, the variables that point the token at its counter file, and that file's path.
private func retryCounterChain(wrongPINs: Int, askpassAnswers: [String] = []) throws
  -> (TokenChain, [String: String], String)
{
  let chain = try TokenChain(askpassAnswers: askpassAnswers, wrappedModule: testTokenModule)
  let state = chain.folder + "/wrong-pins"
  try "\(wrongPINs)\n".write(toFile: state, atomically: true, encoding: .utf8)
  return (chain, ["FWD_TEST_TOKEN_STATE": state, "FWD_TEST_TOKEN_MAX_TRIES": "3"], state)
}

/// Wrong, missing and rationed PINs through the built fwd: one line on stderr, exit status 77
/// (authentication), and no wrong PIN sent twice.
extension SmartcardTests {
  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainWrongPINFileFailsOnce() throws {
    let chain = try TokenChain(askpassAnswers: [try #require(SmartcardChainFixture.token).userPIN])
    let wrong = try chain.privateFile("00000000")
    let fwd = try chain.start(["--pin-file", wrong])
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 77)

    #expect(
      nonEmptyLines(fwd.standardError) == [
        "fwd: token 'fwd-chain': login failed: wrong PIN (CKR_PIN_INCORRECT) from --pin-file"
          + " \(wrong), not tried again"
      ])
    #expect(fwd.standardOutput.isEmpty)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.askpass.runs == 0)
    for host in Lab.defaultHostNames {
      #expect(chain.acceptedFingerprints(on: host).isEmpty, "host \(host)")
    }
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainWrongPINDescriptorFailsOnce() throws {
    let chain = try TokenChain()
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    let line = Array("00000000\n".utf8)
    #expect(write(ends[1], line, line.count) == line.count)
    close(ends[1])
    let fwd: FwdProcess
    do {
      defer { close(ends[0]) }
      fwd = try chain.start(["--pin-fd", "3"], inheritedDescriptors: [ends[0]])
    }
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 77)

    #expect(
      nonEmptyLines(fwd.standardError) == [
        "fwd: token 'fwd-chain': login failed: wrong PIN (CKR_PIN_INCORRECT) from --pin-fd 3,"
          + " not tried again"
      ])
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.askpass.runs == 0)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainRepeatedAskpassPINIsSentOnce() throws {
    let chain = try TokenChain(askpassAnswers: ["00000000", "00000000", "00000000"])
    let fwd = try chain.start()
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 77)

    let lines = nonEmptyLines(fwd.standardError)
    #expect(lines.count == 1)
    #expect(
      lines.first?.hasPrefix(
        "fwd: token 'fwd-chain': login failed: wrong PIN (CKR_PIN_INCORRECT) after 3 prompts")
        == true)
    #expect(chain.askpass.runs == 3)
    #expect(chain.spyLog.count("C_Login") == 1)
    let prompts = chain.askpass.prompts
    #expect(prompts.first == "Enter PIN for 'fwd-chain': ")
    #expect(prompts.dropFirst().first?.hasPrefix("Wrong PIN.") == true)
    #expect(
      prompts.last?.hasPrefix("This PIN was already rejected and was not sent again.") == true)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainAskpassRecoversFromWrongPIN() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let chain = try TokenChain(askpassAnswers: ["00000000", "00000000", pin])
    let fwd = try chain.start()
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 3)
    // The repeated wrong PIN is not sent, so two logins: the wrong one and the right one.
    #expect(chain.spyLog.count("C_Login") == 2)
    #expect(chain.spyLog.signatures == 3)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainWithoutPINSourceFailsFast() throws {
    let chain = try TokenChain()
    // The children run in a new session, so /dev/tty cannot be opened there.
    let probe = try FwdProcess(
      arguments: ["-c", "if (exec 3<>/dev/tty) 2>/dev/null; then echo tty; else echo none; fi"],
      newSession: true, binary: "/bin/sh")
    #expect(try probe.waitForExit() == 0)
    #expect(probe.standardOutput == "none\n")

    let started = Date()
    let fwd = try chain.start(unset: ["SSH_ASKPASS", "SSH_ASKPASS_REQUIRE"])
    let status = try fwd.waitForExit(timeout: .seconds(10))
    let elapsed = Date().timeIntervalSince(started)
    #expect(status == 77)
    #expect(elapsed < 1, "fwd took \(elapsed) s")
    #expect(
      nonEmptyLines(fwd.standardError) == [
        "fwd: token 'fwd-chain': PIN needed but no terminal or askpass is available: give it"
          + " with --pin-fd N or --pin-file PATH, or set SSH_ASKPASS and DISPLAY"
      ])
    #expect(chain.spyLog.count("C_Login") == 0)
    // The token is opened before the first hop, so no host saw a connection.
    #expect(!chain.lab.log(of: "build").contains("Connection from"))
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainWarnsWhenCountIsLow() throws {
    let (chain, counter, state) = try retryCounterChain(wrongPINs: 1)
    let pinFile = try chain.privateFile(chain.token.userPIN)
    let fwd = try chain.start(["--pin-file", pinFile], environment: counter)
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(
      fwd.standardError.contains(
        "fwd: token 'fwd-chain': a wrong PIN was entered since the last successful login\n"))
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(wrongPINCount(state) == 0)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainAskpassShowsCountLow() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let (chain, counter, state) = try retryCounterChain(wrongPINs: 1, askpassAnswers: [pin])
    let fwd = try chain.start(environment: counter)
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(
      chain.askpass.prompts == [
        "A wrong PIN was entered since the last successful login.\nEnter PIN for 'fwd-chain': "
      ])
    #expect(wrongPINCount(state) == 0)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainKeepsFinalTryFromPINFile() throws {
    let (chain, counter, state) = try retryCounterChain(wrongPINs: 2)
    let pinFile = try chain.privateFile(chain.token.userPIN)
    let refused = try chain.start(["--pin-file", pinFile], environment: counter)
    #expect(try refused.waitForExit(timeout: .seconds(10)) == 77)

    #expect(
      nonEmptyLines(refused.standardError) == [
        "fwd: token 'fwd-chain': one attempt left before the PIN locks: the PIN from --pin-file"
          + " \(pinFile) was not tried: check it, then add --pin-allow-final-try or enter it at a"
          + " terminal"
      ])
    #expect(chain.spyLog.count("C_Login") == 0)
    #expect(chain.askpass.runs == 0)
    #expect(wrongPINCount(state) == 2)

    let allowed = try chain.start(
      ["--pin-file", pinFile, "--pin-allow-final-try"], environment: counter)
    #expect(try chain.echoThrough(allowed) == 0, "stderr: \(allowed.standardError)")
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(wrongPINCount(state) == 0)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainWrongFinalTryLocks() throws {
    let (chain, counter, state) = try retryCounterChain(wrongPINs: 2)
    let wrong = try chain.privateFile("00000000")
    let fwd = try chain.start(["--pin-file", wrong, "--pin-allow-final-try"], environment: counter)
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 77)

    #expect(
      nonEmptyLines(fwd.standardError).last
        == "fwd: token 'fwd-chain': wrong PIN, and the PIN is now locked: unblock it with the"
        + " security officer PIN (e.g. pkcs11-tool --unlock-pin) or the card vendor's tool")
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(wrongPINCount(state) == 3)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainAskpassWarnsOfFinalTry() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let (chain, counter, state) = try retryCounterChain(wrongPINs: 2, askpassAnswers: [pin])
    let fwd = try chain.start(environment: counter)
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(
      chain.askpass.prompts == [
        "One attempt left before the PIN locks.\nEnter PIN for 'fwd-chain': "
      ])
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(wrongPINCount(state) == 0)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainLockedPINIsNotTried() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let (chain, counter, state) = try retryCounterChain(wrongPINs: 3, askpassAnswers: [pin])
    let pinFile = try chain.privateFile(pin)
    for options in [[], ["--pin-file", pinFile, "--pin-allow-final-try"]] {
      let fwd = try chain.start(options, environment: counter)
      #expect(try fwd.waitForExit(timeout: .seconds(10)) == 77, "options \(options)")
      #expect(
        nonEmptyLines(fwd.standardError) == [
          "fwd: token 'fwd-chain': the PIN is locked: unblock it with the security officer PIN"
            + " (e.g. pkcs11-tool --unlock-pin) or the card vendor's tool"
        ], "options \(options)")
    }
    #expect(chain.askpass.runs == 0)
    #expect(chain.spyLog.count("C_Login") == 0)
    #expect(wrongPINCount(state) == 3)
  }
}
