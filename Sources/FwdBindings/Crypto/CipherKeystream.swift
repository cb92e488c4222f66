import FwdKeystream

/// The keystream cache under libssh2's AES-CTR calls (Sources/FwdKeystream). It works
/// without any call from Swift; this only reports on it.
public enum CipherKeystream {
  /// Whether libssh2's counter-mode ciphers are served from the cache in this process.
  public static var isActive: Bool { fwd_keystream_active() != 0 }

  /// Bytes of keystream computed so far: at most 16 KiB per cipher context more than the
  /// bytes encrypted or decrypted through the cache.
  public static var keystreamBytes: UInt64 { fwd_keystream_bytes() }
}
