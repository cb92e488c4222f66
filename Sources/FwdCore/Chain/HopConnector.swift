import FwdBindings

/// Turns a connected socket into an authenticated SSH session for one hop: handshake, host key
/// check, then authentication. Runs before the hop's event loop, so it may wait on the socket.
struct HopConnector {
  let target: HopTarget
  let verifier: HostKeyVerifier
  let tokenKeys: [SSHUserKey]
  /// A descriptor that becomes readable when set-up should stop (the signal pipe).
  var cancelFD: Int32? = nil

  /// Seconds for the SSH handshake when ConnectTimeout is not set.
  static let defaultHandshakeTimeout = 30

  func establish(socket: Int32) throws(FwdError) -> SSHSession {
    let session: SSHSession
    do {
      session = try SSHSession(socket: socket)
    } catch {
      throw FwdError(.software, "\(target.label): \(error.message)")
    }
    try applyAlgorithmPreferences(session)
    try preferKnownHostKeyTypes(session)

    let timeout = target.connectTimeout ?? HopConnector.defaultHandshakeTimeout
    let waiter = SessionWaiter(
      session: session, deadline: SessionWaiter.deadline(afterSeconds: timeout), cancelFD: cancelFD)
    do {
      try waiter.run { () throws(SSHError) in try session.handshake() }
    } catch {
      switch error {
      case .timedOut:
        throw FwdError(
          .connection,
          "\(target.label): SSH handshake timed out after \(timeout) s; check that an SSH server answers there")
      case .cancelled:
        throw FwdError(.interrupted, "\(target.label): set-up stopped by a signal")
      case .ssh(let error):
        throw handshakeFailure(error)
      }
    }
    logDebug(
      target.name,
      "handshake done: kex \(session.negotiatedMethod(.keyExchange) ?? "?"), "
        + "host key \(session.negotiatedMethod(.hostKey) ?? "?"), "
        + "cipher \(session.negotiatedMethod(.cipherClientToServer) ?? "?"), "
        + "mac \(session.negotiatedMethod(.macClientToServer) ?? "?")"
    )
    if let cipher = session.negotiatedMethod(.cipherClientToServer), cipher.hasSuffix("-ctr") {
      let cache = CipherKeystream.isActive ? "on" : "off"
      logDebug2(target.name, "keystream cache under libssh2's \(cipher): \(cache)")
    }

    guard let hostKey = session.hostKey() else {
      throw FwdError(.hostKey, "\(target.label): the server sent no host key")
    }
    try verifier.verify(target, keyType: SSHKeyBlob.typeName(hostKey.blob) ?? "unknown", keyBlob: hostKey.blob)

    let authWaiter = SessionWaiter(session: session, deadline: nil, cancelFD: cancelFD)
    try Authenticator(target: target, tokenKeys: tokenKeys).authenticate(session, waiter: authWaiter)
    return session
  }

  /// Sets Ciphers, MACs and KexAlgorithms. HostKeyAlgorithms is set with the known_hosts
  /// order in `preferKnownHostKeyTypes`.
  private func applyAlgorithmPreferences(_ session: SSHSession) throws(FwdError) {
    for setting in target.algorithms where setting.keyword != .hostKeyAlgorithms {
      let kinds = setting.keyword.methodKinds
      let list = try setting.resolve(supported: session.supportedMethods(kinds[0]))
      for kind in kinds {
        try setPreference(session, kind, list, keyword: setting.keyword)
      }
    }
  }

  /// Sets the host-key preference: key types known_hosts lists for the hop first, then the
  /// other allowed types. The allowed types are HostKeyAlgorithms, or all libssh2 supports.
  private func preferKnownHostKeyTypes(_ session: SSHSession) throws(FwdError) {
    let supported = session.supportedMethods(.hostKey)
    let setting = target.algorithm(.hostKeyAlgorithms)
    let allowed = try setting?.resolve(supported: supported) ?? supported
    let known = verifier.knownKeyTypes(for: target).filter { allowed.contains($0) }
    guard !known.isEmpty || setting != nil else { return }
    let order = known + allowed.filter { !known.contains($0) }
    try setPreference(session, .hostKey, order, keyword: .hostKeyAlgorithms)
  }

  private func setPreference(
    _ session: SSHSession, _ kind: SSHMethodKind, _ list: [String],
    keyword: AlgorithmSetting.Keyword
  ) throws(FwdError) {
    let text = list.joined(separator: ",")
    do {
      try session.setMethodPreference(kind, text)
    } catch {
      throw FwdError(
        .software,
        "\(target.label): setting \(keyword.rawValue) to '\(text)' failed: \(error.message)")
    }
    logDebug2(target.name, "\(keyword.rawValue) preference (\(kind)): \(text)")
  }

  private func handshakeFailure(_ error: SSHError) -> FwdError {
    var message = "\(target.label): SSH handshake failed: \(error.message)"
    if error.isKeyExchangeFailure {
      message +=
        "; libssh2 1.10 needs curve25519 or ECDH key exchange, AES-CTR/CBC ciphers "
        + "and an Ed25519, ECDSA or ssh-rsa host key (a server with only an rsa-sha2 RSA host key cannot be used)"
    } else if error.code == -13 || error.isSocketFailure {
      message += "; the server closed the connection (check that this is an SSH server, and its MaxStartups and logs)"
    }
    return FwdError(.connection, message)
  }
}

/// Reads fields of SSH wire-format public key blobs.
enum SSHKeyBlob {
  /// The key type string at the start of a blob, e.g. "ssh-ed25519".
  static func typeName(_ blob: [UInt8]) -> String? {
    guard blob.count >= 4 else { return nil }
    let length = blob[0..<4].reduce(0) { $0 << 8 | Int($1) }
    guard length > 0, 4 + length <= blob.count else { return nil }
    return String(decoding: blob[4..<4 + length], as: UTF8.self)
  }
}
