/// Streaming SHA-256 (FIPS 180-4), so the lab can hash hundreds of MiB without holding them.
///
/// The lab hashes in pure Swift because FwdLab must not depend on FwdBindings or OpenSSL.
public struct SHA256 {
  private var state: [UInt32] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
    0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
  ]
  /// Bytes of a block not yet compressed; fewer than 64 between calls.
  private var pending: [UInt8] = []
  private var byteCount: UInt64 = 0

  public init() {
    pending.reserveCapacity(64)
  }

  /// Number of bytes hashed so far.
  public var count: UInt64 { byteCount }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard var remaining = bytes.baseAddress, bytes.count > 0 else { return }
    var length = bytes.count
    byteCount &+= UInt64(length)

    if !pending.isEmpty {
      let take = min(64 - pending.count, length)
      pending.append(contentsOf: UnsafeRawBufferPointer(start: remaining, count: take))
      remaining += take
      length -= take
      if pending.count < 64 { return }
      pending.withUnsafeBytes { block in compress(blocks: block.baseAddress!, count: 1) }
      pending.removeAll(keepingCapacity: true)
    }

    let wholeBlocks = length / 64
    if wholeBlocks > 0 {
      compress(blocks: remaining, count: wholeBlocks)
      remaining += wholeBlocks * 64
      length -= wholeBlocks * 64
    }
    if length > 0 {
      pending.append(contentsOf: UnsafeRawBufferPointer(start: remaining, count: length))
    }
  }

  public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
    let array = Array(bytes)
    array.withUnsafeBytes { update($0) }
  }

  /// Returns the 32-byte digest of everything hashed so far, leaving this hasher unchanged.
  public func finalize() -> [UInt8] {
    var copy = self
    let bitLength = byteCount &* 8
    var padding: [UInt8] = [0x80]
    let paddedLength = (Int(byteCount % 64) + 1 + 8 + 63) / 64 * 64
    padding += [UInt8](repeating: 0, count: paddedLength - Int(byteCount % 64) - 1 - 8)
    for shift in stride(from: 56, through: 0, by: -8) {
      padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
    }
    copy.update(padding)

    var digest: [UInt8] = []
    digest.reserveCapacity(32)
    for word in copy.state {
      digest += [
        UInt8(truncatingIfNeeded: word >> 24), UInt8(truncatingIfNeeded: word >> 16),
        UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word),
      ]
    }
    return digest
  }

  /// Returns the digest as 64 lowercase hex digits, the format of `sha256sum`.
  public func hexDigest() -> String {
    hexString(finalize())
  }

  /// Returns the lowercase hex SHA-256 of `bytes`.
  public static func hex<Bytes: Sequence>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.hexDigest()
  }

  private mutating func compress(blocks: UnsafeRawPointer, count: Int) {
    state.withUnsafeMutableBufferPointer { statePointer in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
        SHA256.roundConstants.withUnsafeBufferPointer { constants in
          for index in 0..<count {
            SHA256.compressBlock(
              blocks + index * 64, state: statePointer.baseAddress!,
              schedule: schedule.baseAddress!, constants: constants.baseAddress!)
          }
        }
      }
    }
  }

  // Shifts use &>> and &<< because in an unoptimized build the generic >> and << are calls, which
  // made hashing three times slower.
  private static func compressBlock(
    _ block: UnsafeRawPointer, state: UnsafeMutablePointer<UInt32>,
    schedule w: UnsafeMutablePointer<UInt32>, constants k: UnsafePointer<UInt32>
  ) {
    var t = 0
    while t < 16 {
      w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
      t += 1
    }
    while t < 64 {
      let x = w[t - 15]
      let y = w[t - 2]
      let s0 = (x &>> 7 | x &<< 25) ^ (x &>> 18 | x &<< 14) ^ (x &>> 3)
      let s1 = (y &>> 17 | y &<< 15) ^ (y &>> 19 | y &<< 13) ^ (y &>> 10)
      w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
      t += 1
    }

    var a = state[0]
    var b = state[1]
    var c = state[2]
    var d = state[3]
    var e = state[4]
    var f = state[5]
    var g = state[6]
    var h = state[7]
    t = 0
    while t < 64 {
      let s1 = (e &>> 6 | e &<< 26) ^ (e &>> 11 | e &<< 21) ^ (e &>> 25 | e &<< 7)
      let choice = (e & f) ^ (~e & g)
      let t1 = h &+ s1 &+ choice &+ k[t] &+ w[t]
      let s0 = (a &>> 2 | a &<< 30) ^ (a &>> 13 | a &<< 19) ^ (a &>> 22 | a &<< 10)
      let majority = (a & b) ^ (a & c) ^ (b & c)
      let t2 = s0 &+ majority
      h = g
      g = f
      f = e
      e = d &+ t1
      d = c
      c = b
      b = a
      a = t1 &+ t2
      t += 1
    }
    state[0] &+= a
    state[1] &+= b
    state[2] &+= c
    state[3] &+= d
    state[4] &+= e
    state[5] &+= f
    state[6] &+= g
    state[7] &+= h
  }

  private static let roundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
    0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
    0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
    0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
    0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
    0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
  ]
}

/// Returns `bytes` as lowercase hex digits.
func hexString(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var text: [UInt8] = []
  text.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    text.append(digits[Int(byte >> 4)])
    text.append(digits[Int(byte & 0x0f)])
  }
  return String(decoding: text, as: UTF8.self)
}
