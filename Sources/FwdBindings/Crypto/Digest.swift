import CLibCrypto

/// Hashes from OpenSSL's libcrypto, the same library libssh2 is built on.
public enum Digest {
  /// Returns the SHA-1 digest of `bytes` (20 bytes). OpenSSH uses it for the `%C` token in
  /// ssh_config; fwd uses it for nothing that needs collision resistance.
  public static func sha1(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
    bytes.withUnsafeBufferPointer { input in
      out.withUnsafeMutableBufferPointer { output in
        _ = SHA1(input.baseAddress, input.count, output.baseAddress)
      }
    }
    return out
  }

  /// Returns the SHA-256 digest of `bytes` (32 bytes).
  public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
    bytes.withUnsafeBufferPointer { input in
      out.withUnsafeMutableBufferPointer { output in
        _ = SHA256(input.baseAddress, input.count, output.baseAddress)
      }
    }
    return out
  }

  /// Returns the SHA-512 digest of `bytes` (64 bytes).
  public static func sha512(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(SHA512_DIGEST_LENGTH))
    bytes.withUnsafeBufferPointer { input in
      out.withUnsafeMutableBufferPointer { output in
        _ = SHA512(input.baseAddress, input.count, output.baseAddress)
      }
    }
    return out
  }

  /// Returns the SHA-384 digest of `bytes` (48 bytes).
  public static func sha384(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(SHA384_DIGEST_LENGTH))
    bytes.withUnsafeBufferPointer { input in
      out.withUnsafeMutableBufferPointer { output in
        _ = SHA384(input.baseAddress, input.count, output.baseAddress)
      }
    }
    return out
  }

  /// Returns HMAC-SHA1 of `data` under `key` (20 bytes), the hash of hashed known_hosts names.
  public static func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 20)
    var length: UInt32 = 0
    key.withUnsafeBufferPointer { keyBytes in
      data.withUnsafeBufferPointer { dataBytes in
        out.withUnsafeMutableBufferPointer { output in
          _ = HMAC(
            EVP_sha1(), keyBytes.baseAddress, Int32(keyBytes.count), dataBytes.baseAddress,
            dataBytes.count, output.baseAddress, &length)
        }
      }
    }
    return out
  }

  /// Fills `count` bytes from OpenSSL's random generator, for known_hosts salts.
  public static func randomBytes(_ count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    let status = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
    precondition(status == 1, "RAND_bytes failed: OpenSSL has no entropy source")
    return out
  }
}
