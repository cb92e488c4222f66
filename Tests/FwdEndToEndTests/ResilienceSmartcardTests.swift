import Foundation
import FwdLab
import Glibc
import Testing

/// Rebuilds of a chain that logs in to a SoftHSM token. They join the serialized
/// `SmartcardTests` suite because those tests share the token and its PIN state.
extension SmartcardTests {
  @Test(
    .enabled(if: SmartcardChainFixture.isAvailable, "softhsm2, opensc or the built fwd is missing"))
  func rebuildsReuseTheTokenLogin() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let chain = try TokenChain(onlyKey: .ed25519, askpassAnswers: [pin])
    let fwd = try chain.start(Resilience.fastKeepalive + ["-i", "pkcs11:object=ed25519"])
    let port = try fwd.waitForReadyLines(count: 1, timeout: .seconds(30))[0].listenPort
    #expect(try Resilience.echoLine(port: port, "first") == "first")

    for round in 1...3 {
      // Killing build's connection drops every hop, so all three log in again.
      Resilience.killConnections(of: chain.lab["build"])
      #expect(
        Resilience.waitForLog(fwd, "chain rebuilt after", count: round, timeout: .seconds(20)),
        "round \(round); stderr: \(fwd.standardError)")
      #expect(try Resilience.echoLine(port: port, "round \(round)") == "round \(round)")
    }

    #expect(chain.askpass.runs == 1)
    let spy = chain.spyLog
    #expect(spy.count("C_Login") == 1)
    // Three hops signed at the start and again at each of the three rebuilds.
    #expect(spy.signatures == 12)
    fwd.terminate()
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 0)
  }
}

/// The line fwd logs for each rebuild attempt while the chain's token is out of its reader.
private let removedLine =
  "fwd: token 'fwd-chain' was removed: insert it again so that the next rebuild attempt can"
  + " log in\n"

/// Makes a chain whose hosts accept only the Ed25519 key of the test token, which can be
/// pulled and inserted again through the returned presence file.
private func removableTokenChain(askpassAnswers: [String] = []) throws
  -> (TokenChain, TestTokenPresence)
{
  let chain = try TokenChain(
    authorized: Dictionary(uniqueKeysWithValues: Lab.defaultHostNames.map { ($0, [.ed25519]) }),
    askpassAnswers: askpassAnswers, wrappedModule: SmartcardFixture.testTokenModule)
  return (chain, TestTokenPresence(path: chain.folder + "/presence"))
}

/// The options of every run below: fast keepalives and the token's Ed25519 key only.
private let removableTokenOptions = Resilience.fastKeepalive + ["-i", "pkcs11:object=ed25519"]

/// A token pulled while the chain is up and put back later.
extension SmartcardTests {
  @Test(
    .enabled(if: SmartcardChainFixture.isAvailable, "softhsm2, opensc or the built fwd is missing"))
  func rebuildAfterReinsertionAsksOnce() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let (chain, presence) = try removableTokenChain(askpassAnswers: [pin, pin])
    let fwd = try chain.start(removableTokenOptions, environment: presence.environment)
    let port = try fwd.waitForReadyLines(count: 1, timeout: .seconds(30))[0].listenPort
    #expect(try Resilience.echoLine(port: port, "before") == "before")

    try presence.remove()
    Resilience.killConnections(of: chain.lab["build"])
    // Two failed attempts show that no rebuild requests the PIN while the token is out.
    #expect(
      Resilience.waitForLog(fwd, removedLine, count: 2, timeout: .seconds(30)),
      "stderr: \(fwd.standardError)")
    #expect(
      Resilience.occurrences(
        of: "fwd: token 'fwd-chain' removed: waiting for it to be inserted again\n",
        in: fwd.standardError) == 1)
    #expect(chain.askpass.runs == 1)
    #expect(chain.spyLog.count("C_Login") == 1)

    try presence.insert()
    #expect(
      Resilience.waitForLog(fwd, "chain rebuilt after", timeout: .seconds(40)),
      "stderr: \(fwd.standardError)")
    #expect(try Resilience.echoLine(port: port, "after") == "after")
    #expect(
      Resilience.occurrences(of: "fwd: logged in to token 'fwd-chain' again\n", in: fwd.standardError)
        == 1)
    #expect(chain.askpass.runs == 2)
    #expect(chain.askpass.prompts.last == "Enter PIN for 'fwd-chain': ")
    #expect(chain.spyLog.count("C_Login") == 2)
    let transferred = try LabClient.echo(port: port, bytes: 256 << 10, timeout: .seconds(30))
    #expect(transferred == 256 << 10)
    fwd.terminate()
    #expect(try fwd.waitForExit(timeout: .seconds(10)) == 0)
  }

  @Test(
    .enabled(if: SmartcardChainFixture.isAvailable, "softhsm2, opensc or the built fwd is missing"))
  func reinsertionWithPINDescriptorEndsRun() throws {
    let pin = try #require(SmartcardChainFixture.token).userPIN
    let (chain, presence) = try removableTokenChain()
    var ends: [Int32] = [-1, -1]
    #expect(pipe(&ends) == 0)
    let line = Array((pin + "\n").utf8)
    #expect(write(ends[1], line, line.count) == line.count)
    close(ends[1])
    let fwd: FwdProcess
    do {
      defer { close(ends[0]) }
      fwd = try chain.start(
        removableTokenOptions + ["--pin-fd", "3"], environment: presence.environment,
        inheritedDescriptors: [ends[0]])
    }
    let port = try fwd.waitForReadyLines(count: 1, timeout: .seconds(30))[0].listenPort
    #expect(try Resilience.echoLine(port: port, "before") == "before")

    try presence.remove()
    Resilience.killConnections(of: chain.lab["build"])
    #expect(
      Resilience.waitForLog(fwd, removedLine, timeout: .seconds(30)),
      "stderr: \(fwd.standardError)")
    try presence.insert()
    #expect(try fwd.waitForExit(timeout: .seconds(40)) == 77, "stderr: \(fwd.standardError)")

    let descriptorLine =
      "fwd: token 'fwd-chain': PIN needed to log in again after the token was removed, but"
      + " --pin-fd 3 can be read only once: start fwd again, with --pin-file or SSH_ASKPASS so"
      + " that it can log in again by itself\n"
    #expect(Resilience.occurrences(of: descriptorLine, in: fwd.standardError) == 1)
    #expect(chain.spyLog.count("C_Login") == 1)
    #expect(chain.askpass.runs == 0)
  }

  @Test(
    .enabled(if: SmartcardChainFixture.isAvailable, "softhsm2, opensc or the built fwd is missing"))
  func reinsertionWithWrongPINFileEndsRun() throws {
    let token = try #require(SmartcardChainFixture.token)
    let (chain, presence) = try removableTokenChain()
    let pinFile = try chain.privateFile(token.userPIN)
    let fwd = try chain.start(
      removableTokenOptions + ["--pin-file", pinFile], environment: presence.environment)
    let port = try fwd.waitForReadyLines(count: 1, timeout: .seconds(30))[0].listenPort
    #expect(try Resilience.echoLine(port: port, "before") == "before")

    try presence.remove()
    Resilience.killConnections(of: chain.lab["build"])
    #expect(
      Resilience.waitForLog(fwd, removedLine, timeout: .seconds(30)),
      "stderr: \(fwd.standardError)")
    // fwd reads the file again for the new login, and gets a PIN the token rejects.
    try "00000000\n".write(toFile: pinFile, atomically: false, encoding: .utf8)
    try presence.insert()
    #expect(try fwd.waitForExit(timeout: .seconds(40)) == 77, "stderr: \(fwd.standardError)")

    #expect(
      fwd.standardError.contains(
        "fwd: token 'fwd-chain': login failed: wrong PIN (CKR_PIN_INCORRECT) from --pin-file"
          + " \(pinFile), not tried again\n"))
    // The first login and the rejected one: the wrong PIN is not sent again.
    #expect(chain.spyLog.count("C_Login") == 2)
    #expect(chain.askpass.runs == 0)
  }
}
