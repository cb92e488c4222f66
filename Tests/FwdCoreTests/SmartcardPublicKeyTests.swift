import Foundation
import Testing

@testable import FwdCore

@Suite struct SmartcardPublicKeyTests {
  static let p256Params: [UInt8] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
  static let p521Params: [UInt8] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]
  static let ed25519OID: [UInt8] = [0x06, 0x03, 0x2b, 0x65, 0x70]
  static let ed25519Name: [UInt8] = [0x13, 0x0c] + Array("edwards25519".utf8)

  @Test func curveFromParameters() {
    #expect(SmartcardPublicKey.curve(ecParams: Self.p256Params) == .nist(.p256))
    #expect(SmartcardPublicKey.curve(ecParams: Self.p521Params) == .nist(.p521))
    #expect(SmartcardPublicKey.curve(ecParams: Self.ed25519OID) == .ed25519)
    #expect(SmartcardPublicKey.curve(ecParams: Self.ed25519Name) == .ed25519)
    #expect(SmartcardPublicKey.curve(ecParams: [0x13, 0x04] + Array("x448".utf8)) == nil)
  }

  @Test func ecPointWrappedOrBare() {
    let point: [UInt8] = [0x04] + [UInt8](repeating: 7, count: 64)
    let wrapped = [0x04, 0x41] + point
    #expect(
      SmartcardPublicKey(ecParams: Self.p256Params, ecPoint: wrapped) == .ecdsa(.p256, point: point)
    )
    #expect(
      SmartcardPublicKey(ecParams: Self.p256Params, ecPoint: point) == .ecdsa(.p256, point: point))
    #expect(SmartcardPublicKey(ecParams: Self.p256Params, ecPoint: Array(point.dropLast())) == nil)
  }

  @Test func p521PointWithLongFormLength() {
    let point: [UInt8] = [0x04] + [UInt8](repeating: 9, count: 132)
    let wrapped = [0x04, 0x81, 0x85] + point
    #expect(
      SmartcardPublicKey(ecParams: Self.p521Params, ecPoint: wrapped) == .ecdsa(.p521, point: point)
    )
  }

  @Test func ed25519PointWrappedOrBare() {
    let key = [UInt8](repeating: 3, count: 32)
    #expect(
      SmartcardPublicKey(ecParams: Self.ed25519Name, ecPoint: [0x04, 0x20] + key) == .ed25519(key))
    #expect(SmartcardPublicKey(ecParams: Self.ed25519OID, ecPoint: key) == .ed25519(key))
  }

  @Test func ed25519FromSubjectPublicKeyInfo() throws {
    // A SubjectPublicKeyInfo as pkcs11-tool prints it for a SoftHSM Ed25519 key.
    let der = try #require(
      Data(base64Encoded: "MCowBQYDK2VwAyEAH2V5cLC+NEAWp2OxeMGXv/7ilxIC5nQlTC8Us1E/aiU="))
    let key = SmartcardPublicKey(subjectPublicKeyInfo: Array(der))
    #expect(key == .ed25519(Array(der.suffix(32))))
  }

  @Test func rsaFromSubjectPublicKeyInfo() {
    let modulus: [UInt8] = [0x00, 0xc1] + [UInt8](repeating: 0x55, count: 255)
    let rsaKey = der(0x30, der(0x02, modulus) + der(0x02, [0x01, 0x00, 0x01]))
    let algorithm = der(
      0x30, [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00])
    let info = der(0x30, algorithm + der(0x03, [0x00] + rsaKey))
    let key = SmartcardPublicKey(subjectPublicKeyInfo: info)
    #expect(key == .rsa(exponent: [0x01, 0x00, 0x01], modulus: modulus))
    #expect(key?.summary == "RSA 2048")
  }

  @Test func shortRSAKeyIsRejected() {
    #expect(SmartcardPublicKey(exponent: [3], modulus: [UInt8](repeating: 0xff, count: 64)) == nil)
  }

  /// Encodes one DER element with a definite length.
  private func der(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
    let count = contents.count
    if count < 0x80 { return [tag, UInt8(count)] + contents }
    if count < 0x100 { return [tag, 0x81, UInt8(count)] + contents }
    return [tag, 0x82, UInt8(count >> 8), UInt8(count & 0xff)] + contents
  }
}
