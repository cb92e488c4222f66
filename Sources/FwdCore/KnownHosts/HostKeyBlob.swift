import FwdBindings

/// Helpers for SSH public key blobs (RFC 4253 section 6.6: a string naming the key type, then
/// the type's fields).
public enum HostKeyBlob {
  /// Returns the key type name that starts the blob, or nil if the blob does not start with a
  /// well-formed SSH string.
  public static func keyTypeName(_ blob: [UInt8]) -> String? {
    guard blob.count >= 4 else { return nil }
    let length = blob[0..<4].reduce(0) { ($0 << 8) | Int($1) }
    guard length > 0, length <= blob.count - 4 else { return nil }
    let name = blob[4..<(4 + length)]
    guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
    return String(decoding: name, as: UTF8.self)
  }

  /// Returns the fingerprint as `ssh-keygen -l -E sha256` prints it: `SHA256:` and the
  /// unpadded base64 of the SHA-256 of the blob.
  public static func fingerprint(_ blob: [UInt8]) -> String {
    let encoded = Base64.encode(Digest.sha256(blob))
    return "SHA256:" + encoded.filter { $0 != "=" }
  }

  /// Returns the short type name ssh prints in messages (`ED25519`, `ECDSA`, `RSA`), or the
  /// type name itself for types ssh 9.2 does not name.
  public static func displayName(keyType: String) -> String {
    var base = keyType
    var suffix = ""
    let certificateSuffix = "-cert-v01@openssh.com"
    if base.hasSuffix(certificateSuffix) {
      base.removeLast(certificateSuffix.count)
      suffix = "-CERT"
    }
    let name: String
    switch base {
    case "ssh-ed25519": name = "ED25519"
    case "sk-ssh-ed25519@openssh.com": name = "ED25519-SK"
    case "sk-ecdsa-sha2-nistp256@openssh.com": name = "ECDSA-SK"
    case "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512": name = "RSA"
    case "ssh-dss": name = "DSA"
    case _ where base.hasPrefix("ecdsa-sha2-"): name = "ECDSA"
    default: return keyType
    }
    return name + suffix
  }
}
