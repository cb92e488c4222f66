import Foundation
import FwdLab
import Glibc
import Testing

/// The SoftHSM token of the chain tests, with one RSA-2048, one ECDSA P-256 and one Ed25519
/// key pair.
///
/// It is separate from `SmartcardFixture.token` because SoftHSM 2.6.1 keeps
/// CKF_USER_PIN_COUNT_LOW set from a wrong PIN until the next good login, and the wrong-PIN
/// tests here must not change what the other smartcard tests see.
enum SmartcardChainFixture {
  static let keyTypes: [SoftHSMToken.KeyType] = [.rsa2048, .ecdsaP256, .ed25519]

  /// Made on first use; nil when SoftHSM or OpenSC's tools are missing.
  static let token: SoftHSMToken? = {
    guard SoftHSMToken.isInstalled else { return nil }
    guard let token = try? SoftHSMToken(label: "fwd-chain", keyTypes: keyTypes) else { return nil }
    tokenDirectory = token.directory.path
    atexit {
      if let directory = SmartcardChainFixture.tokenDirectory {
        try? FileManager.default.removeItem(atPath: directory)
      }
    }
    return token
  }()

  nonisolated(unsafe) private static var tokenDirectory: String?

  /// True when the token exists, pkcs11-spy is installed and fwd is built.
  static var isAvailable: Bool {
    token != nil && SoftHSMToken.spyModulePath != nil
      && access(FwdBinary.path, X_OK) == 0
  }

  /// The variables that would change how fwd finds its PIN or its keys; every run clears them
  /// and sets only the ones it needs.
  static let clearedVariables = [
    "DISPLAY", "WAYLAND_DISPLAY", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "SSH_AUTH_SOCK",
    "PKCS11SPY", "PKCS11SPY_OUTPUT", "FWD_TEST_TOKEN_STATE", "FWD_TEST_TOKEN_MAX_TRIES",
    "FWD_TEST_TOKEN_PINPAD", "FWD_TEST_TOKEN_MODULE", "FWD_TEST_TOKEN_PRESENCE",
  ]
}

/// An askpass program that records each prompt and prints the next of its answers, then
/// nothing once they run out.
struct CountingAskpass {
  let program: String
  private let promptsFile: String

  init(folder: String, answers: [String]) throws {
    promptsFile = folder + "/askpass-prompts"
    let answersFile = folder + "/askpass-answers"
    let countFile = folder + "/askpass-count"
    try (answers.joined(separator: "\n") + "\n").write(
      toFile: answersFile, atomically: true, encoding: .utf8)
    program = folder + "/askpass"
    let script = """
      #!/bin/sh
      printf '%s\\n--\\n' "$1" >> '\(promptsFile)'
      n=$(cat '\(countFile)' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '\(countFile)'
      sed -n "${n}p" '\(answersFile)'
      """
    try script.write(toFile: program, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: program)
  }

  /// The prompts shown so far, one per run, in order.
  var prompts: [String] {
    let text = (try? String(contentsOfFile: promptsFile, encoding: .utf8)) ?? ""
    return text.components(separatedBy: "\n--\n").filter { !$0.isEmpty }
  }

  var runs: Int { prompts.count }
}

/// A pkcs11-spy log, read once: the PKCS#11 calls in the order the module received them.
struct SpyLog {
  struct Call {
    let function: String
    let lines: [Substring]
  }

  let calls: [Call]

  /// Reads the log at `path`; a missing log has no calls.
  init(path: String) {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    var calls: [Call] = []
    var function: String?
    var lines: [Substring] = []
    for line in text.split(separator: "\n") {
      // Each call starts with "<sequence number>: C_<name>".
      let fields = line.split(separator: " ")
      if fields.count == 2, fields[0].hasSuffix(":"), Int(fields[0].dropLast()) != nil,
        fields[1].hasPrefix("C_")
      {
        if let function { calls.append(Call(function: function, lines: lines)) }
        function = String(fields[1])
        lines = []
      } else {
        lines.append(line)
      }
    }
    if let function { calls.append(Call(function: function, lines: lines)) }
    self.calls = calls
  }

  func count(_ function: String) -> Int {
    calls.filter { $0.function == function }.count
  }

  /// The signatures made. Each is one C_Sign with a NULL buffer that requests the length, then
  /// one C_Sign that returns the signature, and only the second kind is counted.
  var signatures: Int {
    calls.filter { call in
      call.function == "C_Sign"
        && call.lines.contains { $0.hasPrefix("[out] pSignature") && !$0.contains(" NULL ") }
    }.count
  }
}

/// One smartcard chain test: a lab of build, sign and deep whose hosts accept only the token
/// keys given, an ssh_config without IdentityFile, a counting askpass, and a pkcs11-spy log.
///
/// fwd runs as `fwd -I pkcs11-spy.so -F CONFIG ... -J build,sign deep -L 0:127.0.0.1:ECHO` in
/// a new session, so it has no terminal even when the tests run in one.
final class TokenChain {
  let token: SoftHSMToken
  let lab: Lab
  let configPath: String
  let folder: String
  let askpass: CountingAskpass
  let spyLogPath: String
  /// The module pkcs11-spy wraps: SoftHSM, or the test token that simulates a retry counter.
  let wrappedModule: String

  /// Makes a chain whose three hosts all accept only the token key of `type`.
  convenience init(onlyKey type: SoftHSMToken.KeyType, askpassAnswers: [String] = []) throws {
    let authorized = Dictionary(uniqueKeysWithValues: Lab.defaultHostNames.map { ($0, [type]) })
    try self.init(authorized: authorized, askpassAnswers: askpassAnswers)
  }

  /// - Parameters:
  ///   - authorized: the token key types each host accepts; hosts not named accept all three.
  ///   - askpassAnswers: what the askpass prints, one line per run.
  ///   - wrappedModule: the module behind pkcs11-spy.
  init(
    authorized: [String: [SoftHSMToken.KeyType]] = [:], askpassAnswers: [String] = [],
    wrappedModule: String = SoftHSMToken.modulePath
  ) throws {
    guard let token = SmartcardChainFixture.token else {
      throw SoftHSMTokenError("no SoftHSM token for the chain tests")
    }
    self.token = token
    self.wrappedModule = wrappedModule
    // A wrong PIN in an earlier test leaves a flag that adds a warning to fwd's output.
    try token.logInOnce()
    lab = try Lab()
    folder = lab.directory + "/token-chain"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    spyLogPath = folder + "/spy.log"
    askpass = try CountingAskpass(folder: folder, answers: askpassAnswers)
    for host in Lab.defaultHostNames {
      let types = authorized[host] ?? SmartcardChainFixture.keyTypes
      try lab.setAuthorizedKeys(types.compactMap { token.key($0)?.authorizedKey }, on: host)
    }
    configPath = try lab.writeSSHConfig(named: "ssh_config_token", identityFile: "")
  }

  deinit { lab.shutdown() }

  /// The variables every run gets: the token's SoftHSM config, pkcs11-spy around
  /// `wrappedModule`, and the counting askpass, forced so that no DISPLAY is needed.
  var environment: [String: String] {
    var variables = token.environment
    variables.merge(
      SoftHSMToken.spyEnvironment(wrapping: wrappedModule, log: spyLogPath)
    ) { $1 }
    variables["SSH_ASKPASS"] = askpass.program
    variables["SSH_ASKPASS_REQUIRE"] = "force"
    return variables
  }

  /// The arguments for a run with `options` before the hops and forward.
  ///
  /// - Parameters:
  ///   - config: the ssh_config; `configPath` when nil.
  ///   - loadModule: with false, no `-I`, so only the config can name a PKCS#11 module.
  func arguments(_ options: [String], config: String? = nil, loadModule: Bool = true)
    -> [String]
  {
    let module = loadModule ? ["-I", SoftHSMToken.spyModulePath ?? "pkcs11-spy.so"] : []
    return module + ["-F", config ?? configPath] + options
      + ["-J", "build,sign", "deep", "-L", "0:127.0.0.1:\(lab.echoPort)"]
  }

  /// Starts fwd with `options` and `arguments(_:config:loadModule:)`. `environment` is applied
  /// on top of `self.environment`, and the variables in `unset` are removed after that.
  func start(
    _ options: [String] = [], config: String? = nil, loadModule: Bool = true,
    environment extra: [String: String] = [:], unset: [String] = [],
    inheritedDescriptors: [Int32] = []
  ) throws -> FwdProcess {
    var variables = environment.merging(extra) { $1 }
    for name in unset { variables[name] = nil }
    return try FwdProcess(
      arguments: arguments(options, config: config, loadModule: loadModule),
      environment: variables,
      unsetEnvironment: SmartcardChainFixture.clearedVariables + unset,
      inheritedDescriptors: inheritedDescriptors, newSession: true)
  }

  /// Waits for the ready line, echoes `bytes` through the forward, stops fwd with SIGTERM and
  /// returns its exit status.
  func echoThrough(_ fwd: FwdProcess, bytes: Int = 256 << 10) throws -> Int32 {
    let ready = try fwd.waitForReadyLines(count: 1, timeout: .seconds(30))[0]
    #expect(ready.targetPort == lab.echoPort)
    let echoed = try LabClient.echo(port: ready.listenPort, bytes: bytes, timeout: .seconds(30))
    #expect(echoed == bytes)
    fwd.terminate()
    return try fwd.waitForExit(timeout: .seconds(10))
  }

  var spyLog: SpyLog { SpyLog(path: spyLogPath) }

  /// The key fingerprints sshd on `host` logged as accepted, e.g. "SHA256:…".
  func acceptedFingerprints(on host: String) -> [String] {
    lab.log(of: host).split(separator: "\n")
      .filter { $0.contains("Accepted publickey for ") }
      .compactMap { $0.split(separator: " ").last.map(String.init) }
  }

  /// The fingerprint sshd logs for the token key of `type`.
  func fingerprint(_ type: SoftHSMToken.KeyType) -> String? {
    token.key(type)?.fingerprint
  }

  /// The fingerprints a host logs after one login with the token key of `type`.
  func acceptedOnce(_ type: SoftHSMToken.KeyType) -> [String] {
    fingerprint(type).map { [$0] } ?? ["no token key of type \(type)"]
  }

  /// Writes `text` and a newline to a new mode 0600 file in the test's folder.
  func privateFile(_ text: String) throws -> String {
    let path = folder + "/pin-\(UUID().uuidString.prefix(8))"
    try (text + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    return path
  }
}

/// Returns the lines of `text` that are not empty.
func nonEmptyLines(_ text: String) -> [String] {
  text.split(separator: "\n").map(String.init)
}

/// Waits until `path` contains a whole line with a process ID, as fwd's --pidfile writes it
/// after the ready lines. Returns nil when `timeout` passes first.
func waitForPIDFile(_ path: String, timeout: TimeInterval = 5) -> pid_t? {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n") {
      return pid_t(text.dropLast())
    }
    usleep(20_000)
  }
  return nil
}
