import FwdBindings

/// One token to log in to, with the key pairs seen on it before login.
struct SmartcardPlan {
  let token: PKCS11TokenInfo
  let session: PKCS11Session
  let candidates: [SmartcardCandidate]

  /// Opens a session on every initialized token and keeps those with a key pair that
  /// `uris` names (any key pair when `uris` is empty).
  static func make(module: PKCS11Module, uris: [PKCS11URI]) throws(FwdError) -> [SmartcardPlan] {
    let name = "PKCS#11 module \(module.path)"
    let allSlots = try call(name) { () throws(PKCS11Error) in try module.slots(withTokenOnly: false)
    }
    if allSlots.isEmpty {
      throw FwdError(
        .authentication,
        "\(name): no slots found: check that the reader is plugged in and pcscd is running,"
          + " or name another module with -I")
    }
    let slots = try call(name) { () throws(PKCS11Error) in try module.slots(withTokenOnly: true) }
    var plans: [SmartcardPlan] = []
    var seen: [String] = []
    for slot in slots {
      let token = try call(name) { () throws(PKCS11Error) in try module.tokenInfo(slot: slot) }
      guard token.isInitialized else { continue }
      seen.append("'\(token.label)'")
      let session = try call("token '\(token.label)'") { () throws(PKCS11Error) in
        try module.openSession(slot: slot)
      }
      let found = try call("token '\(token.label)'") { () throws(PKCS11Error) in
        try SmartcardDiscovery.candidates(in: session)
      }
      let chosen = SmartcardDiscovery.filter(found, token: token, uris: uris)
      logDebug(
        "token '\(token.label)'",
        "\(found.count) public keys or certificates, \(chosen.count) chosen")
      if !chosen.isEmpty {
        plans.append(SmartcardPlan(token: token, session: session, candidates: chosen))
      }
    }
    if plans.isEmpty { throw noKeyError(name, slots: allSlots.count, tokens: seen, uris: uris) }
    return plans
  }

  /// Returns the usable keys on `loggedIn`, the logged-in token of this plan. Call it after
  /// login, when private keys are visible.
  func keys(on loggedIn: SmartcardToken) throws(FwdError) -> [SmartcardKey] {
    // A module that cannot list mechanisms still gets the mechanisms every token has.
    let mechanisms = (try? loggedIn.module.mechanisms(slot: token.slot)) ?? []
    return try SmartcardPlan.call(loggedIn.name) { () throws(PKCS11Error) in
      try SmartcardDiscovery.keys(
        for: candidates, token: loggedIn, session: session, mechanisms: mechanisms)
    }
  }

  private static func noKeyError(
    _ name: String, slots: Int, tokens: [String], uris: [PKCS11URI]
  ) -> FwdError {
    if tokens.isEmpty {
      return FwdError(
        .authentication, "\(name): no token in \(slots) slots: insert the card or token")
    }
    let list = tokens.joined(separator: ", ")
    if uris.isEmpty {
      return FwdError(
        .authentication,
        "\(name): token \(list): no key with a public key object or certificate found")
    }
    let requested = uris.map(\.text).joined(separator: " ")
    return FwdError(
      .authentication, "\(name): no key on token \(list) matches \(requested): check the URI")
  }

  /// Runs one PKCS#11 step and turns its failure into a one-line authentication error.
  static func call<Result>(
    _ context: String, _ body: () throws(PKCS11Error) -> Result
  ) throws(FwdError) -> Result {
    do {
      return try body()
    } catch {
      throw FwdError(.authentication, "\(context): \(error.function) failed: \(error.name)")
    }
  }
}
