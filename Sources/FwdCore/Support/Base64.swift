/// Base64 (RFC 4648, standard alphabet, with padding) for known_hosts lines and key files,
/// in place of Foundation's `Data` methods so that fwd does not load Foundation.
enum Base64 {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// Encodes `bytes`, padding the last group with `=` to 4 characters.
  static func encode(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
      let count = min(3, bytes.count - index)
      var group = UInt32(bytes[index]) << 16
      if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
      if count > 2 { group |= UInt32(bytes[index + 2]) }
      for position in 0..<4 {
        if position <= count {
          output.append(alphabet[Int((group >> (18 - 6 * UInt32(position))) & 0x3f)])
        } else {
          output.append(UInt8(ascii: "="))
        }
      }
      index += 3
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes `text`, or returns nil when it is not padded base64. Its length must be a
  /// multiple of 4, and it may end with one or two `=`. Any other character outside the
  /// alphabet, whitespace included, makes it invalid.
  static func decode<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
    let characters = Array(text.utf8)
    guard characters.count % 4 == 0 else { return nil }
    var padding = 0
    while padding < 2, padding < characters.count,
      characters[characters.count - 1 - padding] == UInt8(ascii: "=")
    {
      padding += 1
    }
    var output: [UInt8] = []
    output.reserveCapacity(characters.count / 4 * 3)
    var group: UInt32 = 0
    for (index, character) in characters.enumerated() {
      let value: UInt32
      if index >= characters.count - padding {
        value = 0
      } else if let digit = digitValue(character) {
        value = digit
      } else {
        return nil
      }
      group = group << 6 | value
      if index % 4 == 3 {
        output.append(UInt8(truncatingIfNeeded: group >> 16))
        output.append(UInt8(truncatingIfNeeded: group >> 8))
        output.append(UInt8(truncatingIfNeeded: group))
        group = 0
      }
    }
    output.removeLast(padding)
    return output
  }

  private static func digitValue(_ character: UInt8) -> UInt32? {
    switch character {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(character - UInt8(ascii: "A"))
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(character - UInt8(ascii: "a")) + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(character - UInt8(ascii: "0")) + 52
    case UInt8(ascii: "+"): return 62
    case UInt8(ascii: "/"): return 63
    default: return nil
    }
  }
}
