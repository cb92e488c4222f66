import Foundation
import FwdBindings
import FwdLab
import Testing

@testable import FwdCore

/// The smartcard tests, one suite run one test at a time: SoftHSM, pkcs11-spy and the test
/// token read process-wide environment variables, and a loaded module is shared process-wide.
@Suite(.serialized) struct SmartcardTests {}

/// The SoftHSM token and modules the smartcard tests share.
enum SmartcardFixture {
  /// One token for the whole test process, made on first use; nil when SoftHSM is missing.
  static let token: SoftHSMToken? = {
    guard SoftHSMToken.isInstalled else { return nil }
    guard let token = try? SoftHSMToken(label: "fwd-test") else { return nil }
    setenv("SOFTHSM2_CONF", token.configPath, 1)
    tokenDirectory = token.directory.path
    atexit {
      if let directory = SmartcardFixture.tokenDirectory {
        try? FileManager.default.removeItem(atPath: directory)
      }
    }
    return token
  }()

  nonisolated(unsafe) private static var tokenDirectory: String?

  static var isAvailable: Bool { token != nil }

  /// The test token module built beside the test bundle.
  static var testTokenModule: String {
    let folder =
      Bundle.main.executableURL?.deletingLastPathComponent()
      ?? URL(fileURLWithPath: ".build/debug")
    return folder.appendingPathComponent("libFwdTestToken.so").path
  }

  /// A process state with no terminal and no askpass variables.
  static let noTerminal = PINEnvironment(variables: [:], terminalPath: "/nonexistent/fwd-tty")

  /// Opens the smartcard session with no terminal, so only the given source can supply a PIN.
  static func open(
    module: String = SoftHSMToken.modulePath, uris: [String] = [], pinSource: PINSource,
    batchMode: Bool = false, allowFinalTry: Bool = false, environment: PINEnvironment = noTerminal
  ) throws(FwdError) -> SmartcardSession {
    try Smartcard.open(
      provider: module, identityURIs: uris, pinSource: pinSource, batchMode: batchMode,
      allowFinalTry: allowFinalTry, environment: environment)
  }

  /// Writes `text` to a fresh mode 0600 file in the token's folder and returns the path.
  static func privateFile(_ text: String, mode: Int = 0o600) throws -> String {
    guard let token else { throw SoftHSMTokenError("no SoftHSM token") }
    return try token.writePINFile(name: "file-\(UUID().uuidString)", contents: text, mode: mode)
  }

  /// Returns the message of the error that `body` throws, or nil when it throws none.
  static func errorMessage(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch let error as FwdError {
      return error.message
    } catch {
      return "not a FwdError: \(error)"
    }
  }

  /// Runs `body` with the environment variables `values` set, removing them afterwards.
  static func withEnvironment<Result>(
    _ values: [String: String], _ body: () throws -> Result
  ) rethrows -> Result {
    for (name, value) in values { setenv(name, value, 1) }
    defer { for name in values.keys { unsetenv(name) } }
    return try body()
  }
}
