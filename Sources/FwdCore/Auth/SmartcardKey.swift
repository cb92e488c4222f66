import FwdBindings

/// The SSH public key algorithms a token key can authenticate with.
public enum SmartcardKeyAlgorithm: String, Sendable, CaseIterable {
  case ecdsaP256 = "ecdsa-sha2-nistp256"
  case ecdsaP384 = "ecdsa-sha2-nistp384"
  case ecdsaP521 = "ecdsa-sha2-nistp521"
  case ed25519 = "ssh-ed25519"
  /// RSA with PKCS#1 v1.5 and SHA-512 (RFC 8332). libssh2 1.10 cannot negotiate it, so the
  /// blob itself carries this name; OpenSSH 9.2 accepts that.
  case rsaSHA512 = "rsa-sha2-512"
  /// RSA with SHA-256, offered after `rsaSHA512` for servers that accept only this one.
  case rsaSHA256 = "rsa-sha2-256"
}

/// One private key on a logged-in token, usable for SSH public key authentication.
///
/// An RSA key yields two `SmartcardKey` values, rsa-sha2-512 first and rsa-sha2-256 second,
/// because the algorithm is fixed by the blob; callers try keys in order.
public final class SmartcardKey: SSHUserKey, @unchecked Sendable {
  public let algorithm: SmartcardKeyAlgorithm
  public let publicKeyBlob: [UInt8]
  /// The token and object labels and the algorithm, e.g. `token 'fwd'/'p256' ecdsa-sha2-nistp256`.
  public let label: String
  /// The token's `CKA_ID` for the key pair.
  public let id: [UInt8]
  let publicKey: SmartcardPublicKey
  /// The token that signs, which finds the private key again after a new login.
  let token: SmartcardToken
  let mechanism: PKCS11Mechanism

  init(
    algorithm: SmartcardKeyAlgorithm, publicKey: SmartcardPublicKey, label: String, id: [UInt8],
    token: SmartcardToken, mechanism: PKCS11Mechanism
  ) {
    self.algorithm = algorithm
    self.publicKey = publicKey
    self.publicKeyBlob = SmartcardKey.blob(algorithm.rawValue, publicKey)
    self.label = label
    self.id = id
    self.token = token
    self.mechanism = mechanism
  }

  /// The key as one authorized_keys line. RSA keys are written as `ssh-rsa`, the key type
  /// sshd stores, whatever signature algorithm this value signs with.
  public var authorizedKeysLine: String {
    let type = algorithm == .rsaSHA512 || algorithm == .rsaSHA256 ? "ssh-rsa" : algorithm.rawValue
    return type + " " + Base64.encode(SmartcardKey.blob(type, publicKey)) + " " + label
  }

  /// Signs `data` on the token and returns the inner SSH signature.
  ///
  /// When the token was removed and put back, or its login ended otherwise, the token logs in
  /// again with one PIN request and the signature is tried once more. While the token is
  /// absent this throws at once, without a PIN request, and the error is not permanent, so the
  /// chain's next rebuild attempt tries again. A PIN the token rejects, or a PIN that only
  /// `--pin-fd` supplied, throws a permanent error that ends the run.
  public func sign(_ data: [UInt8]) throws -> [UInt8] {
    logDebug(label, "signing with \(algorithm.rawValue) through \(mechanism)")
    let raw = try token.sign(tokenInput(for: data), with: self)
    guard let signature = sshSignature(from: raw) else {
      throw FwdError(
        .authentication, "\(label): signing failed: the token returned \(raw.count) bytes")
    }
    return signature
  }

  /// Returns what the token signs for `data`: a digest for ECDSA, a DigestInfo for plain
  /// CKM_RSA_PKCS, and the message itself when the mechanism hashes it.
  func tokenInput(for data: [UInt8]) -> [UInt8] {
    switch (algorithm, mechanism) {
    case (.ecdsaP256, _): Digest.sha256(data)
    case (.ecdsaP384, _): Digest.sha384(data)
    case (.ecdsaP521, _): Digest.sha512(data)
    case (.rsaSHA512, .rsaPKCS): SmartcardWireFormat.sha512DigestInfo + Digest.sha512(data)
    case (.rsaSHA256, .rsaPKCS): SmartcardWireFormat.sha256DigestInfo + Digest.sha256(data)
    default: data
    }
  }

  /// Converts the token's signature to the inner SSH form, or nil when its size is wrong.
  func sshSignature(from raw: [UInt8]) -> [UInt8]? {
    switch publicKey {
    case .ecdsa(let curve, _):
      guard raw.count == 2 * curve.coordinateSize else { return nil }
      return SmartcardWireFormat.ecdsaSignature(raw)
    case .ed25519:
      return raw.count == 64 ? raw : nil
    case .rsa(_, let modulus):
      // sshd wants the signature as long as the modulus; a token may drop leading zeros.
      let size = (SmartcardPublicKey.bitLength(modulus) + 7) / 8
      guard raw.count <= size, !raw.isEmpty else { return nil }
      return [UInt8](repeating: 0, count: size - raw.count) + raw
    }
  }

  /// Builds the SSH public key blob of `publicKey` under the key type name `type`.
  static func blob(_ type: String, _ publicKey: SmartcardPublicKey) -> [UInt8] {
    switch publicKey {
    case .ecdsa(let curve, let point):
      SmartcardWireFormat.string(type) + SmartcardWireFormat.string(curve.sshName)
        + SmartcardWireFormat.string(point)
    case .ed25519(let key):
      SmartcardWireFormat.string(type) + SmartcardWireFormat.string(key)
    case .rsa(let exponent, let modulus):
      SmartcardWireFormat.string(type) + SmartcardWireFormat.mpint(exponent)
        + SmartcardWireFormat.mpint(modulus)
    }
  }
}
