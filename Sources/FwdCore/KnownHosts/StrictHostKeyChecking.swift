/// The StrictHostKeyChecking setting of ssh_config.
public enum StrictHostKeyChecking: String, Equatable, Sendable {
  /// Never add keys; reject unknown, changed and revoked keys.
  case yes
  /// Add unknown keys; reject changed and revoked keys.
  case acceptNew = "accept-new"
  /// Add unknown keys; go on with a warning for changed and revoked keys.
  case no
  /// Ask at the terminal about unknown keys (as `yes` without one); reject changed and revoked.
  case ask

  /// Parses an ssh_config value, without regard to case, as ssh 9.2 does: `yes` or `true`,
  /// `accept-new`, `no`, `off` or `false`, `ask`.
  public init?(configValue: String) {
    switch configValue.lowercased() {
    case "yes", "true": self = .yes
    case "accept-new": self = .acceptNew
    case "no", "off", "false": self = .no
    case "ask": self = .ask
    default: return nil
    }
  }

  /// The value as `ssh -G` prints it.
  public var sshGName: String {
    switch self {
    case .yes: "true"
    case .acceptNew: "accept-new"
    case .no: "false"
    case .ask: "ask"
    }
  }
}

/// The action to take on a server's host key after the known_hosts check.
public enum HostKeyDecision: Equatable, Sendable {
  /// The key is known: go on.
  case accept
  /// The key is unknown and the policy allows it: go on, add it to the first
  /// UserKnownHostsFile with `KnownHostsWriter.add`, and log `HostKeyMessages.added`.
  case acceptAndAdd
  /// StrictHostKeyChecking no with a changed or revoked key: log the warning and go on.
  /// OpenSSH 9.2 does go on in this case, but it turns off password and keyboard-interactive
  /// authentication and cancels the connection's `-L`/`-R` forwards.
  case acceptUnsafe(warning: String)
  /// StrictHostKeyChecking ask with a terminal: call `HostKeyPrompt.confirmOnTerminal`, then
  /// add the key if the user accepts it, or reject with `HostKeyMessages.declined`.
  case askUser
  /// Stop with this message.
  case reject(message: String)
}

extension StrictHostKeyChecking {
  /// Decides what to do with the result of `KnownHosts.verify`, as ssh 9.2 does.
  /// `terminalAvailable` is whether a prompt can be shown (see `HostKeyPrompt`); without one,
  /// `ask` behaves as `yes`.
  public func decide(
    _ verification: HostKeyVerification, subject: HostKeySubject, terminalAvailable: Bool
  ) -> HostKeyDecision {
    switch verification {
    case .trusted:
      return .accept
    case .notFound:
      switch self {
      case .yes: return .reject(message: HostKeyMessages.notFound(subject))
      case .acceptNew, .no: return .acceptAndAdd
      case .ask:
        if terminalAvailable { return .askUser }
        return .reject(message: HostKeyMessages.notFound(subject))
      }
    case .changed(let oldKeyType, let oldKey):
      let message = HostKeyMessages.changed(subject, oldKeyType: oldKeyType, oldKey: oldKey)
      return rejectUnlessOff(message)
    case .revoked(let location):
      return rejectUnlessOff(HostKeyMessages.revoked(subject, at: location))
    }
  }

  private func rejectUnlessOff(_ message: String) -> HostKeyDecision {
    if self == .no { return .acceptUnsafe(warning: HostKeyMessages.continuingUnsafely(message)) }
    return .reject(message: message)
  }
}
