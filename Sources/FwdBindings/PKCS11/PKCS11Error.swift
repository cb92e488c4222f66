import CP11Kit

/// A failed PKCS#11 call: the function, its `CK_RV` code and the code's symbolic name.
public struct PKCS11Error: Error, CustomStringConvertible, Sendable {
  /// The PKCS#11 or p11-kit function that failed, e.g. `C_Login`.
  public let function: String
  /// The `CK_RV` value the function returned.
  public let code: UInt
  /// p11-kit's own message, set only when loading the module failed.
  public let detail: String?

  public init(function: String, code: UInt, detail: String? = nil) {
    self.function = function
    self.code = code
    self.detail = detail
  }

  /// The symbolic name of `code`, e.g. `CKR_PIN_INCORRECT`.
  public var name: String { PKCS11ReturnCode.name(CK_RV(code)) }

  public var description: String {
    if let detail { return "\(function) failed: \(detail)" }
    return "\(function) failed: \(name)"
  }

  public var isPINIncorrect: Bool { code == CKR_PIN_INCORRECT }
  public var isPINLocked: Bool { code == CKR_PIN_LOCKED }
  /// True when the module does not implement the function or the mechanism.
  public var isNotSupported: Bool {
    code == CKR_FUNCTION_NOT_SUPPORTED || code == CKR_MECHANISM_INVALID
  }
  /// True when the token is gone: removed from the reader, or the session closed with it.
  public var isTokenGone: Bool {
    code == CKR_DEVICE_REMOVED || code == CKR_TOKEN_NOT_PRESENT
      || code == CKR_SESSION_HANDLE_INVALID || code == CKR_SESSION_CLOSED
  }
  /// True when the session can no longer use the login: the token is gone, or it was reset
  /// and came back logged out (`CKR_USER_NOT_LOGGED_IN`), so only a new session and a new
  /// `C_Login` make its private keys usable again.
  public var endsLogin: Bool { isTokenGone || code == CKR_USER_NOT_LOGGED_IN }

  /// Throws a `PKCS11Error` for any `status` other than `CKR_OK`.
  static func check(_ status: CK_RV, _ function: String) throws(PKCS11Error) {
    if status != CKR_OK { throw PKCS11Error(function: function, code: status) }
  }
}
