/// Checks host keys against the hop's known_hosts files, applying StrictHostKeyChecking.
///
/// A changed or revoked key is always rejected, even with StrictHostKeyChecking no: fwd's
/// only job is to carry connections, which ssh cancels on such a host.
struct KnownHostsVerifier: HostKeyVerifier {
  private func knownHosts(_ target: HopTarget) -> KnownHosts {
    let hosts = KnownHosts(files: target.userKnownHostsFiles + target.globalKnownHostsFiles)
    for skipped in hosts.skippedLines { logDebug(target.name, skipped.description) }
    for file in hosts.unreadableFiles { logDebug3(target.name, file.description) }
    return hosts
  }

  func knownKeyTypes(for target: HopTarget) -> [String] {
    knownHosts(target).knownKeyTypes(host: target.hostName, port: target.port, hostKeyAlias: target.hostKeyAlias)
  }

  func verify(_ target: HopTarget, keyType: String, keyBlob: [UInt8]) throws(FwdError) {
    let hosts = knownHosts(target)
    for location in hosts.certificateAuthorityLines(
      host: target.hostName, port: target.port, hostKeyAlias: target.hostKeyAlias)
    {
      logDebug(target.name, "\(location): @cert-authority line skipped: fwd does not check host certificates")
    }
    let subject = HostKeySubject(
      hopName: target.name, host: target.hostName, port: target.port, hostKeyAlias: target.hostKeyAlias,
      keyType: keyType, keyBlob: keyBlob, userKnownHostsFiles: target.userKnownHostsFiles,
      jumpHost: target.jumpHostName)
    let verification = hosts.verify(subject.lookup, keyType: keyType, keyBlob: keyBlob)
    let policy = target.batchMode && target.strictHostKeyChecking == .ask ? .yes : target.strictHostKeyChecking
    let decision = policy.decide(verification, subject: subject, terminalAvailable: HostKeyPrompt.terminalAvailable())
    switch decision {
    case .accept:
      if case .trusted(let location) = verification {
        logDebug(target.name, "host key \(subject.keyTypeDisplayName) \(subject.fingerprint) found at \(location)")
      }
    case .acceptAndAdd:
      add(subject, target)
    case .askUser:
      guard HostKeyPrompt.confirmOnTerminal(subject) else {
        throw FwdError(.hostKey, HostKeyMessages.declined(subject))
      }
      add(subject, target)
    case .acceptUnsafe:
      // The same check under `yes` gives the plain rejection message for this key.
      if case .reject(let message) = StrictHostKeyChecking.yes.decide(
        verification, subject: subject, terminalAvailable: false)
      {
        throw FwdError(.hostKey, message)
      }
      throw FwdError(.hostKey, "\(subject.context): host key check failed")
    case .reject(let message):
      throw FwdError(.hostKey, message)
    }
  }

  private func add(_ subject: HostKeySubject, _ target: HopTarget) {
    let file = subject.userKnownHostsFile
    do {
      try KnownHostsWriter.add(
        name: subject.lookup.name, keyType: subject.keyType, keyBlob: subject.keyBlob,
        hashName: target.hashKnownHosts, to: file)
      // The message starts with the hop's name and address, so it takes no log subject.
      logInfo(nil, HostKeyMessages.added(subject, to: file))
    } catch {
      logError(target.name, "\(error); the key was accepted for this run only")
    }
  }
}
