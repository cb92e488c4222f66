import Foundation
import Testing

@testable import FwdCore

/// `~`, `%` tokens, `${VARIABLE}` and host name rules.
@Suite struct SSHConfigTokenTests {
  @Test func identityFileTokens() throws {
    let fixture = try ConfigFixture()
    let settings = try fixture.resolve(
      "Target",
      userConfig: """
        Host Target
          HostName target.example.org
          User bob
          Port 2200
          IdentityFile ~/.ssh/%h-%p-%r
          IdentityFile %d/%u/%n/%L/%l/%i/100%%
          IdentityFile ${FWD_KEYS}/%k
        """)
    #expect(
      settings.identityFiles == [
        "\(fixture.home)/.ssh/target.example.org-2200-bob",
        "\(fixture.home)/tester/Target/ws/ws.example.org/\(getuid())/100%",
        "/opt/keys/Target",
      ])
  }

  @Test func hostKeyAliasIsKToken() throws {
    let settings = try ConfigFixture().resolve(
      "t", userConfig: "HostKeyAlias Shared\nIdentityFile /k/%k\n")
    #expect(settings.identityFiles == ["/k/shared"])
  }

  @Test func connectionHashToken() throws {
    let settings = try ConfigFixture().resolve("target", userConfig: "IdentityFile /c/%C\n")
    // SHA-1 of "ws.example.org" + "target" + "22" + "tester", computed with Python's hashlib.
    #expect(settings.identityFiles == ["/c/3ca684740b0399071332564067a8fb94c6ad97b8"])
  }

  @Test func connectionHashIncludesJumps() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig:
        "User bob\nPort 2200\nProxyJump j1,u@j2:2\nIdentityFile /c/%C\nIdentityFile /j/%j\n")
    // SHA-1 of "ws.example.org" + "target" + "2200" + "bob" + "j1,u@j2:2".
    #expect(
      settings.identityFiles == [
        "/c/4d4e780a014d9cfb71216aaa8769f5815c65d21b", "/j/j1,u@j2:2",
      ])
  }

  @Test func pathKeywordsExpandTokens() throws {
    let fixture = try ConfigFixture()
    let settings = try fixture.resolve(
      "t",
      userConfig: """
        UserKnownHostsFile ~/kh/%h ${FWD_KEYS}/kh
        GlobalKnownHostsFile /etc/kh/%h
        IdentityAgent ~/agent-%r.sock
        CertificateFile ${FWD_KEYS}/%h-cert.pub
        """)
    #expect(settings.userKnownHostsFiles == ["\(fixture.home)/kh/t", "/opt/keys/kh"])
    // GlobalKnownHostsFile takes no tokens in OpenSSH 9.2; only `~` is expanded.
    #expect(settings.globalKnownHostsFiles == ["/etc/kh/%h"])
    #expect(settings.identityAgent == "\(fixture.home)/agent-tester.sock")
    #expect(settings.certificateFiles == ["/opt/keys/t-cert.pub"])
  }

  @Test func tildeUserExpands() throws {
    let fixture = try ConfigFixture()
    let settings = try fixture.resolve("t", userConfig: "IdentityFile ~other/.ssh/id\n")
    #expect(settings.identityFiles == ["\(fixture.root)/users/other/.ssh/id"])
  }

  @Test func hostNameExpandsPercentH() throws {
    let settings = try ConfigFixture().resolve(
      "Web1", userConfig: "Host *\n  HostName %h.Example.ORG\n")
    #expect(settings.hostName == "web1.example.org")
    #expect(settings.hostArgument == "Web1")
  }

  /// Names are lowercased; numeric addresses take getnameinfo's standard form, as in ssh 9.2.
  @Test(arguments: [
    ("10.0.0.1", "10.0.0.1"), ("FE80::0001", "fe80::1"), ("127.1", "127.0.0.1"),
    ("fe80::1%%ETH0", "fe80::1%ETH0"), ("Build.Example.Org", "build.example.org"),
  ])
  func hostNameCaseAndAddressForm(_ name: String, _ expected: String) throws {
    let settings = try ConfigFixture().resolve("t", userConfig: "HostName \(name)\n")
    #expect(settings.hostName == expected)
  }

  @Test func typedNameIsLowercased() throws {
    #expect(try ConfigFixture().resolve("MyHost", userConfig: "").hostName == "myhost")
  }

  @Test func proxyCommandAndProxyJumpTokens() throws {
    let command = try ConfigFixture().resolve(
      "t", userConfig: "User bob\nProxyCommand nc %h %p # %r\n")
    #expect(command.proxyCommand == "nc t 22 # bob")
    let jump = try ConfigFixture().resolve("t", userConfig: "User bob\nProxyJump %r@bastion\n")
    #expect(jump.proxyJump == [HopSpec(user: "bob", host: "bastion")])
  }

  @Test(arguments: [
    ("IdentityFile /k/%q", "invalid IdentityFile '/k/%q': unknown token %q"),
    ("IdentityFile /k/%", "invalid IdentityFile '/k/%': '%' at the end of the value"),
    (
      "IdentityFile ${NOPE}/k",
      "invalid IdentityFile '${NOPE}/k': environment variable 'NOPE' is not set"
    ),
    ("IdentityFile ${FWD_KEYS", "invalid IdentityFile '${FWD_KEYS': '${' without a closing '}'"),
    ("UserKnownHostsFile /kh/%x", "invalid UserKnownHostsFile '/kh/%x': unknown token %x"),
    ("HostName %p.example.org", "invalid HostName '%p.example.org': unknown token %p"),
    ("ProxyCommand nc %h %d", "invalid ProxyCommand 'nc %h %d': unknown token %d"),
    ("IdentityFile ~nobody/id", "invalid IdentityFile '~nobody/id': unknown user in '~'"),
  ])
  func badExpansionNamesLine(_ line: String, _ reason: String) throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage { _ = try fixture.resolve("t", userConfig: "\n\(line)\n") }
    #expect(message == "\(fixture.userConfigPath):2: \(reason)")
  }

  @Test func proxyCommandKeepsVariables() throws {
    let settings = try ConfigFixture().resolve("t", userConfig: "ProxyCommand echo ${HOME}\n")
    #expect(settings.proxyCommand == "echo ${HOME}")
  }
}
