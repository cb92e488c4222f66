import Foundation

/// The deterministic byte stream that the source service sends and the client helpers upload
/// and echo.
///
/// Byte `i` of the stream is `block[i % period]`. The period is a prime just under 1 MiB, so a
/// transport that drops, repeats or reorders a power-of-two sized chunk changes the stream.
public enum TestPattern {
  public static let period = 1_048_573

  /// Largest chunk `withBytes` hands out; chunks never wrap because the block is this much longer
  /// than the period.
  static let maxChunk = 65_536

  private static let block: [UInt8] = {
    var bytes = [UInt8](repeating: 0, count: period + maxChunk)
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    bytes.withUnsafeMutableBytes { raw in
      var offset = 0
      while offset < period {
        // xorshift64*: a cheap generator whose output has no short period.
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        var word = (state &* 0x2545_f491_4f6c_dd1d).littleEndian
        let take = min(8, period - offset)
        withUnsafeBytes(of: &word) { source in
          raw.baseAddress!.advanced(by: offset).copyMemory(
            from: source.baseAddress!, byteCount: take)
        }
        offset += take
      }
      raw.baseAddress!.advanced(by: period).copyMemory(from: raw.baseAddress!, byteCount: maxChunk)
    }
    return bytes
  }()

  /// Calls `body` with the stream bytes starting at `offset`: at most `count` and at most
  /// `maxChunk` of them, contiguous in memory.
  static func withBytes<T>(offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> T)
    rethrows -> T
  {
    let start = offset % period
    let length = min(count, maxChunk)
    return try block.withUnsafeBytes { raw in
      try body(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
    }
  }

  /// Returns `count` stream bytes starting at `offset`, for small checks.
  public static func bytes(offset: Int = 0, count: Int) -> [UInt8] {
    var result: [UInt8] = []
    result.reserveCapacity(count)
    var position = offset
    while position < offset + count {
      withBytes(offset: position, count: offset + count - position) { result += $0 }
      position = offset + result.count
    }
    return result
  }

  /// Returns the offset of the first byte of `received` that differs from the stream at
  /// `offset`, or nil when all match.
  static func firstMismatch(in received: UnsafeRawBufferPointer, at offset: Int) -> Int? {
    var checked = 0
    while checked < received.count {
      let mismatch: Int? = withBytes(offset: offset + checked, count: received.count - checked) {
        expected in
        if memcmp(expected.baseAddress!, received.baseAddress! + checked, expected.count) == 0 {
          checked += expected.count
          return nil
        }
        for index in 0..<expected.count where expected[index] != received[checked + index] {
          return offset + checked + index
        }
        return nil
      }
      if let mismatch { return mismatch }
    }
    return nil
  }

  /// Returns the lowercase hex SHA-256 of the first `count` stream bytes.
  ///
  /// Hashing is slow in a debug build: about 45 MB/s against 210 MB/s optimized, measured on a
  /// 2 vCPU x86-64 VM. So the midstate at every MiB is kept for the life of the process, and
  /// later calls resume from the nearest one.
  public static func sha256(count: Int) -> String {
    checkpointLock.lock()
    defer { checkpointLock.unlock() }
    let start = min(count >> 20, checkpoints.count - 1)
    var hasher = checkpoints[start]
    var position = start << 20
    while position < count {
      let nextCheckpoint = (position >> 20 + 1) << 20
      let end = min(count, nextCheckpoint)
      withBytes(offset: position, count: end - position) { chunk in
        hasher.update(chunk)
        position += chunk.count
      }
      if position == nextCheckpoint && position >> 20 == checkpoints.count {
        checkpoints.append(hasher)
      }
    }
    return hasher.hexDigest()
  }

  private static let checkpointLock = NSLock()
  /// `checkpoints[k]` is the hasher after the first `k` MiB of the stream.
  nonisolated(unsafe) private static var checkpoints: [SHA256] = [SHA256()]
}

/// Counts and hashes a received stream, comparing it with `TestPattern` on the way.
///
/// While the bytes match the pattern nothing is hashed, because their SHA-256 is the pattern's.
/// From the first mismatch on it hashes for real, so `sha256` is always the hash of the bytes
/// received.
struct PatternCheckingHasher {
  private(set) var count = 0
  private(set) var firstMismatch: Int?
  private var hasher: SHA256?

  mutating func update(_ bytes: UnsafeRawBufferPointer) {
    if hasher == nil, let mismatch = TestPattern.firstMismatch(in: bytes, at: count) {
      firstMismatch = mismatch
      var fresh = SHA256()
      var position = 0
      while position < count {
        TestPattern.withBytes(offset: position, count: count - position) { chunk in
          fresh.update(chunk)
          position += chunk.count
        }
      }
      hasher = fresh
    }
    hasher?.update(bytes)
    count += bytes.count
  }

  var sha256: String {
    hasher?.hexDigest() ?? TestPattern.sha256(count: count)
  }
}
