import CP11Kit

/// A token's description and state from `C_GetTokenInfo`.
public struct PKCS11TokenInfo: Sendable, Equatable {
  /// The slot the token is in.
  public var slot: UInt
  /// The token label, with the padding spaces removed.
  public var label: String
  public var manufacturer: String
  public var model: String
  public var serialNumber: String
  /// The `CKF_` token flags.
  public var flags: UInt

  public init(
    slot: UInt, label: String, manufacturer: String = "", model: String = "",
    serialNumber: String = "", flags: UInt
  ) {
    self.slot = slot
    self.label = label
    self.manufacturer = manufacturer
    self.model = model
    self.serialNumber = serialNumber
    self.flags = flags
  }

  /// The token has been initialized; SoftHSM, for one, always offers an uninitialized token
  /// in a free slot.
  public var isInitialized: Bool { flags & UInt(CKF_TOKEN_INITIALIZED) != 0 }
  /// The token needs `C_Login` before its private keys can be used.
  public var loginRequired: Bool { flags & UInt(CKF_LOGIN_REQUIRED) != 0 }
  /// The reader has a PIN pad: `C_Login` takes no PIN and the user types it on the reader.
  public var protectedAuthenticationPath: Bool {
    flags & UInt(CKF_PROTECTED_AUTHENTICATION_PATH) != 0
  }
  /// A wrong user PIN was entered since the last successful login.
  public var userPINCountLow: Bool { flags & UInt(CKF_USER_PIN_COUNT_LOW) != 0 }
  /// One more wrong user PIN locks the PIN.
  public var userPINFinalTry: Bool { flags & UInt(CKF_USER_PIN_FINAL_TRY) != 0 }
  /// The user PIN is locked: no login is possible until the security officer unblocks it.
  public var userPINLocked: Bool { flags & UInt(CKF_USER_PIN_LOCKED) != 0 }

  /// The `CKF_` flag values, for tests and for code that builds a `PKCS11TokenInfo` by hand.
  public enum Flag {
    public static let tokenInitialized = UInt(CKF_TOKEN_INITIALIZED)
    public static let loginRequired = UInt(CKF_LOGIN_REQUIRED)
    public static let protectedAuthenticationPath = UInt(CKF_PROTECTED_AUTHENTICATION_PATH)
    public static let userPINCountLow = UInt(CKF_USER_PIN_COUNT_LOW)
    public static let userPINFinalTry = UInt(CKF_USER_PIN_FINAL_TRY)
    public static let userPINLocked = UInt(CKF_USER_PIN_LOCKED)
  }
}

/// An object class (`CKA_CLASS` value).
public struct PKCS11ObjectClass: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt
  public init(rawValue: UInt) { self.rawValue = rawValue }

  public static let certificate = PKCS11ObjectClass(rawValue: UInt(CKO_CERTIFICATE))
  public static let publicKey = PKCS11ObjectClass(rawValue: UInt(CKO_PUBLIC_KEY))
  public static let privateKey = PKCS11ObjectClass(rawValue: UInt(CKO_PRIVATE_KEY))
}

/// A key type (`CKA_KEY_TYPE` value).
public struct PKCS11KeyType: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt
  public init(rawValue: UInt) { self.rawValue = rawValue }

  public static let rsa = PKCS11KeyType(rawValue: UInt(CKK_RSA))
  public static let ec = PKCS11KeyType(rawValue: UInt(CKK_EC))
  public static let ecEdwards = PKCS11KeyType(rawValue: UInt(CKK_EC_EDWARDS))
}

/// An attribute type (`CKA_` value).
public struct PKCS11Attribute: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt
  public init(rawValue: UInt) { self.rawValue = rawValue }

  public static let objectClass = PKCS11Attribute(rawValue: UInt(CKA_CLASS))
  public static let label = PKCS11Attribute(rawValue: UInt(CKA_LABEL))
  /// The DER certificate, for certificate objects.
  public static let value = PKCS11Attribute(rawValue: UInt(CKA_VALUE))
  public static let certificateType = PKCS11Attribute(rawValue: UInt(CKA_CERTIFICATE_TYPE))
  public static let keyType = PKCS11Attribute(rawValue: UInt(CKA_KEY_TYPE))
  public static let id = PKCS11Attribute(rawValue: UInt(CKA_ID))
  public static let modulus = PKCS11Attribute(rawValue: UInt(CKA_MODULUS))
  public static let publicExponent = PKCS11Attribute(rawValue: UInt(CKA_PUBLIC_EXPONENT))
  /// The DER curve: an OID, or a PrintableString such as "edwards25519".
  public static let ecParams = PKCS11Attribute(rawValue: UInt(CKA_EC_PARAMS))
  /// The public point, usually wrapped in a DER OCTET STRING.
  public static let ecPoint = PKCS11Attribute(rawValue: UInt(CKA_EC_POINT))
  /// A key with this attribute true needs `C_Login(CKU_CONTEXT_SPECIFIC)` before every signature.
  public static let alwaysAuthenticate = PKCS11Attribute(rawValue: UInt(CKA_ALWAYS_AUTHENTICATE))
}

/// A signing mechanism, always used without parameters.
public struct PKCS11Mechanism: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt
  public init(rawValue: UInt) { self.rawValue = rawValue }

  /// PKCS#1 v1.5 over data the caller has already wrapped in a DigestInfo.
  public static let rsaPKCS = PKCS11Mechanism(rawValue: UInt(CKM_RSA_PKCS))
  public static let sha256RSAPKCS = PKCS11Mechanism(rawValue: UInt(CKM_SHA256_RSA_PKCS))
  public static let sha512RSAPKCS = PKCS11Mechanism(rawValue: UInt(CKM_SHA512_RSA_PKCS))
  /// ECDSA over a digest the caller computed; the output is r || s, each of the curve's size.
  public static let ecdsa = PKCS11Mechanism(rawValue: UInt(CKM_ECDSA))
  /// EdDSA over the raw message; without parameters it is Ed25519 for an Ed25519 key.
  public static let eddsa = PKCS11Mechanism(rawValue: UInt(CKM_EDDSA))

  /// The name from the PKCS#11 specification, for logs.
  public var description: String {
    switch self {
    case .rsaPKCS: "CKM_RSA_PKCS"
    case .sha256RSAPKCS: "CKM_SHA256_RSA_PKCS"
    case .sha512RSAPKCS: "CKM_SHA512_RSA_PKCS"
    case .ecdsa: "CKM_ECDSA"
    case .eddsa: "CKM_EDDSA"
    default: "CKM_0x" + String(rawValue, radix: 16)
    }
  }
}
