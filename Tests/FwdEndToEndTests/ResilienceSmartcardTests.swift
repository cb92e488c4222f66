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
