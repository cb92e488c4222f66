import FwdBindings
import Glibc

/// Smartcard authentication through a PKCS#11 module: one login per run, and the token's keys
/// for every hop and every reconnect. A token removed and inserted again costs one more login.
public enum Smartcard {
  /// Glob patterns for OpenSC's module, searched in order when no provider is named.
  static let defaultProviderPatterns = [
    "/usr/lib/*-linux-gnu*/opensc-pkcs11.so",
    "/usr/lib/*-linux-gnu*/pkcs11/opensc-pkcs11.so",
    "/usr/lib64/opensc-pkcs11.so",
    "/usr/lib/opensc-pkcs11.so",
  ]

  /// Returns the path of OpenSC's `opensc-pkcs11.so`, or its bare name (which p11-kit looks
  /// up in its module folder) when none of the usual places has it.
  public static func defaultProvider() -> String {
    for pattern in defaultProviderPatterns {
      if let path = firstMatch(pattern) { return path }
    }
    return "opensc-pkcs11.so"
  }

  /// Loads the module, finds the keys, and logs in to each token that has one, asking for
  /// each token's PIN once. Call it once per run, before the first hop is dialled.
  ///
  /// - Parameters:
  ///   - provider: the module from `-I` or `PKCS11Provider`; nil takes a URI's `module-path`,
  ///     then OpenSC's module.
  ///   - identityURIs: `pkcs11:` URIs given as IdentityFile values; empty takes every private
  ///     key that has a public key object or a certificate with the same `CKA_ID`.
  ///   - pinSource: where PINs come from.
  ///   - batchMode: ssh's BatchMode: no prompts, and a token that needs an interactive PIN
  ///     fails at once.
  ///   - allowFinalTry: lets a non-interactive PIN be tried when the token has one attempt
  ///     left before the PIN locks (`--pin-allow-final-try`).
  public static func open(
    provider: String?, identityURIs: [String], pinSource: PINSource, batchMode: Bool,
    allowFinalTry: Bool = false
  ) throws(FwdError) -> SmartcardSession {
    try open(
      provider: provider, identityURIs: identityURIs, pinSource: pinSource,
      batchMode: batchMode, allowFinalTry: allowFinalTry, environment: .current)
  }

  static func open(
    provider: String?, identityURIs: [String], pinSource: PINSource, batchMode: Bool,
    allowFinalTry: Bool, environment: PINEnvironment
  ) throws(FwdError) -> SmartcardSession {
    let uris = try parse(identityURIs)
    let path = provider ?? uris.lazy.compactMap(\.modulePath).first ?? defaultProvider()
    let module = try load(path)
    let plans = try SmartcardPlan.make(module: module, uris: uris)
    // Interactive readers are made only when a token needs a PIN, so no terminal is opened
    // for tokens without login.
    var reader: PINReader? =
      pinSource == .interactive
      ? nil : pinSource.makeReader(batchMode: batchMode, environment: environment)
    defer { (reader as? DescriptorPINReader)?.closeUnlessRead() }
    let options = SmartcardLoginOptions(
      pinSource: pinSource, batchMode: batchMode, allowFinalTry: allowFinalTry,
      environment: environment)
    var keys: [SmartcardKey] = []
    for plan in plans {
      if plan.token.loginRequired && !plan.token.protectedAuthenticationPath && reader == nil {
        reader = pinSource.makeReader(batchMode: batchMode, environment: environment)
      }
      let login = SmartcardLogin(
        module: module, session: plan.session, token: plan.token, reader: reader,
        batchMode: batchMode, allowFinalTry: allowFinalTry)
      try login.run()
      let token = SmartcardToken(
        module: module, info: plan.token, session: plan.session, options: options)
      keys += try plan.keys(on: token)
    }
    if keys.isEmpty {
      let labels = plans.map { "'\($0.token.label)'" }.joined(separator: ", ")
      throw FwdError(
        .authentication,
        "token \(labels): no private key pairs with the public keys found: check the key IDs")
    }
    for key in keys { logDebug(key.label, "\(key.publicKey.summary) key ready") }
    return SmartcardSession(provider: path, module: module, keys: keys)
  }

  private static func parse(_ texts: [String]) throws(FwdError) -> [PKCS11URI] {
    var uris: [PKCS11URI] = []
    for text in texts {
      let uri: PKCS11URI
      do {
        uri = try PKCS11URI(text)
      } catch {
        throw FwdError(
          .authentication,
          "IdentityFile \(text): invalid PKCS#11 URI: \(error.detail ?? error.name)")
      }
      // The URI is not repeated here because it contains the PIN.
      if uri.carriesPIN {
        throw FwdError(
          .authentication,
          "IdentityFile pkcs11 URI: pin-value and pin-source are not accepted:"
            + " remove them and use --pin-file or --pin-fd")
      }
      uris.append(uri)
    }
    return uris
  }

  private static func load(_ path: String) throws(FwdError) -> PKCS11Module {
    do {
      return try PKCS11Module(path: path)
    } catch {
      throw FwdError(
        .authentication,
        "PKCS#11 module \(path): cannot load: \(error.detail ?? error.name):"
          + " check the path given with -I or PKCS11Provider")
    }
  }

  private static func firstMatch(_ pattern: String) -> String? {
    var matches = glob_t()
    defer { globfree(&matches) }
    guard glob(pattern, 0, nil, &matches) == 0, matches.gl_pathc > 0,
      let first = matches.gl_pathv[0]
    else { return nil }
    return String(cString: first)
  }
}

/// The smartcard state of one run: the loaded module, the logged-in sessions and their keys.
///
/// Keep it for the whole run: the keys sign through its sessions, which stay logged in until
/// the session object is released.
public final class SmartcardSession: @unchecked Sendable {
  /// The module that was loaded.
  public let provider: String
  /// The keys in the order to try them, RSA keys as rsa-sha2-512 then rsa-sha2-256.
  public let smartcardKeys: [SmartcardKey]
  private let module: PKCS11Module

  init(provider: String, module: PKCS11Module, keys: [SmartcardKey]) {
    self.provider = provider
    self.module = module
    self.smartcardKeys = keys
  }

  /// The keys for `SSHSession.authenticate(user:key:)`, in the order to try them.
  public var keys: [SSHUserKey] { smartcardKeys }
}
