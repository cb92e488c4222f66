import Testing

@testable import FwdCore

@Suite struct SmartcardWireFormatTests {
  @Test(
    arguments: [
      ([], [0, 0, 0, 0]),
      ([0, 0], [0, 0, 0, 0]),
      ([0x01], [0, 0, 0, 1, 0x01]),
      ([0x00, 0x7f], [0, 0, 0, 1, 0x7f]),
      ([0x80], [0, 0, 0, 2, 0x00, 0x80]),
      ([0x00, 0x00, 0xff, 0x01], [0, 0, 0, 3, 0x00, 0xff, 0x01]),
    ] as [([UInt8], [UInt8])])
  func mpintEncoding(_ magnitude: [UInt8], _ expected: [UInt8]) {
    #expect(SmartcardWireFormat.mpint(magnitude) == expected)
  }

  @Test func ecdsaSignatureBecomesTwoMpints() {
    let r: [UInt8] = [0x00, 0x01] + [UInt8](repeating: 0x11, count: 30)
    let s: [UInt8] = [0x80] + [UInt8](repeating: 0x22, count: 31)
    let signature = SmartcardWireFormat.ecdsaSignature(r + s)
    let expected =
      [0, 0, 0, 31, 0x01] + [UInt8](repeating: 0x11, count: 30)
      + [0, 0, 0, 33, 0x00, 0x80] + [UInt8](repeating: 0x22, count: 31)
    #expect(signature == expected)
  }

  @Test func ecdsaSignatureOfOddLengthIsRejected() {
    #expect(SmartcardWireFormat.ecdsaSignature([1, 2, 3]) == nil)
    #expect(SmartcardWireFormat.ecdsaSignature([]) == nil)
  }

  @Test func stringHasBigEndianLength() {
    #expect(SmartcardWireFormat.string("ssh-ed25519") == [0, 0, 0, 11] + Array("ssh-ed25519".utf8))
  }
}
