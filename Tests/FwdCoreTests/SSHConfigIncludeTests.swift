import Foundation
import Testing

@testable import FwdCore

/// Include, nesting and the owner and permission checks.
@Suite struct SSHConfigIncludeTests {
  @Test func relativeUserIncludeUsesDotSSH() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/extra.conf", "Port 7\n")
    #expect(try fixture.resolve("t", userConfig: "Include extra.conf\n").port == 7)
  }

  @Test func relativeSystemIncludeUsesSystemDirectory() throws {
    let fixture = try ConfigFixture()
    try fixture.write("etc/ssh_config.d/10-port.conf", "Port 7\n")
    try fixture.write(fixture.systemConfigPath, "Include ssh_config.d/*.conf\n")
    #expect(try fixture.load().resolve(host: "t").port == 7)
  }

  @Test func relativeIncludeFromDashFUsesDotSSH() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/extra.conf", "Port 7\n")
    let custom = try fixture.write("elsewhere/custom.conf", "Include extra.conf\n")
    #expect(try fixture.load(configFile: custom).resolve(host: "t").port == 7)
  }

  @Test func globIncludeIsSorted() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/conf.d/20-b.conf", "Port 20\nUser b\n")
    try fixture.write("home/.ssh/conf.d/10-a.conf", "Port 10\n")
    try fixture.write("home/.ssh/conf.d/30-c.other", "User c\n")
    let settings = try fixture.resolve("t", userConfig: "Include conf.d/*.conf\n")
    #expect(settings.port == 10)
    #expect(settings.user == "b")
  }

  @Test func includeTildeAndAbsolutePaths() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/one.conf", "Port 1\n")
    let absolute = try fixture.write("two.conf", "User two\n")
    let settings = try fixture.resolve("t", userConfig: "Include ~/one.conf \(absolute)\n")
    #expect(settings.port == 1)
    #expect(settings.user == "two")
  }

  @Test func includeMatchingNothingIsFine() throws {
    let settings = try ConfigFixture().resolve("t", userConfig: "Include nothing/*.conf\nPort 3\n")
    #expect(settings.port == 3)
  }

  @Test func tildeIncludeInSystemConfigRejected() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.systemConfigPath, "Include ~/x.conf\n")
    #expect(
      fixture.errorMessage { _ = try fixture.load() }
        == "\(fixture.systemConfigPath):1: Include path '~/x.conf' starts with '~', which only "
        + "user config files may use")
  }

  @Test func includeInHostBlockIsScoped() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/web.conf", "Port 8080\nHost *\n  User from-include\n")
    let text = "Host web\n  Include web.conf\n  User web-user\nHost *\n  User default\n"
    let web = try fixture.resolve("web", userConfig: text)
    #expect(web.port == 8080)
    // The included `Host *` block does not leak out: after the Include the including block's
    // state is restored, and `User web-user` comes first.
    #expect(web.user == "from-include")
    let other = try fixture.resolve("db", userConfig: text)
    #expect(other.port == 22)
    #expect(other.user == "default")
  }

  @Test func includeRestoresBlockState() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/other.conf", "Host nomatch\n  Port 1\n")
    let settings = try fixture.resolve("t", userConfig: "Include other.conf\nUser after\n")
    #expect(settings.user == "after")
  }

  @Test func inactiveIncludesAreStillChecked() throws {
    let fixture = try ConfigFixture()
    let included = try fixture.write("home/.ssh/bad.conf", "Port nope\n")
    #expect(
      fixture.errorMessage {
        _ = try fixture.resolve("t", userConfig: "Host other\n  Include bad.conf\n")
      }
        == "\(included):1: invalid Port 'nope': not a number 1-65535")
  }

  @Test func inactiveIncludesNeverApply() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/inner.conf", "Host *\n  Port 1\nMatch all\n  User inner\n")
    let settings = try fixture.resolve("t", userConfig: "Host other\n  Include inner.conf\n")
    #expect(settings.port == 22)
    #expect(settings.user == "tester")
  }

  @Test func nestedIncludesWork() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/a.conf", "Include b.conf\n")
    try fixture.write("home/.ssh/b.conf", "Include c.conf\n")
    try fixture.write("home/.ssh/c.conf", "Port 3\n")
    #expect(try fixture.resolve("t", userConfig: "Include a.conf\n").port == 3)
  }

  @Test func includeDepthLimit() throws {
    let fixture = try ConfigFixture()
    for level in 1...16 {
      try fixture.write("home/.ssh/level\(level).conf", "Include level\(level + 1).conf\n")
    }
    try fixture.write("home/.ssh/level17.conf", "Port 17\n")
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "Include level1.conf\n")
    }
    #expect(
      message
        == "\(fixture.home)/.ssh/level16.conf:1: Include nested more than 16 levels deep; check "
        + "for a file that includes itself")
    try fixture.write("home/.ssh/level16.conf", "Port 16\n")
    #expect(try fixture.resolve("t", userConfig: "Include level1.conf\n").port == 16)
  }

  @Test func selfIncludeHitsDepthLimit() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/loop.conf", "Include loop.conf\n")
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "Include loop.conf\n")
    }
    #expect(
      message?.hasSuffix(
        "Include nested more than 16 levels deep; check for a file that includes itself") == true)
  }

  @Test(arguments: [0o664, 0o646, 0o666, 0o622])
  func writableUserConfigIsRejected(_ mode: Int) throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "Port 1\n", mode: mode)
    #expect(
      fixture.errorMessage { _ = try fixture.load() }
        == "bad owner or permissions on \(fixture.userConfigPath): it must be owned by you or "
        + "root and not writable by group or others (chmod go-w \(fixture.userConfigPath))")
  }

  @Test func writableIncludeIsRejected() throws {
    let fixture = try ConfigFixture()
    let included = try fixture.write("home/.ssh/extra.conf", "Port 1\n", mode: 0o666)
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "Include extra.conf\n")
    }
    #expect(message?.hasPrefix("bad owner or permissions on \(included):") == true)
  }

  @Test func dashFAndSystemConfigUnchecked() throws {
    let fixture = try ConfigFixture()
    let custom = try fixture.write("custom.conf", "Port 1\n", mode: 0o666)
    #expect(try fixture.load(configFile: custom).resolve(host: "t").port == 1)
    try fixture.write(fixture.systemConfigPath, "Port 2\n", mode: 0o666)
    #expect(try fixture.load().resolve(host: "t").port == 2)
  }

  @Test(.enabled(if: getuid() == 0, "changing a file's owner needs root"))
  func foreignOwnerIsRejected() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "Port 1\n", mode: 0o600)
    #expect(chown(fixture.userConfigPath, 4242, 4242) == 0)
    let environment = ConfigEnvironment(
      homeDirectory: fixture.home, userName: "tester", userID: 1000, hostName: "ws",
      systemConfigFile: fixture.systemConfigPath)
    let message = fixture.errorMessage { _ = try SSHConfig.load(environment: environment) }
    #expect(message?.hasPrefix("bad owner or permissions on \(fixture.userConfigPath):") == true)
    #expect(chown(fixture.userConfigPath, 1000, 1000) == 0)
    #expect(try SSHConfig.load(environment: environment).resolve(host: "t").port == 1)
    #expect(chown(fixture.userConfigPath, 0, 0) == 0)
    #expect(try SSHConfig.load(environment: environment).resolve(host: "t").port == 1)
  }

  @Test func parsedTextReadsNoIncludedFile() throws {
    let fixture = try ConfigFixture()
    try fixture.write("home/.ssh/extra.conf", "Port 7\n")
    let config = try SSHConfig.parse(
      text: "Include extra.conf\nUser u\n", path: "text", environment: fixture.environment())
    let settings = try config.resolve(host: "t")
    #expect(settings.port == 22)
    #expect(settings.user == "u")
  }

  @Test func parsedTextStillChecksInclude() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try SSHConfig.parse(text: "Include \"\"\n", path: "text", environment: fixture.environment())
    }
    #expect(message == "text:1: empty path in Include")
  }
}
