import Foundation
import Testing

@testable import FwdCore

@Suite struct KnownHostsVerifyTests {
  typealias Support = KnownHostsTestSupport
  let ed25519 = Support.blob("ssh-ed25519", seed: 1)
  let otherEd25519 = Support.blob("ssh-ed25519", seed: 3)
  let ecdsa = Support.blob("ecdsa-sha2-nistp256", seed: 2)
  let rsa = Support.blob("ssh-rsa", seed: 4)

  func knownHosts(_ lines: [String], file: String = "kh") -> KnownHosts {
    KnownHosts(text: lines.joined(separator: "\n") + "\n", file: file)
  }

  func location(_ line: Int, _ file: String = "kh") -> KnownHostsLocation {
    KnownHostsLocation(file: file, line: line)
  }

  @Test func plainEntryIsTrusted() {
    let hosts = knownHosts([Support.line("other", ecdsa), Support.line("build", ed25519)])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(2)))
  }

  @Test func hostIsLowercasedForLookup() {
    let hosts = knownHosts([Support.line("build", ed25519)])
    let result = hosts.verify(host: "BUILD", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(1)))
  }

  @Test func unknownHostIsNotFound() {
    let hosts = knownHosts([Support.line("build", ed25519)])
    let result = hosts.verify(host: "sign", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .notFound)
  }

  @Test func bracketedPortEntry() {
    let hosts = knownHosts([Support.line("[127.0.0.1]:2202", ed25519)])
    let onPort = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    let onOtherPort = hosts.verify(
      host: "127.0.0.1", port: 2203, keyType: "ssh-ed25519", keyBlob: ed25519)
    let onDefaultPort = hosts.verify(
      host: "127.0.0.1", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(onPort == .trusted(location(1)))
    #expect(onOtherPort == .notFound)
    #expect(onDefaultPort == .notFound)
  }

  @Test func portlessEntryTrustedOnOtherPort() {
    let hosts = knownHosts([Support.line("127.0.0.1", ed25519)])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(1)))
  }

  @Test func portlessDifferentKeyIsNotFound() {
    let hosts = knownHosts([Support.line("127.0.0.1", ecdsa)])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .notFound)
  }

  @Test func portEntryWinsOverPortlessEntry() {
    let hosts = knownHosts([
      Support.line("127.0.0.1", ed25519), Support.line("[127.0.0.1]:2202", otherEd25519),
    ])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .changed(expectedKeyType: "ssh-ed25519", oldKey: location(2)))
  }

  @Test func commaListAndWildcard() {
    let hosts = knownHosts([
      Support.line("build,sign", ed25519), Support.line("*.lab.example", ecdsa),
    ])
    let sign = hosts.verify(host: "sign", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    let wildcard = hosts.verify(
      host: "a.lab.example", port: 22, keyType: "ecdsa-sha2-nistp256", keyBlob: ecdsa)
    #expect(sign == .trusted(location(1)))
    #expect(wildcard == .trusted(location(2)))
  }

  @Test func negatedPatternExcludesLine() {
    let hosts = knownHosts([Support.line("*.lab.example,!sign.lab.example", ed25519)])
    let build = hosts.verify(
      host: "build.lab.example", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    let sign = hosts.verify(
      host: "sign.lab.example", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(build == .trusted(location(1)))
    #expect(sign == .notFound)
  }

  @Test func sameTypeOtherKeyIsChanged() {
    let hosts = knownHosts(["# header", Support.line("build", otherEd25519)])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .changed(expectedKeyType: "ssh-ed25519", oldKey: location(2)))
  }

  // OpenSSH 9.2p1 reports "REMOTE HOST IDENTIFICATION HAS CHANGED" for a host known only by
  // a key of another type, and rejects it under StrictHostKeyChecking yes and accept-new.
  @Test func otherTypeOnlyIsChanged() {
    let hosts = knownHosts([Support.line("build", ecdsa)])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .changed(expectedKeyType: "ecdsa-sha2-nistp256", oldKey: location(1)))
  }

  @Test func changedPrefersLineOfServerKeyType() {
    let hosts = knownHosts([
      Support.line("build", rsa), Support.line("build", otherEd25519),
      Support.line("build", ecdsa),
    ])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .changed(expectedKeyType: "ssh-ed25519", oldKey: location(2)))
  }

  @Test func matchingKeyAmongOthersIsTrusted() {
    let hosts = knownHosts([
      Support.line("build", ecdsa), Support.line("build", otherEd25519),
      Support.line("build", ed25519),
    ])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(3)))
  }

  @Test func revokedKeyWinsOverTrustedLine() {
    let hosts = knownHosts([
      Support.line("build", ed25519), Support.line("*", ed25519, marker: "@revoked"),
    ])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .revoked(location(2)))
  }

  @Test func revokedOtherKeyDoesNotMatter() {
    let hosts = knownHosts([
      Support.line("*", otherEd25519, marker: "@revoked"), Support.line("build", ed25519),
    ])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(2)))
  }

  @Test func revokedLineMustMatchHost() {
    let hosts = knownHosts([Support.line("other", ed25519, marker: "@revoked")])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .notFound)
  }

  @Test func revokedUnderPortlessName() {
    let hosts = knownHosts([Support.line("127.0.0.1", ed25519, marker: "@revoked")])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .revoked(location(1)))
  }

  @Test func certificateAuthoritySkippedAndReported() {
    let hosts = knownHosts([
      Support.line("*.lab.example", ed25519, marker: "@cert-authority"),
      Support.line("other", ecdsa, marker: "@cert-authority"),
    ])
    let result = hosts.verify(
      host: "build.lab.example", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .notFound)
    let authorities = hosts.certificateAuthorityLines(host: "build.lab.example", port: 22)
    #expect(authorities == [location(1)])
    #expect(hosts.knownKeyTypes(host: "build.lab.example", port: 22).isEmpty)
  }

  @Test func hostKeyAliasReplacesHostAndPort() {
    let hosts = knownHosts([
      Support.line("[127.0.0.1]:2202", otherEd25519), Support.line("signer", ed25519),
    ])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, hostKeyAlias: "Signer", keyType: "ssh-ed25519",
      keyBlob: ed25519)
    #expect(result == .trusted(location(2)))
    let types = hosts.knownKeyTypes(host: "127.0.0.1", port: 2202, hostKeyAlias: "signer")
    #expect(types == ["ssh-ed25519"])
  }

  @Test func hostKeyAliasHasNoPortlessFallback() {
    let hosts = knownHosts([Support.line("127.0.0.1", ed25519)])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, hostKeyAlias: "signer", keyType: "ssh-ed25519",
      keyBlob: ed25519)
    #expect(result == .notFound)
  }

  @Test func corruptLineDoesNotHideLaterLines() {
    let hosts = knownHosts([
      Support.line("a", ecdsa), "garbage line", "b ssh-ed25519 AAAA!",
      Support.line("build", ed25519),
    ])
    let result = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(4)))
    #expect(hosts.skippedLines.map(\.location.line) == [2, 3])
  }

  @Test func ed25519OnlyEntryGivesOneKeyType() {
    let hosts = knownHosts([Support.line("[127.0.0.1]:2202", ed25519)])
    #expect(hosts.knownKeyTypes(host: "127.0.0.1", port: 2202) == ["ssh-ed25519"])
  }

  @Test func keyTypesInFileOrderWithoutRepeats() {
    let hosts = knownHosts([
      Support.line("build", ecdsa), Support.line("other", rsa), Support.line("build", ed25519),
      Support.line("*", otherEd25519), Support.line("*", rsa, marker: "@revoked"),
    ])
    let types = hosts.knownKeyTypes(host: "build", port: 22)
    #expect(types == ["ecdsa-sha2-nistp256", "ssh-ed25519"])
  }

  /// As in ssh 9.2, the type of a revoked key comes last, so the handshake picks a key type
  /// that can pass.
  @Test func revokedKeyTypesComeLast() {
    let revokedFirst = knownHosts([
      Support.line("build", ed25519), Support.line("build", ecdsa),
      Support.line("build", ed25519, marker: "@revoked"), Support.line("build", rsa),
    ])
    #expect(
      revokedFirst.knownKeyTypes(host: "build", port: 22) == [
        "ecdsa-sha2-nistp256", "ssh-rsa", "ssh-ed25519",
      ])
    let anotherKey = knownHosts([
      Support.line("build", ed25519), Support.line("build", ed25519, marker: "@revoked"),
      Support.line("build", ecdsa), Support.line("build", otherEd25519),
    ])
    #expect(
      anotherKey.knownKeyTypes(host: "build", port: 22) == ["ecdsa-sha2-nistp256", "ssh-ed25519"])
  }

  @Test func keyTypesFallBackToPortlessName() {
    let hosts = knownHosts([Support.line("127.0.0.1", ed25519)])
    #expect(hosts.knownKeyTypes(host: "127.0.0.1", port: 2202) == ["ssh-ed25519"])
  }

  @Test func hashedEntryMatchesLookupName() {
    let field = HostPatternMatcher.hashedHostField("[127.0.0.1]:2202")
    let hosts = knownHosts([Support.line(field, ed25519)])
    let result = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(result == .trusted(location(1)))
    let otherPort = hosts.verify(
      host: "127.0.0.1", port: 2203, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(otherPort == .notFound)
  }

  @Test func multipleFilesInOrder() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let user = directory + "/known_hosts"
    let user2 = directory + "/known_hosts2"
    let global = directory + "/ssh_known_hosts"
    try Support.write(Support.line("build", ecdsa) + "\n", to: user)
    try Support.write("broken\n" + Support.line("build", ed25519) + "\n", to: user2)
    try Support.write(Support.line("sign", ed25519, marker: "@revoked") + "\n", to: global)

    let hosts = KnownHosts(files: [user, directory + "/missing", user2, global])
    #expect(hosts.unreadableFiles.isEmpty)
    #expect(hosts.skippedLines.map(\.location) == [KnownHostsLocation(file: user2, line: 1)])
    let build = hosts.verify(host: "build", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(build == .trusted(KnownHostsLocation(file: user2, line: 2)))
    let sign = hosts.verify(host: "sign", port: 22, keyType: "ssh-ed25519", keyBlob: ed25519)
    #expect(sign == .revoked(KnownHostsLocation(file: global, line: 1)))
    #expect(hosts.knownKeyTypes(host: "build", port: 22) == ["ecdsa-sha2-nistp256", "ssh-ed25519"])
  }

  @Test func directoryAsFileIsUnreadable() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let hosts = KnownHosts(files: [directory])
    #expect(hosts.entries.isEmpty)
    #expect(hosts.unreadableFiles.map(\.path) == [directory])
  }

  @Test func entriesHashedBySSHKeygenAreFound() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let key = try Support.generateKey(type: "ed25519", in: directory, name: "host")
    let path = directory + "/known_hosts"
    let text =
      [
        Support.line("[127.0.0.1]:2202", ecdsa),
        Support.line("build.lab,10.1.2.3", key.blob),
        Support.line("[127.0.0.1]:2202", key.blob),
      ].joined(separator: "\n") + "\n"
    try Support.write(text, to: path)
    try Support.run("/usr/bin/ssh-keygen", ["-H", "-f", path])

    let hashedText = try String(contentsOfFile: path, encoding: .utf8)
    #expect(!hashedText.contains("127.0.0.1"))
    let hosts = KnownHosts(files: [path])
    #expect(hosts.skippedLines.isEmpty)
    #expect(hosts.entries.allSatisfy { if case .hashed = $0.hosts { true } else { false } })

    let onPort = hosts.verify(
      host: "127.0.0.1", port: 2202, keyType: key.type, keyBlob: key.blob)
    guard case .trusted = onPort else {
      Issue.record("expected trusted, got \(onPort)")
      return
    }
    let byName = hosts.verify(host: "build.lab", port: 22, keyType: key.type, keyBlob: key.blob)
    let byAddress = hosts.verify(host: "10.1.2.3", port: 22, keyType: key.type, keyBlob: key.blob)
    guard case .trusted = byName, case .trusted = byAddress else {
      Issue.record("expected trusted, got \(byName) and \(byAddress)")
      return
    }
    let types = hosts.knownKeyTypes(host: "127.0.0.1", port: 2202)
    #expect(types == ["ecdsa-sha2-nistp256", "ssh-ed25519"])
  }

  @Test func hashedLineReadBySSHKeygen() throws {
    let directory = try Support.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let key = try Support.generateKey(type: "ed25519", in: directory, name: "host")
    let path = directory + "/known_hosts"
    try KnownHostsWriter.add(
      name: "[127.0.0.1]:2202", keyType: key.type, keyBlob: key.blob, hashName: true, to: path)
    let found = try Support.run("/usr/bin/ssh-keygen", ["-F", "[127.0.0.1]:2202", "-f", path])
    #expect(found.contains("found: line 1"))
  }
}
