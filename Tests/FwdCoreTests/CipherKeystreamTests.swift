import CLibCrypto
import FwdKeystream
import Testing

/// The keystream cache must give byte for byte what OpenSSL gives, however the data is cut.
@Suite struct CipherKeystreamTests {
  /// Encrypts `total` bytes through the cache in pieces of the given sizes (repeated), and
  /// through EVP_EncryptUpdate, which fwd does not define, in one call.
  private func compare(_ cipher: OpaquePointer?, keyBytes: Int, pieces: [Int], total: Int) -> Bool {
    let key = (0..<keyBytes).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    let iv = (0..<16).map { UInt8(truncatingIfNeeded: 0xF0 &+ $0) }
    let plain = (0..<total).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 8)) }
    let cached = EVP_CIPHER_CTX_new()
    let reference = EVP_CIPHER_CTX_new()
    defer {
      fwd_keystream_release(cached)
      EVP_CIPHER_CTX_free(cached)
      EVP_CIPHER_CTX_free(reference)
    }
    guard EVP_CipherInit(cached, cipher, key, iv, 1) == 1,
      EVP_CipherInit(reference, cipher, key, iv, 1) == 1
    else { return false }

    var expected = [UInt8](repeating: 0, count: total)
    var written: Int32 = 0
    guard EVP_EncryptUpdate(reference, &expected, &written, plain, Int32(total)) == 1 else {
      return false
    }
    var actual = [UInt8](repeating: 0, count: total)
    var offset = 0
    var index = 0
    while offset < total {
      let count = min(pieces[index % pieces.count], total - offset)
      let result = plain.withUnsafeBufferPointer { input in
        actual.withUnsafeMutableBufferPointer { output in
          fwd_keystream_cipher(
            cached, output.baseAddress! + offset, input.baseAddress! + offset, UInt32(count))
        }
      }
      guard result == Int32(count) else { return false }
      offset += count
      index += 1
    }
    return actual == expected
  }

  /// libssh2's pattern: one 16-byte block per call, across several refills.
  @Test func blockAtATimeMatchesOpenSSL() {
    #expect(compare(EVP_aes_128_ctr(), keyBytes: 16, pieces: [16], total: 100_000))
    #expect(compare(EVP_aes_256_ctr(), keyBytes: 32, pieces: [16], total: 70_000))
  }

  /// Pieces that are not whole blocks, and pieces longer than one refill.
  @Test func oddPiecesMatchOpenSSL() {
    #expect(compare(EVP_aes_192_ctr(), keyBytes: 24, pieces: [1, 15, 17, 40_000, 3], total: 200_000))
  }

  /// A mode other than counter mode goes to OpenSSL untouched, without a cache.
  @Test func otherModesPassThrough() {
    let context = EVP_CIPHER_CTX_new()
    defer { EVP_CIPHER_CTX_free(context) }
    let key = [UInt8](repeating: 1, count: 16)
    let iv = [UInt8](repeating: 2, count: 16)
    #expect(EVP_CipherInit(context, EVP_aes_128_cbc(), key, iv, 1) == 1)
    let input = [UInt8](repeating: 3, count: 32)
    var output = [UInt8](repeating: 0, count: 32)
    #expect(fwd_keystream_cipher(context, &output, input, 32) >= 1)
    #expect(EVP_CIPHER_CTX_get_app_data(context) == nil)
  }

  /// libssh2 is linked into this test process too, so the cache is active here.
  /// ChainPathTests checks that the fwd binary's libssh2 calls reach it.
  @Test func cacheIsActiveWhereLibSSH2IsLinked() {
    #expect(fwd_keystream_active() == 1)
  }
}
