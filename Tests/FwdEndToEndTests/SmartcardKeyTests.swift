import Foundation
import FwdBindings
import FwdLab
import Synchronization
import Testing

@testable import FwdCore

extension SmartcardTests {
  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func keysOfEveryType() throws {
    let token = try #require(SmartcardFixture.token)
    let pinFile = try token.writePINFile()
    let session = try SmartcardFixture.open(pinSource: .file(pinFile))
    let algorithms = session.smartcardKeys.map(\.algorithm)
    #expect(
      algorithms.sorted { $0.rawValue < $1.rawValue }
        == SmartcardKeyAlgorithm.allCases.sorted { $0.rawValue < $1.rawValue })
    // RSA is offered as rsa-sha2-512 first, rsa-sha2-256 second.
    let rsa = algorithms.filter { $0 == .rsaSHA512 || $0 == .rsaSHA256 }
    #expect(rsa == [.rsaSHA512, .rsaSHA256])
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func keyBlobsMatchAuthorizedKeys() throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(pinSource: .file(try token.writePINFile()))
    for key in token.keys {
      let fields = key.authorizedKey.split(separator: " ")
      let found = session.smartcardKeys.filter { $0.id == key.id }
      #expect(!found.isEmpty, "no key for \(key.label)")
      for smartcardKey in found {
        let line = smartcardKey.authorizedKeysLine.split(separator: " ")
        #expect(line[0] == fields[0], "type of \(key.label)")
        #expect(line[1] == fields[1], "key of \(key.label)")
      }
    }
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func signaturesHaveSSHShape() throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(pinSource: .file(try token.writePINFile()))
    let data = Array("session id and userauth request".utf8)
    for key in session.smartcardKeys {
      let signature = try key.sign(data)
      switch key.algorithm {
      case .ed25519:
        #expect(signature.count == 64)
      case .rsaSHA256, .rsaSHA512:
        #expect(signature.count == 256)
      case .ecdsaP256, .ecdsaP384, .ecdsaP521:
        // Two SSH mpints that fill the signature, each at most the coordinate size + 1 bytes.
        let first = mpintLength(signature, at: 0)
        let second = mpintLength(signature, at: 4 + first)
        #expect(signature.count == 8 + first + second)
        #expect(first <= 67)
        #expect(second <= 67)
      }
    }
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func rsaWithoutHashMechanismUsesDigestInfo() throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(pinSource: .file(try token.writePINFile()))
    let rsa = try #require(session.smartcardKeys.first { $0.algorithm == .rsaSHA512 })
    let data = Array("data".utf8)
    let viaDigestInfo = SmartcardKey(
      algorithm: .rsaSHA512, publicKey: rsa.publicKey, label: rsa.label, id: rsa.id,
      token: rsa.token, mechanism: .rsaPKCS)
    // PKCS#1 v1.5 is deterministic, so both ways must give the same bytes.
    #expect(try viaDigestInfo.sign(data) == rsa.sign(data))
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func concurrentSignaturesAreSerialized() throws {
    let token = try #require(SmartcardFixture.token)
    let session = try SmartcardFixture.open(pinSource: .file(try token.writePINFile()))
    let keys = session.smartcardKeys
    let failures = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 64) { index in
      let key = keys[index % keys.count]
      do {
        _ = try key.sign(Array("message \(index)".utf8))
      } catch {
        failures.withLock { $0 += 1 }
      }
    }
    #expect(failures.withLock { $0 } == 0)
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func uriSelectsOneKey() throws {
    let token = try #require(SmartcardFixture.token)
    let pinFile = try token.writePINFile()
    let session = try SmartcardFixture.open(
      uris: ["pkcs11:token=fwd-test;object=ecdsa-p256;type=private"], pinSource: .file(pinFile))
    #expect(session.smartcardKeys.map(\.algorithm) == [.ecdsaP256])
    let byID = try SmartcardFixture.open(uris: ["pkcs11:id=%05"], pinSource: .file(pinFile))
    #expect(byID.smartcardKeys.map(\.algorithm) == [.ed25519])
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func uriMatchingNothingFails() throws {
    let token = try #require(SmartcardFixture.token)
    let pinFile = try token.writePINFile()
    let message = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(uris: ["pkcs11:object=missing"], pinSource: .file(pinFile))
    }
    #expect(message?.contains("no key on token 'fwd-test' matches pkcs11:object=missing") == true)
    let otherToken = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(uris: ["pkcs11:token=other"], pinSource: .file(pinFile))
    }
    #expect(otherToken?.contains("matches pkcs11:token=other") == true)
  }

  @Test(.enabled(if: SmartcardFixture.isAvailable, "softhsm2 and opensc are not installed"))
  func uriWithPINIsRejectedWithoutEcho() throws {
    let message = SmartcardFixture.errorMessage {
      _ = try SmartcardFixture.open(
        uris: ["pkcs11:object=ecdsa-p256?pin-value=987654"], pinSource: .interactive)
    }
    let text = try #require(message)
    #expect(text.contains("pin-value and pin-source are not accepted"))
    #expect(!text.contains("987654"))
  }
}

/// Returns the length field of the SSH string at `offset`, or -1 past the end.
private func mpintLength(_ bytes: [UInt8], at offset: Int) -> Int {
  guard offset + 4 <= bytes.count else { return -1 }
  return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
}

/// Runs a tool and returns its standard output; throws when it exits non-zero.
@discardableResult
private func runTool(_ tool: String, _ arguments: [String]) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: tool)
  process.arguments = arguments
  let output = Pipe()
  process.standardOutput = output
  process.standardError = FileHandle.nullDevice
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw SSHTestError("\(tool) exited \(process.terminationStatus)")
  }
  return String(decoding: data, as: UTF8.self)
}

@Suite struct SmartcardCertificateTests {
  /// A certificate's key, read the way a token holding only a certificate is read, gives the
  /// same SSH key as ssh-keygen's conversion of the public key.
  @Test(arguments: ["ec:P-256", "ec:P-384", "rsa:2048"])
  func certificateKeyMatchesSSHKeygen(_ algorithm: String) throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("fwd-cert-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let key = folder.appendingPathComponent("key.pem").path
    let certificate = folder.appendingPathComponent("cert.der").path
    let publicKey = folder.appendingPathComponent("public.pem").path
    let parts = algorithm.split(separator: ":").map(String.init)
    let options =
      parts[0] == "ec"
      ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:\(parts[1])"]
      : ["-newkey", "rsa:\(parts[1])"]
    try runTool(
      "/usr/bin/openssl",
      ["req", "-x509", "-nodes", "-subj", "/CN=fwd test", "-days", "1", "-keyout", key]
        + options + ["-outform", "DER", "-out", certificate])
    try runTool("/usr/bin/openssl", ["pkey", "-in", key, "-pubout", "-out", publicKey])
    let expected = try runTool("/usr/bin/ssh-keygen", ["-i", "-m", "PKCS8", "-f", publicKey])
      .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")

    let der = try Array(Data(contentsOf: URL(fileURLWithPath: certificate)))
    let info = try #require(X509Certificate.subjectPublicKeyInfo(der: der))
    let parsed = try #require(SmartcardPublicKey(subjectPublicKeyInfo: info))
    let type = String(expected[0])
    #expect(Data(SmartcardKey.blob(type, parsed)).base64EncodedString() == expected[1])
  }

  @Test func garbageIsNotACertificate() {
    #expect(X509Certificate.subjectPublicKeyInfo(der: [0x30, 0x03, 0x02, 0x01, 0x00]) == nil)
  }
}
