import CLibCrypto
import Glibc

/// A fixed-capacity byte buffer for a PIN or passphrase that is wiped when it is no longer needed.
///
/// The storage is allocated once at full capacity and never copied or grown, so no stale copy
/// of the secret is left in freed memory. `wipe()` overwrites it with `explicit_bzero`, which
/// the compiler cannot drop, and `deinit` wipes it again.
public final class SecretBytes {
  private let storage: UnsafeMutableBufferPointer<UInt8>
  public private(set) var count = 0

  /// Creates an empty buffer that can hold `capacity` bytes.
  public init(capacity: Int) {
    storage = .allocate(capacity: max(capacity, 1))
    storage.initialize(repeating: 0)
  }

  deinit {
    wipe()
    storage.deallocate()
  }

  public var capacity: Int { storage.count }
  public var isEmpty: Bool { count == 0 }
  public var isFull: Bool { count == storage.count }

  /// Appends one byte; returns false, storing nothing, when the buffer is full.
  @discardableResult
  public func append(_ byte: UInt8) -> Bool {
    guard count < storage.count else { return false }
    storage[count] = byte
    count += 1
    return true
  }

  /// Removes the last byte if it equals `byte` (for a trailing newline or carriage return).
  public func dropLast(ifEqualTo byte: UInt8) {
    guard count > 0, storage[count - 1] == byte else { return }
    count -= 1
    storage[count] = 0
  }

  /// Overwrites every byte with zero and empties the buffer.
  public func wipe() {
    if let base = storage.baseAddress { explicit_bzero(base, storage.count) }
    count = 0
  }

  /// Returns HMAC-SHA1 of the contents under `key`: a value that tells two secrets apart
  /// without keeping either, given a random `key` per run.
  public func fingerprint(key: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 20)
    var length: UInt32 = 0
    key.withUnsafeBufferPointer { keyBytes in
      out.withUnsafeMutableBufferPointer { output in
        _ = HMAC(
          EVP_sha1(), keyBytes.baseAddress, Int32(keyBytes.count), storage.baseAddress, count,
          output.baseAddress, &length)
      }
    }
    return out
  }

  /// Calls `body` with the stored bytes; the pointer is valid only inside `body`.
  func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(rebasing: storage[0..<count]))
  }
}
