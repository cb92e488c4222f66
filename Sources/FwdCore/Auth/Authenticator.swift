import FwdBindings
import Glibc

/// Logs in to one hop with public keys, trying key sources in a fixed order:
/// 1. keys on the smartcard token (when a token session is open),
/// 2. ssh-agent keys (unless IdentitiesOnly is set),
/// 3. the identity files, asking for a passphrase on the terminal when a file is encrypted.
struct Authenticator {
  let target: HopTarget
  let tokenKeys: [SSHUserKey]

  func authenticate(_ session: SSHSession, waiter: SessionWaiter) throws(FwdError) {
    let methods: [String]
    do {
      methods = try waiter.run { () throws(SSHError) in try session.authenticationMethods(user: target.user) }
    } catch {
      throw failure(error, step: "authentication")
    }
    if session.isAuthenticated {
      logDebug(target.name, "server accepted user \(target.user) without authentication")
      return
    }
    guard methods.contains("publickey") else {
      throw FwdError(
        .authentication,
        "\(target.label): authentication failed for \(target.user): "
          + "server offers only \(methods.joined(separator: ",")), and fwd authenticates with keys"
      )
    }
    var tried: [String] = []

    // The error of the first token key that could not sign, such as for a removed token. It is
    // thrown in place of the list of keys tried when no other key is accepted.
    var tokenFailure: FwdError?
    for key in tokenKeys {
      tried.append(key.label)
      let recorder = SignatureRecorder(key)
      let accepted = try attempt(key.label, waiter) { () throws(SSHError) in
        try session.authenticate(user: target.user, key: recorder)
      }
      if accepted { return }
      if let failure = recorder.failure {
        if failure.isPermanent { throw failure }
        tokenFailure = tokenFailure ?? failure
      }
    }

    if !target.identitiesOnly, target.identityAgent != "none" {
      if try authenticateWithAgent(session, waiter, &tried) { return }
    }

    for path in target.identityFiles {
      guard access(path, R_OK) == 0 else {
        if target.identityFilesExplicit { logInfo(target.name, "no such identity: \(path)") }
        continue
      }
      tried.append(path)
      if try authenticate(session, waiter, keyFile: path) { return }
    }

    if let tokenFailure { throw tokenFailure }
    let list = tried.isEmpty ? "no keys found" : "tried " + tried.joined(separator: ", ")
    throw FwdError(
      .authentication,
      "\(target.label): authentication failed for \(target.user): no key was accepted (\(list)); "
        + "add the public key to ~\(target.user == "root" ? "root" : target.user)/.ssh/authorized_keys there, "
        + "or name the right key with -i"
    )
  }

  private func authenticateWithAgent(_ session: SSHSession, _ waiter: SessionWaiter, _ tried: inout [String])
    throws(FwdError) -> Bool
  {
    let socketPath = target.identityAgent ?? ProcessEnvironment.value("SSH_AUTH_SOCK")
    guard let socketPath, !socketPath.isEmpty else { return false }
    let agent: SSHAgent
    let identities: [SSHAgent.Identity]
    do {
      agent = try SSHAgent(session: session, socketPath: socketPath)
      identities = try agent.identities()
    } catch {
      logDebug(target.name, "ssh-agent at \(socketPath) not used: \(error.message)")
      return false
    }
    for identity in identities {
      let label = "agent key \(identity.comment)"
      tried.append(label)
      let accepted = try attempt(label, waiter) { () throws(SSHError) in
        try agent.authenticate(user: target.user, identity: identity)
      }
      if accepted { return true }
    }
    return false
  }

  private func authenticate(_ session: SSHSession, _ waiter: SessionWaiter, keyFile path: String) throws(FwdError)
    -> Bool
  {
    guard KeyFile.isEncrypted(path: path) else {
      return try attempt(path, waiter) { () throws(SSHError) in
        try session.authenticate(user: target.user, privateKeyFile: path, passphrase: nil)
      }
    }
    if target.batchMode || !Terminal.isAvailable {
      logInfo(target.name, "skipping encrypted key \(path): no terminal to ask for its passphrase")
      return false
    }
    guard var secret = Terminal.readSecret(prompt: "Enter passphrase for key '\(path)': ") else { return false }
    defer { Terminal.zero(&secret) }
    var passphrase = secret.map { CChar(bitPattern: $0) } + [0]
    defer { passphrase.withUnsafeMutableBytes { explicit_bzero($0.baseAddress!, $0.count) } }
    return try attempt(path, waiter) { () throws(SSHError) in
      try passphrase.withUnsafeBufferPointer { buffer throws(SSHError) in
        try session.authenticate(user: target.user, privateKeyFile: path, passphrase: buffer.baseAddress)
      }
    }
  }

  /// Runs one key attempt. Returns false when the server rejected the key; throws when the
  /// session failed.
  private func attempt(_ label: String, _ waiter: SessionWaiter, _ call: () throws(SSHError) -> Attempt<Void>)
    throws(FwdError) -> Bool
  {
    logDebug(target.name, "trying key \(label)")
    do {
      try waiter.run(call)
      logDebug(target.name, "authenticated as \(target.user) with \(label)")
      return true
    } catch {
      if case .ssh(let error) = error, !error.endsSession {
        logDebug(target.name, "key \(label) not accepted: \(error.message)")
        return false
      }
      throw failure(error, step: "authentication")
    }
  }

  private func failure(_ error: SessionWaiter.Failure, step: String) -> FwdError {
    switch error {
    case .timedOut:
      return FwdError(.connection, "\(target.label): \(step) timed out")
    case .cancelled:
      return FwdError(.interrupted, "\(target.label): \(step) stopped by a signal")
    case .ssh(let error):
      return FwdError(.connection, "\(target.label): connection lost during \(step): \(error.message)")
    }
  }
}

/// A key that keeps the `FwdError` its signature threw. libssh2's sign callback can report
/// only that signing failed, so `SSHSession` turns the error into a failed authentication.
private final class SignatureRecorder: SSHUserKey {
  let key: SSHUserKey
  private(set) var failure: FwdError?

  init(_ key: SSHUserKey) { self.key = key }

  var publicKeyBlob: [UInt8] { key.publicKeyBlob }
  var label: String { key.label }

  func sign(_ data: [UInt8]) throws -> [UInt8] {
    do {
      return try key.sign(data)
    } catch let error as FwdError {
      failure = error
      throw error
    }
  }
}
