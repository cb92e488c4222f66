/// A reader for the few DER structures found on tokens: curve parameters, wrapped EC points,
/// SubjectPublicKeyInfo and RSA public keys. It reads definite lengths only, as DER requires.
struct SmartcardDER {
  enum Tag: UInt8 {
    case integer = 0x02
    case bitString = 0x03
    case octetString = 0x04
    case null = 0x05
    case objectIdentifier = 0x06
    case printableString = 0x13
    case sequence = 0x30
  }

  private let bytes: [UInt8]
  private var offset = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  var isAtEnd: Bool { offset == bytes.count }

  /// Returns the tag of the next element without consuming it.
  func peekTag() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

  /// Reads the next element, which must carry `tag`, and returns its contents.
  mutating func read(_ tag: Tag) -> [UInt8]? {
    guard peekTag() == tag.rawValue else { return nil }
    return readAny()
  }

  /// Reads the next element whatever its tag and returns its contents.
  mutating func readAny() -> [UInt8]? {
    var position = offset + 1
    guard position < bytes.count else { return nil }
    let first = Int(bytes[position])
    position += 1
    var length = first
    if first & 0x80 != 0 {
      // Long form: the low bits count the length bytes that follow (at most 4 here).
      let lengthBytes = first & 0x7f
      guard lengthBytes >= 1, lengthBytes <= 4, position + lengthBytes <= bytes.count else {
        return nil
      }
      length = bytes[position..<position + lengthBytes].reduce(0) { $0 << 8 | Int($1) }
      position += lengthBytes
    }
    guard position + length <= bytes.count else { return nil }
    offset = position + length
    return Array(bytes[position..<offset])
  }

  /// Returns the contents of `bytes` when it is exactly one element with `tag`, else nil.
  static func unwrap(_ bytes: [UInt8], _ tag: Tag) -> [UInt8]? {
    var reader = SmartcardDER(bytes)
    guard let contents = reader.read(tag), reader.isAtEnd else { return nil }
    return contents
  }
}

/// Object identifiers that name SSH key types, as DER contents (without tag and length).
enum SmartcardOID {
  /// 1.2.840.10045.3.1.7, NIST P-256 (prime256v1).
  static let p256: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
  /// 1.3.132.0.34, NIST P-384 (secp384r1).
  static let p384: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x22]
  /// 1.3.132.0.35, NIST P-521 (secp521r1).
  static let p521: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x23]
  /// 1.3.101.112, Ed25519 (RFC 8410).
  static let ed25519: [UInt8] = [0x2b, 0x65, 0x70]
  /// 1.2.840.10045.2.1, id-ecPublicKey.
  static let ecPublicKey: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
  /// 1.2.840.113549.1.1.1, rsaEncryption.
  static let rsaEncryption: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]
}
