import Testing

@testable import FwdCore

/// Unknown keywords, IgnoreUnknown and malformed values, reported as `FILE:LINE: ...`.
@Suite struct SSHConfigErrorTests {
  @Test func unknownKeywordNamesLine() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "Port 22\n\nHost other\n  Frobnicate yes\n")
    }
    #expect(message == "\(fixture.userConfigPath):4: unknown keyword 'Frobnicate'")
  }

  @Test func unknownKeywordStatus() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "Frobnicate yes\n")
    do {
      _ = try fixture.load().resolve(host: "t")
      Issue.record("expected an error")
    } catch {
      #expect(error.status == .configuration)
    }
  }

  @Test func ignoreUnknownSkipsKeyword() throws {
    let settings = try ConfigFixture().resolve(
      "t", userConfig: "IgnoreUnknown Frob*,UseKeychain\nFrobnicate yes\nUseKeychain yes\nPort 2\n")
    #expect(settings.port == 2)
    #expect(settings.ignoreUnknown == "Frob*,UseKeychain")
  }

  @Test func ignoreUnknownIsCaseInsensitive() throws {
    let settings = try ConfigFixture().resolve(
      "t", userConfig: "IgnoreUnknown usekeychain\nUseKeychain yes\n")
    #expect(settings.ignoreUnknown == "usekeychain")
  }

  @Test func lateIgnoreUnknownIsTooLate() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "UseKeychain yes\nIgnoreUnknown UseKeychain\n")
    }
    #expect(message == "\(fixture.userConfigPath):1: unknown keyword 'UseKeychain'")
  }

  @Test func inactiveIgnoreUnknownDoesNotApply() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "Host other\n  IgnoreUnknown Frob\nFrob 1\n")
    }
    #expect(message == "\(fixture.userConfigPath):3: unknown keyword 'Frob'")
  }

  @Test func commandLineIgnoreUnknownApplies() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "UseKeychain yes\n")
    let commandLine = HostCommandLine(
      options: [ConfigOption(keyword: "IgnoreUnknown", value: "UseKeychain")])
    let settings = try fixture.load().resolve(HopSpec(host: "t"), commandLine: commandLine)
    #expect(settings.ignoreUnknown == "UseKeychain")
    let jumpSide = HostCommandLine(
      options: [ConfigOption(keyword: "IgnoreUnknown", value: "UseKeychain")],
      precedence: .underConfig)
    _ = try fixture.load().resolve(HopSpec(host: "j"), commandLine: jumpSide)
  }

  struct BadValue: CustomTestStringConvertible, Sendable {
    let line: String
    let reason: String
    var testDescription: String { line }
  }

  static let badValues: [BadValue] = [
    BadValue(line: "Port 0", reason: "invalid Port '0': not a number 1-65535"),
    BadValue(line: "Port 65536", reason: "invalid Port '65536': not a number 1-65535"),
    BadValue(line: "Port ssh", reason: "invalid Port 'ssh': not a number 1-65535"),
    BadValue(line: "Port 22 23", reason: "unexpected argument '23' after the Port value"),
    BadValue(line: "Port", reason: "no argument after keyword 'Port'"),
    BadValue(line: "Port # nothing", reason: "missing argument for Port"),
    BadValue(
      line: "BatchMode maybe", reason: "invalid BatchMode value 'maybe': expected yes or no"),
    BadValue(
      line: "StrictHostKeyChecking sometimes",
      reason: "invalid StrictHostKeyChecking value 'sometimes': expected one of accept-new, ask, "
        + "false, no, off, true, yes"),
    BadValue(
      line: "AddressFamily ipx",
      reason: "invalid AddressFamily value 'ipx': expected one of any, inet, inet6"),
    BadValue(
      line: "ConnectTimeout 5x",
      reason: "invalid ConnectTimeout '5x': expected seconds or a time such as 1m30s, or none"),
    BadValue(
      line: "ConnectionAttempts -1",
      reason: "invalid ConnectionAttempts '-1': not a whole number 0-2147483647"),
    BadValue(line: "User \"unterminated", reason: "unterminated quote in '\"unterminated'"),
    BadValue(line: "SendEnv A=B", reason: "invalid SendEnv name 'A=B': names must not contain '='"),
    BadValue(
      line: "UserKnownHostsFile none /x", reason: "UserKnownHostsFile 'none' must appear alone"),
    BadValue(
      line: "LocalForward 8080:localhost:80",
      reason: "invalid LocalForward '8080:localhost:80': expected [bind_address:]port host:hostport"
    ),
    BadValue(
      line: "LocalForward 8080 localhost:0",
      reason: "invalid LocalForward '8080 localhost:0': target port '0' is not a number 1-65535"),
    BadValue(
      line: "DynamicForward 1080 extra",
      reason: "invalid DynamicForward '1080 extra': expected [bind_address:]port"),
    BadValue(line: "ProxyJump a@", reason: "invalid ProxyJump hop 'a@': host is empty"),
    BadValue(
      line: "ProxyJump a,,b",
      reason: "invalid ProxyJump hop list 'a,,b': hop 2 of 3 is empty; separate hops with single "
        + "commas and no comma at either end"),
    BadValue(
      line: "Ciphers ^,",
      reason: "invalid Ciphers '^,': expected a comma-separated list"),
    BadValue(
      line: "IdentityAgent $BAD-NAME",
      reason: "invalid environment variable name in IdentityAgent '$BAD-NAME'"),
    BadValue(line: "Host \"\"", reason: "empty pattern in Host"),
    BadValue(line: "Match", reason: "no argument after keyword 'Match'"),
    BadValue(line: "Match host", reason: "missing argument for Match host"),
    BadValue(line: "Match tagged x", reason: "unsupported Match criterion 'tagged'"),
    BadValue(
      line: "Match host x user y all", reason: "Match 'all' cannot be combined with other criteria"),
    BadValue(
      line: "Match all host x", reason: "Match 'all' cannot be combined with other criteria"),
    BadValue(line: "Include \"\"", reason: "empty path in Include"),
  ]

  @Test(arguments: badValues)
  func malformedValueNamesLine(_ item: BadValue) throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "# first line\n\(item.line)\n")
    }
    #expect(message == "\(fixture.userConfigPath):2: \(item.reason)")
  }

  @Test func matchAllAfterOneCriterion() throws {
    let settings = try ConfigFixture().resolve("x", userConfig: "Match host x all\n  Port 7\n")
    #expect(settings.port == 7)
  }

  @Test func inactiveMalformedValueFails() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "Host nowhere\n  Port 99999\n")
    }
    #expect(message == "\(fixture.userConfigPath):2: invalid Port '99999': not a number 1-65535")
  }

  @Test func connectionAttemptsZeroRejected() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage {
      _ = try fixture.resolve("t", userConfig: "ConnectionAttempts 0\n")
    }
    #expect(
      message == "\(fixture.userConfigPath):1: invalid ConnectionAttempts '0': must be at least 1")
  }

  @Test func optionErrorsAreUsageErrors() throws {
    let fixture = try ConfigFixture()
    let commandLine = HostCommandLine(options: [ConfigOption(keyword: "Host", value: "x")])
    do {
      _ = try fixture.load().resolve(HopSpec(host: "t"), commandLine: commandLine)
      Issue.record("expected an error")
    } catch {
      #expect(error.status == .usage)
      #expect(error.message == "invalid -o option 'Host=x': Host is only allowed in config files")
    }
  }
}
