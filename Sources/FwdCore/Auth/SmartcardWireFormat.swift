/// SSH wire encodings (RFC 4251 section 5) for key blobs and signatures built from token data.
enum SmartcardWireFormat {
  /// Returns `bytes` as an SSH string: a big-endian uint32 length, then the bytes.
  static func string(_ bytes: [UInt8]) -> [UInt8] {
    let count = UInt32(bytes.count)
    return [
      UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff),
    ]
      + bytes
  }

  static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

  /// Returns the unsigned big-endian integer `magnitude` as an SSH mpint: leading zero bytes
  /// removed, and one zero byte added when the top bit is set so the value stays positive.
  static func mpint(_ magnitude: [UInt8]) -> [UInt8] {
    var digits = ArraySlice(magnitude)
    while let first = digits.first, first == 0 { digits = digits.dropFirst() }
    if let first = digits.first, first & 0x80 != 0 { return string([0] + Array(digits)) }
    return string(Array(digits))
  }

  /// Converts a PKCS#11 ECDSA signature (r || s, each as long as the curve order) to the inner
  /// SSH signature `mpint r || mpint s` (RFC 5656 section 3.1.2).
  static func ecdsaSignature(_ raw: [UInt8]) -> [UInt8]? {
    guard raw.count > 0, raw.count % 2 == 0 else { return nil }
    let half = raw.count / 2
    return mpint(Array(raw[..<half])) + mpint(Array(raw[half...]))
  }

  /// The DER DigestInfo prefix (RFC 8017 section 9.2, note 1) that CKM_RSA_PKCS needs in front
  /// of a SHA-256 digest.
  static let sha256DigestInfo: [UInt8] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0x05, 0x00, 0x04, 0x20,
  ]

  /// The DigestInfo prefix for a SHA-512 digest.
  static let sha512DigestInfo: [UInt8] = [
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
    0x05, 0x00, 0x04, 0x40,
  ]
}
