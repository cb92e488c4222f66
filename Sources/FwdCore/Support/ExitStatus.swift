/// fwd's exit statuses, one per failure class. Values follow sysexits.h where a class matches.
public enum ExitStatus: Int32, CaseIterable, Sendable {
  /// A clean stop (SIGINT, SIGTERM, SIGHUP, or `--help`/`-V`).
  case success = 0
  /// A malformed command line: bad option, bad `-L` or hop spec.
  case usage = 64
  /// The destination or a hop cannot be reached: name not resolved, connection refused,
  /// timeout, or the SSH handshake failed.
  case connection = 69
  /// A bug in fwd.
  case software = 70
  /// A forward could not be set up: local bind failed, remote listen refused.
  case forwarding = 73
  /// The chain was lost after it had been up, and fwd was told not to rebuild it.
  case chainLost = 75
  /// A host key was unknown, changed or revoked.
  case hostKey = 76
  /// Authentication failed: no key accepted, a wrong passphrase or PIN, or no token.
  case authentication = 77
  /// An unreadable or malformed ssh_config or known_hosts file.
  case configuration = 78
  /// SIGINT, SIGTERM or SIGHUP arrived before every forward was ready, so a script that waits
  /// for the ready lines (or `-f`) learns that nothing was set up. 128 + 2, as a shell reports
  /// a command that SIGINT ended.
  case interrupted = 130

  public var meaning: String {
    switch self {
    case .success: "clean stop"
    case .usage: "invalid command line"
    case .connection: "a hop could not be reached or the SSH handshake failed"
    case .software: "internal error in fwd"
    case .forwarding: "a forward could not be set up"
    case .chainLost: "the chain was lost after it was up"
    case .hostKey: "host key verification failed"
    case .authentication: "authentication failed"
    case .configuration: "invalid configuration file"
    case .interrupted: "stopped by a signal before the forwards were ready"
    }
  }
}

/// An error that ends fwd: the text of one line after "fwd: ", and the exit status.
///
/// The message follows one shape: context, then what failed, then the reason and the fix,
/// for example `build (127.0.0.1:2201): connection refused: check Port or that sshd runs`.
public struct FwdError: Error, CustomStringConvertible, Sendable {
  public let status: ExitStatus
  public let message: String
  /// True when trying again cannot succeed until the user acts, such as after a PIN the token
  /// rejected. A rebuild that fails with such an error ends the run with `status` and is not
  /// attempted again.
  public let isPermanent: Bool

  public init(_ status: ExitStatus, _ message: String, isPermanent: Bool = false) {
    self.status = status
    self.message = message
    self.isPermanent = isPermanent
  }

  /// Returns this error marked permanent.
  public func permanent() -> FwdError { FwdError(status, message, isPermanent: true) }

  public var description: String { message }

  public static func usage(_ message: String) -> FwdError { FwdError(.usage, message) }
  public static func configuration(_ message: String) -> FwdError { FwdError(.configuration, message) }
}
