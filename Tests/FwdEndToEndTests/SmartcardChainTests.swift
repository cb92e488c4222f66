import Foundation
import FwdLab
import Glibc
import Testing

private let available = SmartcardChainFixture.isAvailable

/// Quotes `text` for /bin/sh.
private func shellQuoted(_ text: String) -> String {
  "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The built fwd through build, sign and deep with token keys: the token opened once, one PIN
/// and one C_Login for the run, one signature per hop.
extension SmartcardTests {
  @Test(
    .enabled(if: available, "softhsm2, opensc or the built fwd is missing"),
    arguments: SmartcardChainFixture.keyTypes)
  func chainSignsEachHopWithOneLogin(_ type: SoftHSMToken.KeyType) throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let chain = try TokenChain(onlyKey: type, askpassAnswers: [pin])
    let fwd = try chain.start(["-i", "pkcs11:object=\(type.rawValue)"])
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 1)
    let spy = chain.spyLog
    #expect(spy.count("C_Login") == 1)
    #expect(spy.count("C_SignInit") == 3)
    #expect(spy.signatures == 3)
    for host in Lab.defaultHostNames {
      #expect(chain.acceptedFingerprints(on: host) == chain.acceptedOnce(type), "host \(host)")
    }
  }

  @Test(
    .enabled(if: available, "softhsm2, opensc or the built fwd is missing"),
    arguments: SmartcardChainFixture.keyTypes)
  func chainFindsTheOneAuthorizedKey(_ type: SoftHSMToken.KeyType) throws {
    // No pkcs11: URI, so fwd offers every token key and the hosts reject all but one.
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let chain = try TokenChain(onlyKey: type, askpassAnswers: [pin])
    let fwd = try chain.start()
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 1)
    #expect(chain.spyLog.count("C_Login") == 1)
    // libssh2 offers the public key before signing, so a rejected key costs no signature.
    #expect(chain.spyLog.signatures == 3)
    for host in Lab.defaultHostNames {
      #expect(chain.acceptedFingerprints(on: host) == chain.acceptedOnce(type), "host \(host)")
    }
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainUsesADifferentKeyPerHop() throws {
    let chain = try TokenChain(
      authorized: ["build": [.rsa2048], "sign": [.ecdsaP256], "deep": [.ed25519]],
      askpassAnswers: [try #require(SmartcardChainFixture.token).userPIN])
    let fwd = try chain.start(["-v"])
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 1)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 3)
    #expect(chain.acceptedFingerprints(on: "build") == chain.acceptedOnce(.rsa2048))
    #expect(chain.acceptedFingerprints(on: "sign") == chain.acceptedOnce(.ecdsaP256))
    #expect(chain.acceptedFingerprints(on: "deep") == chain.acceptedOnce(.ed25519))
    let user = chain.lab.userName
    #expect(
      fwd.standardError.contains(
        "build: authenticated as \(user) with token 'fwd-chain' key 'rsa-2048' rsa-sha2-512"))
    #expect(
      fwd.standardError.contains(
        "sign: authenticated as \(user) with token 'fwd-chain' key 'ecdsa-p256'"
          + " ecdsa-sha2-nistp256"))
    #expect(
      fwd.standardError.contains(
        "deep: authenticated as \(user) with token 'fwd-chain' key 'ed25519' ssh-ed25519"))
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainAcceptsAnyOfAllThreeKeys() throws {
    let chain = try TokenChain(askpassAnswers: [try #require(SmartcardChainFixture.token).userPIN])
    let fwd = try chain.start()
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 1)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 3)
    let tokenKeys = Set(SmartcardChainFixture.keyTypes.compactMap { chain.fingerprint($0) })
    for host in Lab.defaultHostNames {
      let accepted = chain.acceptedFingerprints(on: host)
      #expect(accepted.count == 1, "host \(host)")
      #expect(accepted.allSatisfy { tokenKeys.contains($0) }, "host \(host)")
    }
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainReadsPINFromDescriptor() throws {
    let chain = try TokenChain(onlyKey: .ed25519)
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    let line = Array((chain.token.userPIN + "\n").utf8)
    #expect(write(ends[1], line, line.count) == line.count)
    close(ends[1])
    let fwd: FwdProcess
    do {
      defer { close(ends[0]) }
      fwd = try chain.start(["--pin-fd", "3"], inheritedDescriptors: [ends[0]])
    }
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 0)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 3)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainReadsPINFromFile() throws {
    let chain = try TokenChain(onlyKey: .ecdsaP256)
    let pinFile = try chain.privateFile(chain.token.userPIN)
    let fwd = try chain.start(["--pin-file", pinFile])
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 0)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 3)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainTakesProviderFromConfig() throws {
    let chain = try TokenChain(askpassAnswers: [try #require(SmartcardChainFixture.token).userPIN])
    let spy = try #require(SoftHSMToken.spyModulePath)
    let lines = Dictionary(
      uniqueKeysWithValues: Lab.defaultHostNames.map { ($0, ["PKCS11Provider \(spy)"]) })
    let config = try chain.lab.writeSSHConfig(
      named: "ssh_config_provider", identityFile: "", hostLines: lines)
    let fwd = try chain.start(config: config, loadModule: false)
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 1)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 3)
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func chainSkipsHopWithProviderNone() throws {
    // build turns PKCS#11 off and logs in with the lab's file key; -I serves the other hops.
    let chain = try TokenChain(
      authorized: ["build": [], "sign": [.ed25519], "deep": [.ed25519]],
      askpassAnswers: [try #require(SmartcardChainFixture.token).userPIN])
    let lab = chain.lab
    try lab.authorizeKey(lab.userKey.publicKey, on: ["build"])
    let config = try lab.writeSSHConfig(
      named: "ssh_config_none", identityFile: "",
      hostLines: ["build": ["PKCS11Provider none", "IdentityFile \(lab.userKey.privateKeyPath)"]])
    let fwd = try chain.start(config: config)
    #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")

    #expect(chain.askpass.runs == 1)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 2)
    let fileKey = SoftHSMToken.fingerprint(ofAuthorizedKey: lab.userKey.publicKey)
    #expect(chain.acceptedFingerprints(on: "build") == [fileKey].compactMap { $0 })
    #expect(chain.acceptedFingerprints(on: "sign") == chain.acceptedOnce(.ed25519))
  }

  @Test(.enabled(if: available, "softhsm2, opensc or the built fwd is missing"))
  func verboseLogOmitsPIN() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let chain = try TokenChain(askpassAnswers: [pin])
    let pinFile = try chain.privateFile(pin)
    for options in [["-vvv"], ["-vvv", "--pin-file", pinFile]] {
      let fwd = try chain.start(options)
      #expect(try chain.echoThrough(fwd) == 0, "stderr: \(fwd.standardError)")
      let output = (fwd.standardOutput + fwd.standardError).lowercased()
      #expect(fwd.standardError.contains("debug3:"), "options \(options)")
      #expect(fwd.standardError.contains("logged in with the PIN from"), "options \(options)")
      let hex = Array(pin.utf8).map { String(format: "%02x", $0) }
      for form in [pin, hex.joined(), hex.joined(separator: " ")] {
        #expect(!output.contains(form), "options \(options)")
      }
    }
    #expect(chain.askpass.runs == 1)
  }

  /// With `-f`, the forked process prompts while the foreground process still waits, and it
  /// keeps the forward after the foreground process has exited.
  @Test(
    .enabled(
      if: available && FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
      "softhsm2, opensc, util-linux script or the built fwd is missing"),
    arguments: [false, true])
  func chainAsksOnTerminalOnce(background: Bool) throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let chain = try TokenChain()
    let pidFile = chain.folder + "/fwd.pid"
    let options = ["--pidfile", pidFile] + (background ? ["-f"] : [])
    let command = ([FwdBinary.path] + chain.arguments(options))
      .map(shellQuoted).joined(separator: " ")
    // Without SSH_ASKPASS_REQUIRE, a terminal wins over the askpass.
    var variables = chain.environment
    variables["SSH_ASKPASS_REQUIRE"] = nil
    variables["SHELL"] = "/bin/sh"
    // script(1) runs fwd on a new pseudo-terminal, its controlling terminal, and copies this
    // test's writes to it. With -e it exits with fwd's status.
    let terminal = try FwdProcess(
      arguments: ["-q", "-e", "-c", command, "/dev/null"], environment: variables,
      unsetEnvironment: SmartcardChainFixture.clearedVariables,
      standardInput: true, newSession: true, binary: "/usr/bin/script")
    let prompt = "Enter PIN for 'fwd-chain': "
    #expect(
      terminal.waitForStandardOutput(containing: prompt, timeout: .seconds(20)),
      "output: \(terminal.standardOutput)")
    try terminal.writeToStandardInput(pin + "\n")
    // The terminal ends lines with "\r\n", which the ready line parser does not take.
    let readyEnd = " 127.0.0.1 \(chain.lab.echoPort)\r\n"
    #expect(terminal.waitForStandardOutput(containing: readyEnd, timeout: .seconds(30)))
    let line = terminal.standardOutput.split(separator: "\r\n").first { $0.hasPrefix("local ") }
    let ready = try #require(line.flatMap { ReadyLine(parsing: $0) })
    if background {
      // The foreground process exits 0 once the forward is up, and fwd goes on without it.
      #expect(try terminal.waitForExit(timeout: .seconds(10)) == 0)
    }
    #expect(try LabClient.echo(port: ready.listenPort, bytes: 256 << 10) == 256 << 10)

    let fwdPID = try #require(waitForPIDFile(pidFile))
    #expect(kill(fwdPID, SIGTERM) == 0)
    if background {
      #expect(ProcessTree.waitUntilGone([fwdPID], timeout: .seconds(10)))
    } else {
      #expect(try terminal.waitForExit(timeout: .seconds(10)) == 0)
    }
    let output = terminal.standardOutput
    #expect(output.components(separatedBy: prompt).count - 1 == 1)
    #expect(!output.contains(pin))
    #expect(chain.askpass.runs == 0)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.spyLog.signatures == 3)
  }
}

extension SmartcardTests {
  /// script(1) makes fwd's foreground process the session leader of a new terminal, so its
  /// exit hangs the terminal up. The background process must have left that session by then.
  /// A background process that calls setsid only after its report loses that race in about one
  /// run of five (measured on 2 vCPUs), so the test repeats the run.
  @Test(
    .enabled(
      if: available && FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
      "softhsm2, opensc, util-linux script or the built fwd is missing"))
  func backgroundOutlivesTerminalHangup() throws {
    let chain = try TokenChain(onlyKey: .ed25519)
    let pinFile = try chain.privateFile(chain.token.userPIN)
    for run in 1...12 {
      let pidFile = chain.folder + "/fwd-\(run).pid"
      // One hop is enough here and keeps each run short.
      let arguments = [
        FwdBinary.path, "-I", try #require(SoftHSMToken.spyModulePath), "-F", chain.configPath,
        "-f", "--pidfile", pidFile, "--pin-file", pinFile, "build",
        "-L", "0:127.0.0.1:\(chain.lab.echoPort)",
      ]
      let command = arguments.map(shellQuoted).joined(separator: " ")
      // script's output goes to /dev/null: the background fwd inherits a descriptor of
      // script's standard output, and waiting for that pipe to close would cost 2 s a run.
      let script = #"exec /usr/bin/script -q -e -c "$0" /dev/null >/dev/null 2>&1"#
      let terminal = try FwdProcess(
        arguments: ["-c", script, command],
        environment: chain.environment.merging(["SHELL": "/bin/sh"]) { $1 },
        unsetEnvironment: SmartcardChainFixture.clearedVariables, newSession: true,
        binary: "/bin/sh")
      #expect(try terminal.waitForExit(timeout: .seconds(20)) == 0, "run \(run)")
      let fwdPID = try #require(
        waitForPIDFile(pidFile), "run \(run): no pidfile, so fwd ended before writing it")
      // The hangup, if any, is delivered when script closes the terminal, before it exits.
      #expect(ProcessTree.isAlive(fwdPID), "run \(run): fwd ended after the terminal hung up")
      kill(fwdPID, SIGTERM)
      #expect(ProcessTree.waitUntilGone([fwdPID], timeout: .seconds(10)), "run \(run)")
    }
    #expect(chain.spyLog.count("C_Login") == 12)
  }
}
