import FwdBindings

/// Logs in to one token, reading its retry flags before each PIN request.
///
/// Each PIN entered reaches `C_Login` at most once: a wrong PIN is remembered by a salted
/// fingerprint and a repeat of it is not sent. Non-interactive sources get one attempt,
/// interactive ones up to three prompts. A locked PIN is never tried, and the last try before
/// a lock is spent from a non-interactive source only when `allowFinalTry` is set.
struct SmartcardLogin {
  let module: PKCS11Module
  let session: PKCS11Session
  let token: PKCS11TokenInfo
  let reader: PINReader?
  let batchMode: Bool
  let allowFinalTry: Bool

  /// The prompts an interactive source gets, as ssh-agent and most card tools allow.
  static let interactiveAttempts = 3

  func run() throws(FwdError) {
    if !token.loginRequired {
      logDebug(tokenName, "no login required")
      return
    }
    if token.userPINLocked { throw lockedError(afterWrongPIN: false) }
    if token.protectedAuthenticationPath { return try loginOnPINPad() }
    guard let reader else {
      throw PINSource.unavailableError(token: token.label, batchMode: batchMode)
    }
    try loginWithPIN(from: reader)
  }

  private var tokenName: String { "token '\(token.label)'" }

  private func loginWithPIN(from reader: PINReader) throws(FwdError) {
    let attempts = reader.isInteractive ? SmartcardLogin.interactiveAttempts : 1
    let salt = Digest.randomBytes(32)
    var rejected: [[UInt8]] = []
    var flags = token
    var notice = SmartcardLogin.retryNotice(flags)
    for _ in 0..<attempts {
      if flags.userPINFinalTry && !reader.isInteractive && !allowFinalTry {
        throw finalTryError(reader)
      }
      // A non-interactive source has one attempt, so this logs once.
      if !reader.isInteractive, let warning = SmartcardLogin.retryWarning(flags) {
        logInfo(tokenName, warning)
      }
      let pin = try reader.readPIN(token: token.label, notice: notice)
      if pin.isEmpty {
        // An empty line is taken as a cancel, so a stray Enter costs no attempt.
        throw FwdError(.authentication, "\(tokenName): no PIN entered")
      }
      let fingerprint = pin.fingerprint(key: salt)
      if rejected.contains(fingerprint) {
        pin.wipe()
        notice = SmartcardLogin.afterWrongPIN(
          "This PIN was already rejected and was not sent again.", flags)
        continue
      }
      do {
        try session.login(pin: pin)
        logDebug(tokenName, "logged in with the PIN from \(reader.sourceName)")
        return
      } catch {
        if error.isPINLocked { throw lockedError(afterWrongPIN: true) }
        guard error.isPINIncorrect else {
          throw FwdError(.authentication, "\(tokenName): login failed: \(error.name)")
        }
      }
      rejected.append(fingerprint)
      flags = (try? module.tokenInfo(slot: token.slot)) ?? flags
      if flags.userPINLocked { throw lockedError(afterWrongPIN: true) }
      notice = SmartcardLogin.afterWrongPIN("Wrong PIN.", flags)
    }
    throw wrongPINError(reader, flags)
  }

  private func loginOnPINPad() throws(FwdError) {
    if batchMode {
      throw FwdError(
        .authentication, "\(tokenName): PIN needed on the reader's PIN pad but BatchMode is on")
    }
    logInfo(tokenName, "enter the PIN on the reader's PIN pad")
    do {
      try session.login(pin: nil)
    } catch {
      if error.isPINLocked { throw lockedError(afterWrongPIN: true) }
      throw FwdError(
        .authentication, "\(tokenName): login on the reader's PIN pad failed: \(error.name)")
    }
    logDebug(tokenName, "logged in through the reader's PIN pad")
  }

  /// Returns the warning the token's retry flags call for, or nil when no wrong PIN is on
  /// record. PKCS#11 defines CKF_USER_PIN_COUNT_LOW as "a wrong PIN was entered at least once
  /// since the last successful login", so the warning states that and not how many tries remain.
  /// SoftHSM 2.6.1 sets that flag after a wrong PIN but never the final-try or locked flags.
  static func retryWarning(_ token: PKCS11TokenInfo) -> String? {
    if token.userPINFinalTry { return "one attempt left before the PIN locks" }
    if token.userPINCountLow { return "a wrong PIN was entered since the last successful login" }
    return nil
  }

  /// Returns the retry warning as a sentence to show before a prompt.
  static func retryNotice(_ token: PKCS11TokenInfo) -> String? {
    retryWarning(token).map(sentence)
  }

  /// Returns `text` followed by the final-try warning when the token reports one. The
  /// count-low warning is left out because it only repeats that a wrong PIN was just entered.
  static func afterWrongPIN(_ text: String, _ flags: PKCS11TokenInfo) -> String {
    flags.userPINFinalTry ? text + " " + sentence("one attempt left before the PIN locks") : text
  }

  private static func sentence(_ text: String) -> String {
    text.prefix(1).uppercased() + text.dropFirst() + "."
  }

  private func lockedError(afterWrongPIN: Bool) -> FwdError {
    let what = afterWrongPIN ? "wrong PIN, and the PIN is now locked" : "the PIN is locked"
    return FwdError(
      .authentication,
      "\(tokenName): \(what): unblock it with the security officer PIN"
        + " (e.g. pkcs11-tool --unlock-pin) or the card vendor's tool")
  }

  private func finalTryError(_ reader: PINReader) -> FwdError {
    FwdError(
      .authentication,
      "\(tokenName): one attempt left before the PIN locks: the PIN from \(reader.sourceName)"
        + " was not tried: check it, then add --pin-allow-final-try or enter it at a terminal")
  }

  private func wrongPINError(_ reader: PINReader, _ flags: PKCS11TokenInfo) -> FwdError {
    let tries =
      reader.isInteractive
      ? "after \(SmartcardLogin.interactiveAttempts) prompts"
      : "from \(reader.sourceName), not tried again"
    let warning = flags.userPINFinalTry ? ": one attempt left before the PIN locks" : ""
    return FwdError(
      .authentication,
      "\(tokenName): login failed: wrong PIN (CKR_PIN_INCORRECT) \(tries)\(warning)")
  }
}
