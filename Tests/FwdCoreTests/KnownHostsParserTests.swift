import Foundation
import Testing

@testable import FwdCore

/// A line with an Ed25519 key blob under the key type `ssh-rsa`.
private let ed25519KeyLabeledRSA =
  "h ssh-rsa " + KnownHostsTestSupport.base64(KnownHostsTestSupport.blob("ssh-ed25519", seed: 1))

@Suite struct KnownHostsParserTests {
  typealias Support = KnownHostsTestSupport
  let ed25519 = Support.blob("ssh-ed25519", seed: 1)
  let ecdsa = Support.blob("ecdsa-sha2-nistp256", seed: 2)

  @Test func plainLineParses() {
    let result = KnownHostsParser.parse(Support.line("build.example", ed25519), file: "kh")
    #expect(result.skipped.isEmpty)
    #expect(result.entries.count == 1)
    let entry = result.entries[0]
    #expect(entry.marker == .none)
    #expect(entry.hosts == .patterns(["build.example"]))
    #expect(entry.keyType == "ssh-ed25519")
    #expect(entry.keyBlob == ed25519)
    #expect(entry.comment == nil)
    #expect(entry.location == KnownHostsLocation(file: "kh", line: 1))
  }

  @Test func commentAfterKeyIsKept() {
    let text = Support.line("h", ed25519) + "  root@build  second word"
    let entry = KnownHostsParser.parse(text, file: "kh").entries[0]
    #expect(entry.comment == "root@build second word")
  }

  @Test func tabsSeparateFields() {
    let text = "h\tssh-ed25519\t\(Support.base64(ed25519))"
    let result = KnownHostsParser.parse(text, file: "kh")
    #expect(result.entries.count == 1)
    #expect(result.skipped.isEmpty)
  }

  @Test func commaListIsLowercased() {
    let text = Support.line("Build.Example,[10.0.0.1]:2202,!bad.*", ed25519)
    let entry = KnownHostsParser.parse(text, file: "kh").entries[0]
    #expect(entry.hosts == .patterns(["build.example", "[10.0.0.1]:2202", "!bad.*"]))
  }

  @Test func markersParse() {
    let text = [
      Support.line("*", ed25519, marker: "@revoked"),
      Support.line("*.example", ecdsa, marker: "@cert-authority"),
    ].joined(separator: "\n")
    let entries = KnownHostsParser.parse(text, file: "kh").entries
    #expect(entries.map(\.marker) == [.revoked, .certificateAuthority])
  }

  @Test func hashedHostParses() {
    let salt = [UInt8](repeating: 7, count: 20)
    let hash = [UInt8](repeating: 9, count: 20)
    let field = "|1|\(Support.base64(salt))|\(Support.base64(hash))"
    let entry = KnownHostsParser.parse(Support.line(field, ed25519), file: "kh").entries[0]
    #expect(entry.hosts == .hashed(salt: salt, hash: hash))
  }

  @Test func commentsBlankLinesAndCRLF() {
    let text =
      "# a comment\r\n\r\n   \r\n\t# indented comment\r\n"
      + Support.line("h1", ed25519) + "\r\n" + Support.line("h2", ecdsa) + " trailing\r\n"
    let result = KnownHostsParser.parse(text, file: "kh")
    #expect(result.skipped.isEmpty)
    #expect(result.entries.map(\.location.line) == [5, 6])
    #expect(result.entries[0].keyBlob == ed25519)
    #expect(result.entries[0].comment == nil)
    #expect(result.entries[1].comment == "trailing")
  }

  @Test func lastLineWithoutNewline() {
    let text = Support.line("h1", ed25519) + "\n" + Support.line("h2", ecdsa)
    #expect(KnownHostsParser.parse(text, file: "kh").entries.count == 2)
  }

  @Test func veryLongLinesParse() {
    let manyHosts = (0..<5000).map { "host\($0).example" }.joined(separator: ",")
    let longComment = String(repeating: "c", count: 200_000)
    let text =
      Support.line(manyHosts, ed25519) + " " + longComment + "\n"
      + Support.line("after", ecdsa) + "\n"
    let result = KnownHostsParser.parse(text, file: "kh")
    #expect(result.skipped.isEmpty)
    #expect(result.entries.count == 2)
    #expect(result.entries[0].comment?.count == 200_000)
    #expect(result.entries[0].hosts.matches("host4999.example"))
    #expect(result.entries[1].location.line == 2)
  }

  @Test func corruptLineInMiddleIsSkipped() {
    let text = [
      Support.line("h1", ed25519),
      "h2 ssh-ed25519 !!!not-base64!!!",
      Support.line("h3", ecdsa),
    ].joined(separator: "\n")
    let result = KnownHostsParser.parse(text, file: "/tmp/kh")
    #expect(result.entries.map(\.location.line) == [1, 3])
    #expect(result.skipped.count == 1)
    #expect(result.skipped.first?.location == KnownHostsLocation(file: "/tmp/kh", line: 2))
  }

  @Test(arguments: [
    ("h ssh-ed25519", "missing key"),
    ("h", "missing key type"),
    ("@revoked", "missing host names"),
    ("@bogus h ssh-ed25519 AAAA", "unknown marker"),
    (ed25519KeyLabeledRSA, "does not match"),
    ("h ssh-ed25519 AAAA", "not an SSH public key blob"),
    ("|1|abc|def ssh-ed25519 AAAA", "invalid salt"),
    ("|2|x|y ssh-ed25519 AAAA", "not of the form"),
    ("h # ssh-ed25519", "missing key type"),
  ])
  func malformedLineReason(line: String, reasonPart: String) {
    let result = KnownHostsParser.parse(line, file: "kh")
    #expect(result.entries.isEmpty)
    #expect(result.skipped.count == 1)
    #expect(result.skipped.first?.reason.contains(reasonPart) == true)
  }

  @Test func skippedLineDescriptionNamesFileAndLine() {
    let result = KnownHostsParser.parse("\nh ssh-ed25519\n", file: "/root/.ssh/known_hosts")
    #expect(result.skipped.first?.description.hasPrefix("/root/.ssh/known_hosts:2: ") == true)
  }
}

@Suite struct KnownHostsPatternTests {
  @Test(arguments: [
    ("build.example", "build.example", true),
    ("BUILD.example", "build.example", true),
    ("*.example", "build.example", true),
    ("*.example", "example", false),
    ("b?ild.example", "build.example", true),
    ("b?ild.example", "bld.example", false),
    ("*", "[127.0.0.1]:2202", true),
    ("[127.0.0.*]:2202", "[127.0.0.1]:2202", true),
    ("[127.0.0.1]:2202", "127.0.0.1", false),
    ("127.0.0.1", "[127.0.0.1]:2202", false),
    ("a*b*c", "aXXbYYc", true),
    ("a*b*c", "aXXbYY", false),
    ("**", "", true),
  ])
  func wildcard(pattern: String, name: String, expected: Bool) {
    #expect(KnownHostsHostField.patterns([pattern.lowercased()]).matches(name) == expected)
  }

  @Test func negationExcludesLine() {
    let field = KnownHostsHostField.patterns(["*.example", "!secret.example"])
    #expect(field.matches("build.example"))
    #expect(!field.matches("secret.example"))
  }

  @Test func negationAloneMatchesNothing() {
    let field = KnownHostsHostField.patterns(["!secret.example"])
    #expect(!field.matches("build.example"))
    #expect(!field.matches("secret.example"))
  }

  @Test func lookupNameForPorts() {
    #expect(HostKeyLookup(host: "Build", port: 22).name == "build")
    #expect(HostKeyLookup(host: "Build", port: 22).portlessName == nil)
    #expect(HostKeyLookup(host: "127.0.0.1", port: 2202).name == "[127.0.0.1]:2202")
    #expect(HostKeyLookup(host: "127.0.0.1", port: 2202).portlessName == "127.0.0.1")
    #expect(HostKeyLookup(host: "::1", port: 2202).name == "[::1]:2202")
  }

  @Test func lookupNameWithAliasDropsPort() {
    let lookup = HostKeyLookup(host: "127.0.0.1", port: 2202, hostKeyAlias: "MyAlias")
    #expect(lookup.name == "myalias")
    #expect(lookup.portlessName == nil)
  }
}
