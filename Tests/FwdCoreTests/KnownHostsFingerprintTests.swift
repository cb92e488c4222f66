import Foundation
import Testing

@testable import FwdCore

@Suite struct KnownHostsFingerprintTests {
  typealias Support = KnownHostsTestSupport

  @Test(arguments: ["ed25519", "ecdsa", "rsa"])
  func fingerprintMatchesSSHKeygen(type: String) throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let key = try Support.generateKey(type: type, in: directory, name: "key")
    let listing = try Support.run(
      "/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", key.publicKeyPath])
    // ssh-keygen prints "bits SHA256:... comment (TYPE)".
    let fields = listing.split(separator: " ")
    #expect(HostKeyBlob.fingerprint(key.blob) == String(fields[1]))
    #expect(fields.last == "(\(HostKeyBlob.displayName(keyType: key.type)))\n")
  }

  @Test func fingerprintHasNoPadding() {
    let fingerprint = HostKeyBlob.fingerprint([1, 2, 3])
    #expect(fingerprint.hasPrefix("SHA256:"))
    #expect(!fingerprint.contains("="))
    #expect(fingerprint.count == "SHA256:".count + 43)
  }

  @Test(arguments: [
    ("ssh-ed25519", "ED25519"),
    ("ecdsa-sha2-nistp256", "ECDSA"),
    ("ecdsa-sha2-nistp521", "ECDSA"),
    ("ssh-rsa", "RSA"),
    ("ssh-ed25519-cert-v01@openssh.com", "ED25519-CERT"),
    ("sk-ssh-ed25519@openssh.com", "ED25519-SK"),
    ("x-unknown", "x-unknown"),
  ])
  func displayName(keyType: String, expected: String) {
    #expect(HostKeyBlob.displayName(keyType: keyType) == expected)
  }

  @Test func keyTypeNameOfBlob() {
    #expect(HostKeyBlob.keyTypeName(Support.blob("ssh-ed25519", seed: 0)) == "ssh-ed25519")
    #expect(HostKeyBlob.keyTypeName([0, 0, 0, 9, 65]) == nil)
    #expect(HostKeyBlob.keyTypeName([0, 0]) == nil)
  }
}
