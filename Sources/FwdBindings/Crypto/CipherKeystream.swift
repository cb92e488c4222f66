import FwdKeystream

/// The keystream cache under libssh2's AES-CTR calls (Sources/FwdKeystream). It works
/// without any call from Swift; this only reports on it.
public enum CipherKeystream {
  /// Whether libssh2's counter-mode ciphers are served from the cache in this process.
  public static var isActive: Bool { fwd_keystream_active() != 0 }

  /// Bytes encrypted or decrypted through the cache so far.
  public static var servedBytes: UInt64 { fwd_keystream_served_bytes() }
}
