import FwdBindings

/// The PIN settings of the run, kept to log in again after a token was removed.
struct SmartcardLoginOptions {
  var pinSource: PINSource
  var batchMode: Bool
  var allowFinalTry: Bool
  var environment: PINEnvironment
}

/// One token the run logged in to: its current session, and the way back in after the token
/// was removed and inserted again.
///
/// Every key on the token signs through `sign(_:with:)`. When a signature fails because the
/// session or the login ended, the first thread to see it finds the same token again, opens a
/// session, requests the PIN once, logs in and looks the key up again. Threads that fail
/// meanwhile wait on the lock and then sign through the new session, so one removal costs one
/// PIN request. While the token is absent, each signature fails at once and asks for nothing.
final class SmartcardToken: @unchecked Sendable {
  let module: PKCS11Module
  /// The token as found at the first login. A token found later must have the same label,
  /// manufacturer, model and serial number.
  let info: PKCS11TokenInfo
  private let options: SmartcardLoginOptions

  /// Guards the fields below. It is held for the whole search, PIN request and login.
  private let lock = Lock()
  private var session: PKCS11Session
  private var state = State.loggedIn
  /// Counts the sessions opened after the first one, so a failure in a session that another
  /// thread has already replaced starts no second login.
  private var generation = 0
  /// Private key handles in `session`, by `CKA_ID`.
  private var handles: [[UInt8]: UInt] = [:]

  private enum State {
    case loggedIn
    /// A call in `session` failed with this error because the session or its login ended.
    case loginEnded(PKCS11Error)
    /// The last search found the token in no slot.
    case removed

    var isLoggedIn: Bool { if case .loggedIn = self { true } else { false } }
    var isRemoved: Bool { if case .removed = self { true } else { false } }
  }

  init(
    module: PKCS11Module, info: PKCS11TokenInfo, session: PKCS11Session,
    options: SmartcardLoginOptions
  ) {
    self.module = module
    self.info = info
    self.session = session
    self.options = options
  }

  /// The token named in messages, e.g. `token 'fwd'`.
  var name: String { "token '\(info.label)'" }

  /// Records the handle of a private key found in the session of the first login.
  func record(handle: UInt, id: [UInt8]) {
    lock.withLock { handles[id] = handle }
  }

  /// Signs `data` with `key`'s private key and returns the token's raw signature. Logs in
  /// again first when the token is back after a removal.
  func sign(_ data: [UInt8], with key: SmartcardKey) throws(FwdError) -> [UInt8] {
    var access = try access(for: key)
    do {
      return try access.session.sign(key: access.handle, mechanism: key.mechanism, data: data)
    } catch {
      guard error.endsLogin else { throw SmartcardToken.signingError(key, error) }
      access = try self.access(for: key, after: error, in: access.generation)
    }
    do {
      return try access.session.sign(key: access.handle, mechanism: key.mechanism, data: data)
    } catch {
      throw SmartcardToken.signingError(key, error)
    }
  }

  private struct Access {
    let session: PKCS11Session
    let handle: UInt
    let generation: Int
  }

  /// Returns the session and private key handle to sign with. After `failure` in the session
  /// of `failedGeneration`, when that is still the current one, or while the token is away,
  /// it logs in again first.
  private func access(
    for key: SmartcardKey, after failure: PKCS11Error? = nil, in failedGeneration: Int = 0
  ) throws(FwdError) -> Access {
    lock.lock()
    defer { lock.unlock() }
    if let failure, failedGeneration == generation, state.isLoggedIn {
      state = .loginEnded(failure)
    }
    if !state.isLoggedIn { try logInAgain() }
    return Access(session: session, handle: try handle(for: key), generation: generation)
  }

  /// Finds the token, opens a session and logs in to it. Call with `lock` held.
  private func logInAgain() throws(FwdError) {
    guard let found = try findToken() else { throw markRemoved() }
    if case .loginEnded(let cause) = state {
      logInfo(
        nil, "\(name) removed or reset (\(cause.function) failed: \(cause.name)): logging in again")
    }
    let newSession: PKCS11Session
    do {
      newSession = try module.openSession(slot: found.slot)
    } catch {
      if error.isTokenGone { throw markRemoved() }
      throw FwdError(.authentication, "\(name): C_OpenSession failed: \(error.name)")
    }
    // PKCS#11 keeps a login per token for the whole application, so a token that was only
    // reset by its module may still be logged in.
    let keptLogin = (try? newSession.isUserLoggedIn()) == true
    if !keptLogin { try logIn(found, newSession) }
    session = newSession
    generation += 1
    handles = [:]
    state = .loggedIn
    logInfo(nil, keptLogin ? "\(name) is back and still logged in" : "logged in to \(name) again")
  }

  /// Logs in to `found` through `newSession`, requesting the PIN once by the run's PIN
  /// settings. A failure is permanent, as at the first login, unless the token went away.
  private func logIn(_ found: PKCS11TokenInfo, _ newSession: PKCS11Session) throws(FwdError) {
    let needsPIN = found.loginRequired && !found.protectedAuthenticationPath
    if needsPIN, case .fileDescriptor(let descriptor) = options.pinSource {
      throw SmartcardToken.descriptorReadError(token: found.label, descriptor: descriptor)
    }
    let reader =
      needsPIN
      ? options.pinSource.makeReader(
        batchMode: options.batchMode, environment: options.environment) : nil
    let login = SmartcardLogin(
      module: module, session: newSession, token: found, reader: reader,
      batchMode: options.batchMode, allowFinalTry: options.allowFinalTry)
    do {
      try login.run()
    } catch {
      // A token pulled during the PIN request or the login was not rejected: wait for it.
      if (try? findToken()) == nil { throw markRemoved() }
      throw error.permanent()
    }
  }

  /// Returns the token's description in the slot it is in now, or nil when no slot contains it.
  private func findToken() throws(FwdError) -> PKCS11TokenInfo? {
    let slots: [UInt]
    do {
      slots = try module.slots(withTokenOnly: true)
    } catch {
      throw FwdError(.authentication, "\(name): C_GetSlotList failed: \(error.name)")
    }
    for slot in slots {
      // A token pulled between the two calls fails here, and is not the one searched for.
      guard let found = try? module.tokenInfo(slot: slot) else { continue }
      if found.isSameToken(as: info) { return found }
    }
    return nil
  }

  /// Returns the handle of `key`'s private key in `session`, found by `CKA_ID` after a new
  /// login. The key must still have the public key it had at the first login.
  private func handle(for key: SmartcardKey) throws(FwdError) -> UInt {
    if let handle = handles[key.id] { return handle }
    let candidates: [SmartcardCandidate]
    let privateKeys: [UInt]
    do {
      candidates = try SmartcardDiscovery.candidates(in: session, id: key.id)
      privateKeys = try session.findObjects(.privateKey, id: key.id)
    } catch {
      if error.endsLogin { state = .loginEnded(error) }
      throw FwdError(.authentication, "\(key.label): \(error.function) failed: \(error.name)")
    }
    guard candidates.contains(where: { $0.publicKey == key.publicKey }),
      let handle = privateKeys.first
    else {
      let id = key.id.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
      throw FwdError(
        .authentication,
        "\(key.label): not found after logging in again: the token has no private key with"
          + " CKA_ID \(id) and the public key of the first login")
    }
    handles[key.id] = handle
    return handle
  }

  /// Marks the token removed, logging it once per removal, and returns the error for the
  /// signature that needed it.
  private func markRemoved() -> FwdError {
    if !state.isRemoved {
      if case .loginEnded(let cause) = state {
        logDebug(name, "\(cause.function) failed: \(cause.name)")
      }
      logInfo(nil, "\(name) removed: waiting for it to be inserted again")
      state = .removed
    }
    return SmartcardToken.removedError(token: info.label)
  }

  /// Returns the error of a signature while the token is absent. It is not permanent, so the
  /// chain's rebuild tries again later.
  static func removedError(token: String) -> FwdError {
    FwdError(
      .authentication,
      "token '\(token)' was removed: insert it again so that the next rebuild attempt can"
        + " log in")
  }

  /// Returns the error when the token is back and needs a PIN that only `--pin-fd` supplied.
  static func descriptorReadError(token: String, descriptor: Int32) -> FwdError {
    FwdError(
      .authentication,
      "token '\(token)': PIN needed to log in again after the token was removed, but"
        + " --pin-fd \(descriptor) can be read only once: start fwd again, with --pin-file or"
        + " SSH_ASKPASS so that it can log in again by itself",
      isPermanent: true)
  }

  private static func signingError(_ key: SmartcardKey, _ error: PKCS11Error) -> FwdError {
    FwdError(.authentication, "\(key.label): signing failed: \(error.name) from \(error.function)")
  }
}

extension PKCS11TokenInfo {
  /// Returns whether `other` describes the same token: the same label, manufacturer, model
  /// and serial number, whatever slot it is in and whatever its flags are now.
  func isSameToken(as other: PKCS11TokenInfo) -> Bool {
    label == other.label && manufacturer == other.manufacturer && model == other.model
      && serialNumber == other.serialNumber
  }
}
