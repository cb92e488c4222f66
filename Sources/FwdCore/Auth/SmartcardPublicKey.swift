/// The public half of a token key, in the forms SSH can use.
enum SmartcardPublicKey: Equatable {
  /// A NIST curve key; `point` is the uncompressed point 04 || X || Y.
  case ecdsa(SmartcardCurve, point: [UInt8])
  /// The 32-byte Ed25519 public key.
  case ed25519([UInt8])
  /// An RSA key as unsigned big-endian integers.
  case rsa(exponent: [UInt8], modulus: [UInt8])

  /// A short description for logs, e.g. "ECDSA P-256" or "RSA 2048".
  var summary: String {
    switch self {
    case .ecdsa(let curve, _): "ECDSA \(curve.displayName)"
    case .ed25519: "Ed25519"
    case .rsa(_, let modulus): "RSA \(SmartcardPublicKey.bitLength(modulus))"
    }
  }

  static func bitLength(_ magnitude: [UInt8]) -> Int {
    guard let index = magnitude.firstIndex(where: { $0 != 0 }) else { return 0 }
    let leading = magnitude[index].leadingZeroBitCount
    return (magnitude.count - index) * 8 - leading
  }
}

/// The NIST curves SSH defines ECDSA keys for (RFC 5656).
enum SmartcardCurve: Equatable {
  case p256, p384, p521

  /// The curve name inside SSH key blobs, e.g. "nistp256".
  var sshName: String {
    switch self {
    case .p256: "nistp256"
    case .p384: "nistp384"
    case .p521: "nistp521"
    }
  }

  var displayName: String {
    switch self {
    case .p256: "P-256"
    case .p384: "P-384"
    case .p521: "P-521"
    }
  }

  /// The size in bytes of one coordinate, and so of r and s in a signature.
  var coordinateSize: Int {
    switch self {
    case .p256: 32
    case .p384: 48
    case .p521: 66
    }
  }

  init?(oid: [UInt8]) {
    switch oid {
    case SmartcardOID.p256: self = .p256
    case SmartcardOID.p384: self = .p384
    case SmartcardOID.p521: self = .p521
    default: return nil
    }
  }
}

// MARK: - Parsing token attributes

extension SmartcardPublicKey {
  /// The curve named by `CKA_EC_PARAMS`: an OID, or for Ed25519 either its OID or the
  /// PrintableString "edwards25519" that SoftHSM 2.6 and OpenSC store.
  enum Curve: Equatable {
    case nist(SmartcardCurve)
    case ed25519
  }

  static func curve(ecParams: [UInt8]) -> Curve? {
    if let oid = SmartcardDER.unwrap(ecParams, .objectIdentifier) {
      if oid == SmartcardOID.ed25519 { return .ed25519 }
      return SmartcardCurve(oid: oid).map { .nist($0) }
    }
    if let name = SmartcardDER.unwrap(ecParams, .printableString),
      String(decoding: name, as: UTF8.self) == "edwards25519"
    {
      return .ed25519
    }
    return nil
  }

  /// Builds the key from `CKA_EC_PARAMS` and `CKA_EC_POINT`. The point is a DER OCTET
  /// STRING in PKCS#11, but some modules store it bare, so both forms are taken.
  init?(ecParams: [UInt8], ecPoint: [UInt8]) {
    switch SmartcardPublicKey.curve(ecParams: ecParams) {
    case .nist(let curve):
      let size = 1 + 2 * curve.coordinateSize
      let point = ecPoint.count == size ? ecPoint : SmartcardDER.unwrap(ecPoint, .octetString)
      guard let point, point.count == size, point.first == 0x04 else { return nil }
      self = .ecdsa(curve, point: point)
    case .ed25519:
      let key = ecPoint.count == 32 ? ecPoint : SmartcardDER.unwrap(ecPoint, .octetString)
      guard let key, key.count == 32 else { return nil }
      self = .ed25519(key)
    case nil:
      return nil
    }
  }

  /// Builds the key from `CKA_PUBLIC_EXPONENT` and `CKA_MODULUS`.
  init?(exponent: [UInt8], modulus: [UInt8]) {
    guard SmartcardPublicKey.bitLength(modulus) >= 1024, !exponent.isEmpty else { return nil }
    self = .rsa(exponent: exponent, modulus: modulus)
  }

  /// Builds the key from a DER SubjectPublicKeyInfo (RFC 5280), as found in certificates.
  init?(subjectPublicKeyInfo der: [UInt8]) {
    guard let info = SmartcardDER.unwrap(der, .sequence) else { return nil }
    var fields = SmartcardDER(info)
    guard let algorithm = fields.read(.sequence), let bits = fields.read(.bitString),
      bits.first == 0
    else { return nil }
    let keyBytes = Array(bits.dropFirst())
    var identifiers = SmartcardDER(algorithm)
    guard let oid = identifiers.read(.objectIdentifier) else { return nil }
    switch oid {
    case SmartcardOID.ecPublicKey:
      guard let curveOID = identifiers.read(.objectIdentifier) else { return nil }
      let params = [SmartcardDER.Tag.objectIdentifier.rawValue, UInt8(curveOID.count)] + curveOID
      self.init(ecParams: params, ecPoint: keyBytes)
    case SmartcardOID.ed25519:
      guard keyBytes.count == 32 else { return nil }
      self = .ed25519(keyBytes)
    case SmartcardOID.rsaEncryption:
      guard let sequence = SmartcardDER.unwrap(keyBytes, .sequence) else { return nil }
      var integers = SmartcardDER(sequence)
      guard let modulus = integers.read(.integer), let exponent = integers.read(.integer) else {
        return nil
      }
      self.init(exponent: exponent, modulus: modulus)
    default:
      return nil
    }
  }
}
