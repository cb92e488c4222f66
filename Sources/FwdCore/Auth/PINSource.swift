import FwdBindings

/// Where the smartcard PIN comes from, as chosen on the command line.
///
/// The non-interactive sources keep the PIN out of argv and out of the environment that
/// child processes inherit.
public enum PINSource: Equatable, Sendable {
  /// Ask the person: on the terminal, or through `SSH_ASKPASS` by ssh's rules. The default.
  case interactive
  /// Read one line from an inherited file descriptor, then close it (`--pin-fd N`).
  case fileDescriptor(Int32)
  /// Read the first line of a regular file owned by the user with mode 0600 or 0400
  /// (`--pin-file PATH`).
  case file(String)
}

/// Returns PINs for token logins, one fresh buffer per request.
protocol PINReader: AnyObject {
  /// Whether a person types the PIN, so a wrong one may be asked for again.
  var isInteractive: Bool { get }
  /// The source named in messages, e.g. "--pin-file /run/pin" or "the terminal".
  var sourceName: String { get }
  /// Returns the PIN for the token labelled `token`. `notice` is shown first when set: a
  /// warning about the previous attempt or the token's retry counter.
  func readPIN(token: String, notice: String?) throws(FwdError) -> SecretBytes
}

/// The longest PIN fwd reads, in bytes. PKCS#11 tokens report their own maximum in
/// `ulMaxPinLen`, commonly 8 to 64 bytes.
let maximumPINLength = 256

/// The process state that decides how to ask for a PIN: the environment and the terminal.
struct PINEnvironment {
  var variables: [String: String]
  /// The controlling terminal's path; tests point it at a file that does not exist.
  var terminalPath: String

  static var current: PINEnvironment {
    PINEnvironment(
      variables: ProcessEnvironment.all(), terminalPath: "/dev/tty")
  }
}

// MARK: - Choosing the reader

extension PINSource {
  /// Returns the reader for this source, or nil when no PIN can be asked for: no terminal and
  /// no askpass, or `batchMode` with the interactive source.
  func makeReader(batchMode: Bool, environment: PINEnvironment) -> PINReader? {
    switch self {
    case .fileDescriptor(let descriptor):
      return DescriptorPINReader(descriptor: descriptor)
    case .file(let path):
      return FilePINReader(path: path)
    case .interactive:
      if batchMode { return nil }
      switch PINPromptChoice(environment: environment) {
      case .terminal(let terminal): return terminal
      case .askpass(let program): return AskpassPINReader(program: program)
      case .none: return nil
      }
    }
  }

  /// The one-line error for a token that needs a PIN none of the sources can supply.
  static func unavailableError(token: String, batchMode: Bool) -> FwdError {
    let reason = batchMode ? "BatchMode is on" : "no terminal or askpass is available"
    let sources =
      batchMode
      ? "give it with --pin-fd N or --pin-file PATH"
      : "give it with --pin-fd N or --pin-file PATH, or set SSH_ASKPASS and DISPLAY"
    return FwdError(.authentication, "token '\(token)': PIN needed but \(reason): \(sources)")
  }
}
