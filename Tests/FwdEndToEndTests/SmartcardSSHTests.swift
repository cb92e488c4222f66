import Foundation
import FwdBindings
import FwdLab
import Testing

@testable import FwdCore

private let canRun = SmartcardFixture.isAvailable && SmartcardSSHServer.isInstalled

extension SmartcardTests {
  @Test(
    .enabled(if: canRun, "softhsm2, opensc or openssh-server is not installed"),
    arguments: [
      SmartcardKeyAlgorithm.ecdsaP256, .ecdsaP384, .ecdsaP521, .ed25519, .rsaSHA512, .rsaSHA256,
    ])
  func tokenKeyAuthenticatesToSSHD(_ algorithm: SmartcardKeyAlgorithm) throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(pinSource: .file(try token.writePINFile()))
    let key = try #require(session.smartcardKeys.first { $0.algorithm == algorithm })
    let server = try SmartcardSSHServer(authorizedKeys: token.keys.map(\.authorizedKey))
    let accepted = try server.authenticate(user: SmartcardSSHServer.userName, key: key)
    #expect(accepted, "sshd log:\n\(server.log)")
  }

  @Test(.enabled(if: canRun, "softhsm2, opensc or openssh-server is not installed"))
  func rsaFallsBackToSHA256() throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(
      uris: ["pkcs11:object=rsa-2048"], pinSource: .file(try token.writePINFile()))
    let server = try SmartcardSSHServer(
      authorizedKeys: token.keys.map(\.authorizedKey),
      extraConfig: ["PubkeyAcceptedAlgorithms rsa-sha2-256"])
    var accepted: [SmartcardKeyAlgorithm] = []
    // The caller's loop: try each key in order until one is accepted.
    for key in session.smartcardKeys {
      if try server.authenticate(user: SmartcardSSHServer.userName, key: key) {
        accepted.append(key.algorithm)
        break
      }
    }
    #expect(accepted == [.rsaSHA256], "sshd log:\n\(server.log)")
  }

  @Test(.enabled(if: canRun, "softhsm2, opensc or openssh-server is not installed"))
  func unknownTokenKeyIsRejected() throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(pinSource: .file(try token.writePINFile()))
    let key = try #require(session.smartcardKeys.first { $0.algorithm == .ed25519 })
    let others = token.keys.filter { $0.type != .ed25519 }.map(\.authorizedKey)
    let server = try SmartcardSSHServer(authorizedKeys: others)
    #expect(try !server.authenticate(user: SmartcardSSHServer.userName, key: key))
  }
}
