import FwdBindings

/// A key pair seen on a token before login, through its public key object or certificate.
struct SmartcardCandidate {
  var id: [UInt8]
  var label: String
  var publicKey: SmartcardPublicKey
  /// The class of the object the public key was read from.
  var source: PKCS11ObjectClass
}

/// Finds the key pairs on a token: public objects before login, private keys after it.
enum SmartcardDiscovery {
  /// Returns the key pairs whose public key is readable: public key objects first, then
  /// certificates for the `CKA_ID`s no public key object covers. With `id`, only the objects
  /// with that `CKA_ID` are read.
  static func candidates(in session: PKCS11Session, id: [UInt8]? = nil) throws(PKCS11Error)
    -> [SmartcardCandidate]
  {
    var found: [SmartcardCandidate] = []
    for object in try session.findObjects(.publicKey, id: id) {
      let values = try session.attributes(
        of: object, [.id, .label, .keyType, .ecParams, .ecPoint, .modulus, .publicExponent])
      guard let key = publicKey(values) else { continue }
      found.append(candidate(values, key, .publicKey))
    }
    for object in try session.findObjects(.certificate, id: id) {
      let values = try session.attributes(of: object, [.id, .label, .value])
      let id = values[.id] ?? []
      if found.contains(where: { $0.id == id }) { continue }
      guard let der = values[.value], let info = X509Certificate.subjectPublicKeyInfo(der: der),
        let key = SmartcardPublicKey(subjectPublicKeyInfo: info)
      else { continue }
      found.append(candidate(values, key, .certificate))
    }
    return found
  }

  /// Keeps the candidates that one of `uris` names, or all of them when `uris` is empty.
  static func filter(
    _ candidates: [SmartcardCandidate], token: PKCS11TokenInfo, uris: [PKCS11URI]
  ) -> [SmartcardCandidate] {
    if uris.isEmpty { return candidates }
    let tokenURIs = uris.filter { $0.matches(token: token) }
    return candidates.filter { candidate in
      tokenURIs.contains { uri in
        uri.matches(objectClass: candidate.source, id: candidate.id, label: candidate.label)
          || uri.matches(objectClass: .privateKey, id: candidate.id, label: candidate.label)
      }
    }
  }

  /// Pairs the token's private keys with `candidates` by `CKA_ID` and returns one
  /// `SmartcardKey` per usable algorithm. Private keys are visible only after login.
  static func keys(
    for candidates: [SmartcardCandidate], token: SmartcardToken, session: PKCS11Session,
    mechanisms: Set<PKCS11Mechanism>
  ) throws(PKCS11Error) -> [SmartcardKey] {
    var keys: [SmartcardKey] = []
    for object in try session.findObjects(.privateKey) {
      let values = try session.attributes(of: object, [.id, .label, .keyType, .alwaysAuthenticate])
      let id = values[.id] ?? []
      guard let candidate = candidates.first(where: { $0.id == id }) else { continue }
      let name = "\(token.name) key '\(candidate.label)'"
      if values[.alwaysAuthenticate]?.first == 1 {
        // NOTE: such keys need C_Login(CKU_CONTEXT_SPECIFIC) with the PIN before every
        // signature, and fwd wipes the PIN after the first login, so they are skipped.
        logDebug(name, "skipped: CKA_ALWAYS_AUTHENTICATE asks for the PIN on every signature")
        continue
      }
      guard keyType(values[.keyType]) == expectedKeyType(candidate.publicKey) else {
        logDebug(name, "skipped: the private key's type differs from its public key's")
        continue
      }
      token.record(handle: object, id: id)
      for (algorithm, mechanism) in algorithms(candidate.publicKey, mechanisms) {
        keys.append(
          SmartcardKey(
            algorithm: algorithm, publicKey: candidate.publicKey,
            label: "\(name) \(algorithm.rawValue)", id: id, token: token, mechanism: mechanism))
      }
    }
    return keys
  }

  /// Returns the SSH algorithms for `key`, each with the mechanism that signs for it. RSA uses
  /// the token's hashing mechanism when listed, else CKM_RSA_PKCS over a DigestInfo.
  static func algorithms(_ key: SmartcardPublicKey, _ mechanisms: Set<PKCS11Mechanism>)
    -> [(SmartcardKeyAlgorithm, PKCS11Mechanism)]
  {
    switch key {
    case .ecdsa(.p256, _): [(.ecdsaP256, .ecdsa)]
    case .ecdsa(.p384, _): [(.ecdsaP384, .ecdsa)]
    case .ecdsa(.p521, _): [(.ecdsaP521, .ecdsa)]
    case .ed25519: [(.ed25519, .eddsa)]
    case .rsa:
      [
        (.rsaSHA512, mechanisms.contains(.sha512RSAPKCS) ? .sha512RSAPKCS : .rsaPKCS),
        (.rsaSHA256, mechanisms.contains(.sha256RSAPKCS) ? .sha256RSAPKCS : .rsaPKCS),
      ]
    }
  }

  private static func publicKey(_ values: [PKCS11Attribute: [UInt8]]) -> SmartcardPublicKey? {
    if let params = values[.ecParams], let point = values[.ecPoint] {
      return SmartcardPublicKey(ecParams: params, ecPoint: point)
    }
    if let exponent = values[.publicExponent], let modulus = values[.modulus] {
      return SmartcardPublicKey(exponent: exponent, modulus: modulus)
    }
    return nil
  }

  private static func candidate(
    _ values: [PKCS11Attribute: [UInt8]], _ key: SmartcardPublicKey, _ source: PKCS11ObjectClass
  ) -> SmartcardCandidate {
    let label = String(decoding: values[.label] ?? [], as: UTF8.self)
    return SmartcardCandidate(id: values[.id] ?? [], label: label, publicKey: key, source: source)
  }

  private static func expectedKeyType(_ key: SmartcardPublicKey) -> PKCS11KeyType {
    switch key {
    case .ecdsa: .ec
    case .ed25519: .ecEdwards
    case .rsa: .rsa
    }
  }

  /// Decodes a `CK_KEY_TYPE` attribute, a native-endian `unsigned long`.
  private static func keyType(_ bytes: [UInt8]?) -> PKCS11KeyType? {
    guard let bytes, bytes.count == MemoryLayout<UInt>.size else { return nil }
    let value = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt.self) }
    return PKCS11KeyType(rawValue: value)
  }
}
