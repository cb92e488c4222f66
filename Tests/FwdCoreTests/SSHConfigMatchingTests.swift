import Foundation
import Testing

@testable import FwdCore

/// Host patterns, negation and Match criteria.
@Suite struct SSHConfigMatchingTests {
  @Test(arguments: [
    ("web1", 1), ("db.internal", 1), ("cache", 2), ("mail", 22),
  ])
  func hostLineWithSeveralPatterns(_ host: String, _ port: Int) throws {
    let settings = try ConfigFixture().resolve(
      host,
      userConfig: """
        Host web? *.internal
          Port 1
        Host cache
          Port 2
        """)
    #expect(settings.port == port)
  }

  @Test(arguments: [("web", "everyone"), ("bastion", "tester")])
  func negatedPatternExcludesBlock(_ host: String, _ user: String) throws {
    let settings = try ConfigFixture().resolve(
      host, userConfig: "Host * !bastion\n  User everyone\n")
    #expect(settings.user == user)
  }

  @Test func negatedPatternAloneMatchesNothing() throws {
    let settings = try ConfigFixture().resolve("web", userConfig: "Host !bastion\n  User x\n")
    #expect(settings.user == "tester")
  }

  @Test func hostMatchIsCaseSensitive() throws {
    let text = "Host Build\n  Port 1\nHost build\n  Port 2\n"
    #expect(try ConfigFixture().resolve("Build", userConfig: text).port == 1)
    #expect(try ConfigFixture().resolve("build", userConfig: text).port == 2)
    #expect(try ConfigFixture().resolve("BUILD", userConfig: text).port == 22)
  }

  @Test func hostLinesIgnoreHostName() throws {
    let settings = try ConfigFixture().resolve(
      "alias",
      userConfig: """
        Host alias
          HostName real.example.org
        Host real.example.org
          Port 2
        """)
    #expect(settings.hostName == "real.example.org")
    #expect(settings.port == 22)
  }

  @Test func linesBeforeFirstHostApplyToAll() throws {
    let settings = try ConfigFixture().resolve(
      "any", userConfig: "User early\nHost other\n  User late\n")
    #expect(settings.user == "early")
  }

  @Test func matchAll() throws {
    let settings = try ConfigFixture().resolve(
      "x", userConfig: "Host nothing\n  Port 1\nMatch all\n  Port 2\n")
    #expect(settings.port == 2)
  }

  @Test(arguments: [("alias", 7), ("other", 22)])
  func matchHostUsesHostNameIgnoringCase(_ host: String, _ port: Int) throws {
    let settings = try ConfigFixture().resolve(
      host,
      userConfig: """
        Host alias
          HostName Real.Example.ORG
        Match host *.example.org
          Port 7
        """)
    #expect(settings.port == port)
  }

  @Test func matchOriginalHostUsesTypedName() throws {
    let settings = try ConfigFixture().resolve(
      "Alias",
      userConfig: """
        Host Alias
          HostName real
        Match originalhost alias
          Port 7
        Match originalhost real
          User wrong
        """)
    #expect(settings.port == 7)
    #expect(settings.user == "tester")
  }

  @Test func matchUserSeesUserSetEarlier() throws {
    let text = """
      Host t
        User deploy
      Match user deploy,ops
        Port 7
      Match user tester
        Port 8
      """
    #expect(try ConfigFixture().resolve("t", userConfig: text).port == 7)
    #expect(try ConfigFixture().resolve("u", userConfig: text).port == 8)
  }

  @Test func matchUserSeesCommandLineUser() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "Match user bob\n  Port 7\n")
    let settings = try fixture.load().resolve(
      HopSpec(host: "t"), commandLine: HostCommandLine(loginName: "bob"))
    #expect(settings.port == 7)
    #expect(settings.user == "bob")
  }

  @Test func matchLocalUser() throws {
    let text = "Match localuser test*\n  Port 7\nMatch localuser !tester\n  User x\n"
    let settings = try ConfigFixture().resolve("t", userConfig: text)
    #expect(settings.port == 7)
    #expect(settings.user == "tester")
  }

  @Test func negatedMatchCriterion() throws {
    let settings = try ConfigFixture().resolve(
      "web", userConfig: "Match !host bastion\n  Port 7\n")
    #expect(settings.port == 7)
  }

  @Test func matchExecUsesExitStatus() throws {
    let text = """
      Match exec "test %h = web"
        Port 7
      Match exec false
        User never
      """
    #expect(try ConfigFixture().resolve("web", userConfig: text).port == 7)
    #expect(try ConfigFixture().resolve("db", userConfig: text).port == 22)
    #expect(try ConfigFixture().resolve("web", userConfig: text).user == "tester")
  }

  @Test func matchExecExpandsTokens() throws {
    let commands = CommandLog()
    let fixture = try ConfigFixture()
    try fixture.write(
      fixture.userConfigPath,
      "Host t\n  User bob\n  Port 2200\nMatch exec \"check %h %p %r %n %u %%\"\n")
    let environment = fixture.environment { command in
      commands.append(command)
      return 0
    }
    _ = try SSHConfig.load(environment: environment).resolve(host: "t")
    #expect(commands.all == ["check t 2200 bob t tester %"])
  }

  @Test func execSkippedAfterFailedCriterion() throws {
    let commands = CommandLog()
    let fixture = try ConfigFixture()
    try fixture.write(
      fixture.userConfigPath, "Match host nomatch exec first\nMatch host t exec second\n")
    let environment = fixture.environment { command in
      commands.append(command)
      return 1
    }
    _ = try SSHConfig.load(environment: environment).resolve(host: "t")
    #expect(commands.all == ["second"])
  }

  @Test func execWithoutExitIsError() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "\nMatch exec crash\n")
    let environment = fixture.environment { _ in nil }
    let message = fixture.errorMessage {
      _ = try SSHConfig.load(environment: environment).resolve(host: "t")
    }
    #expect(message == "\(fixture.userConfigPath):2: Match exec 'crash' did not exit normally")
  }

  @Test func matchFinalAppliesInSecondPass() throws {
    let settings = try ConfigFixture().resolve(
      "alias",
      userConfig: """
        Host alias
          HostName REAL.example.org
        Match !final
          IdentityFile /first-pass
        Match final
          Port 7
        Host real.example.org
          User resolved
        Match canonical host real.example.org
          IdentityFile /canonical
        """)
    #expect(settings.port == 7)
    #expect(settings.user == "resolved")
    #expect(settings.hostName == "real.example.org")
    #expect(settings.identityFiles == ["/first-pass", "/canonical"])
  }

  @Test func withoutMatchFinalOnePass() throws {
    let settings = try ConfigFixture().resolve(
      "alias",
      userConfig: """
        Host alias
          HostName real
        Host real
          User resolved
        Match canonical
          Port 7
        """)
    #expect(settings.user == "tester")
    #expect(settings.port == 22)
  }

  @Test func canonicalizeTriggersSecondPass() throws {
    let settings = try ConfigFixture().resolve(
      "alias",
      userConfig:
        "CanonicalizeHostname yes\nHost alias\n  HostName real\nMatch canonical\n  Port 7\n")
    #expect(settings.port == 7)
  }

  @Test func inactiveMatchFinalStillRequestsSecondPass() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/final.conf", "Match final\n  User never\n")
    let settings = try fixture.resolve(
      "t", userConfig: "Host other\n  Include final.conf\nMatch canonical\n  Port 7\n")
    #expect(settings.port == 7)
    #expect(settings.user == "tester")
  }
}

/// Records `Match exec` commands from a test's fake runner.
final class CommandLog: @unchecked Sendable {
  private let lock = NSLock()
  private var commands: [String] = []

  func append(_ command: String) {
    lock.lock()
    commands.append(command)
    lock.unlock()
  }

  var all: [String] {
    lock.lock()
    defer { lock.unlock() }
    return commands
  }
}
