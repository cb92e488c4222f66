import CLibCrypto

/// X.509 certificate parsing, only as far as SSH needs it: the subject's public key.
public enum X509Certificate {
  /// Returns the DER SubjectPublicKeyInfo of the DER certificate `der`, or nil when OpenSSL
  /// cannot parse it. Calls `d2i_X509` and `i2d_X509_PUBKEY`.
  public static func subjectPublicKeyInfo(der: [UInt8]) -> [UInt8]? {
    let certificate: OpaquePointer? = der.withUnsafeBufferPointer { bytes in
      var cursor = bytes.baseAddress
      return d2i_X509(nil, &cursor, bytes.count)
    }
    guard let certificate else { return nil }
    defer { X509_free(certificate) }
    guard let publicKey = X509_get_X509_PUBKEY(certificate) else { return nil }
    let length = i2d_X509_PUBKEY(publicKey, nil)
    guard length > 0 else { return nil }
    var out = [UInt8](repeating: 0, count: Int(length))
    let written = out.withUnsafeMutableBufferPointer { buffer in
      var cursor = buffer.baseAddress
      return i2d_X509_PUBKEY(publicKey, &cursor)
    }
    return written == length ? out : nil
  }
}
