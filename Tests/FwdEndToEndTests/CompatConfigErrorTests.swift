import Foundation
import FwdLab
import Testing

/// Malformed ssh_config lines through the built fwd: each gives one `fwd: FILE:LINE: reason`
/// line and exit status 78, and OpenSSH's ssh rejects the same line unless the case sets
/// `sshRejects` to false.
@Suite(
  .enabled(if: Compat.sshIsInstalled, "needs /usr/bin/ssh"),
  .enabled(if: Compat.fwdIsBuilt, "needs the built fwd: run swift build"))
struct CompatConfigErrorTests {
  struct Bad: CustomTestStringConvertible, Sendable {
    /// The line, written as line 3 of the config after `Host other` or `Host t` and a Port.
    let line: String
    /// The message after `FILE:3: `.
    let reason: String
    /// Whether the line sits in the block for the host resolved. Values are checked in every
    /// block; tokens, variables and unknown keywords only where resolution reaches them.
    var applies = false
    /// Whether ssh -G rejects the line too. fwd expands tokens and `${VARIABLE}` in
    /// ProxyCommand and IdentityFile when it resolves the host, where ssh -G prints them
    /// unexpanded.
    var sshRejects = true
    var testDescription: String { line }
  }

  static let cases: [Bad] = [
    Bad(line: "Foo bar", reason: "unknown keyword 'Foo'"),
    Bad(line: "Port", reason: "no argument after keyword 'Port'"),
    Bad(line: "Port x", reason: "invalid Port 'x': not a number 1-65535"),
    Bad(line: "Port 0", reason: "invalid Port '0': not a number 1-65535"),
    Bad(line: "Port 70000", reason: "invalid Port '70000': not a number 1-65535"),
    Bad(line: "Port 22 23", reason: "unexpected argument '23' after the Port value"),
    Bad(line: "BatchMode maybe", reason: "invalid BatchMode value 'maybe': expected yes or no"),
    Bad(line: "TCPKeepAlive 1", reason: "invalid TCPKeepAlive value '1': expected yes or no"),
    Bad(
      line: "GatewayPorts clientspecified",
      reason: "invalid GatewayPorts value 'clientspecified': expected yes or no"),
    Bad(
      line: "StrictHostKeyChecking sometimes",
      reason: "invalid StrictHostKeyChecking value 'sometimes': expected one of accept-new, "
        + "ask, false, no, off, true, yes"),
    Bad(
      line: "AddressFamily ipv4",
      reason: "invalid AddressFamily value 'ipv4': expected one of any, inet, inet6"),
    Bad(
      line: "LogLevel loud",
      reason: "invalid LogLevel value 'loud': expected one of debug, debug1, debug2, debug3, "
        + "error, fatal, info, quiet, silent, verbose"),
    Bad(
      line: "ConnectionAttempts x",
      reason: "invalid ConnectionAttempts 'x': not a whole number 0-2147483647"),
    Bad(
      line: "ConnectionAttempts 0", reason: "invalid ConnectionAttempts '0': must be at least 1",
      applies: true),
    Bad(
      line: "ServerAliveCountMax many",
      reason: "invalid ServerAliveCountMax 'many': not a whole number 0-2147483647"),
    Bad(
      line: "ConnectTimeout 5x",
      reason: "invalid ConnectTimeout '5x': expected seconds or a time such as 1m30s, or none"),
    Bad(
      line: "ServerAliveInterval -5",
      reason:
        "invalid ServerAliveInterval '-5': expected seconds or a time such as 1m30s, or none"),
    Bad(line: "IdentityFile \"abc", reason: "unterminated quote in '\"abc'"),
    Bad(
      line: "LocalForward 8080",
      reason: "invalid LocalForward '8080': expected [bind_address:]port host:hostport"),
    Bad(
      line: "LocalForward x h:1",
      reason: "invalid LocalForward 'x h:1': listen port 'x' is not a number 0-65535"),
    Bad(
      line: "LocalForward 8080 h:0",
      reason: "invalid LocalForward '8080 h:0': target port '0' is not a number 1-65535"),
    Bad(
      line: "RemoteForward x",
      reason: "invalid RemoteForward 'x': listen port 'x' is not a number 0-65535"),
    Bad(
      line: "DynamicForward x",
      reason: "invalid DynamicForward 'x': listen port 'x' is not a number 0-65535"),
    Bad(line: "ProxyJump a@", reason: "invalid ProxyJump hop 'a@': host is empty"),
    Bad(
      line: "ProxyJump a:99999",
      reason: "invalid ProxyJump hop 'a:99999': port '99999' is not a number 1-65535"),
    Bad(
      line: "ProxyJump [::1",
      reason: "invalid ProxyJump hop '[::1': missing ']' after the IPv6 address"),
    Bad(line: "Match foo bar", reason: "unsupported Match criterion 'foo'"),
    Bad(line: "Match host", reason: "missing argument for Match host"),
    Bad(line: "Match all host x", reason: "Match 'all' cannot be combined with other criteria"),
    Bad(line: "Host \"\"", reason: "empty pattern in Host"),
    Bad(line: "Include", reason: "no argument after keyword 'Include'"),
    Bad(line: "HostKeyAlias", reason: "no argument after keyword 'HostKeyAlias'"),
    Bad(line: "ProxyCommand", reason: "no argument after keyword 'ProxyCommand'"),
    Bad(
      line: "UserKnownHostsFile none /x", reason: "UserKnownHostsFile 'none' must appear alone"),
    Bad(
      line: "SendEnv A=B", reason: "invalid SendEnv name 'A=B': names must not contain '='"),
    Bad(
      line: "HostName %z", reason: "invalid HostName '%z': unknown token %z", applies: true),
    Bad(
      line: "UserKnownHostsFile ~/%z",
      reason: "invalid UserKnownHostsFile '~/%z': unknown token %z", applies: true),
    Bad(
      line: "ProxyCommand nc %z", reason: "invalid ProxyCommand 'nc %z': unknown token %z",
      applies: true, sshRejects: false),
    Bad(
      line: "IdentityFile ${FWD_UNSET_VARIABLE}",
      reason: "invalid IdentityFile '${FWD_UNSET_VARIABLE}': environment variable "
        + "'FWD_UNSET_VARIABLE' is not set",
      applies: true, sshRejects: false),
  ]

  @Test(arguments: cases)
  func malformedLineIsRejected(_ bad: Bad) throws {
    let directory = try CompatDirectory()
    let host = bad.applies ? "t" : "other"
    let file = try directory.write("config", "Host \(host)\n  Port 22\n\(bad.line)\n")
    let fwd = try Compat.run(["-G", "-F", file, "t"])
    #expect(fwd.status == 78)
    #expect(fwd.standardError == "fwd: \(file):3: \(bad.reason)\n")
    #expect(fwd.standardOutput.isEmpty)
    if bad.sshRejects {
      let ssh = try Compat.run(["-G", "-F", file, "t"], binary: Compat.ssh)
      #expect(ssh.status == 255, "ssh -G accepted it: \(ssh.standardOutput.prefix(80))")
    }
  }

  @Test func errorInIncludedFileNamesThatFile() throws {
    let directory = try CompatDirectory()
    let included = try directory.write("inc.conf", "Host *\n  Port 22\n  Port nope\n")
    let file = try directory.write("config", "Host other\n  Include \(included)\n")
    let fwd = try Compat.run(["-G", "-F", file, "t"])
    #expect(fwd.status == 78)
    #expect(fwd.standardError == "fwd: \(included):3: invalid Port 'nope': not a number 1-65535\n")
  }

  @Test func runWithoutDashGFailsTheSameWay() throws {
    let directory = try CompatDirectory()
    let file = try directory.write("config", "Host t\n  Port 22\n  Frobnicate yes\n")
    let fwd = try Compat.run(["-F", file, "-L", "0:127.0.0.1:9", "t"])
    #expect(fwd.status == 78)
    #expect(fwd.standardError == "fwd: \(file):3: unknown keyword 'Frobnicate'\n")
  }

  @Test func ignoreUnknownMustComeFirst() throws {
    let directory = try CompatDirectory()
    let before = try directory.write(
      "before", "IgnoreUnknown UseKeychain\nHost t\n  UseKeychain yes\n")
    #expect(try Compat.run(["-G", "-F", before, "t"]).status == 0)
    #expect(try Compat.run(["-G", "-F", before, "t"], binary: Compat.ssh).status == 0)

    let after = try directory.write(
      "after", "Host t\n  UseKeychain yes\nIgnoreUnknown UseKeychain\n")
    let fwd = try Compat.run(["-G", "-F", after, "t"])
    #expect(fwd.status == 78)
    #expect(fwd.standardError == "fwd: \(after):2: unknown keyword 'UseKeychain'\n")
    #expect(try Compat.run(["-G", "-F", after, "t"], binary: Compat.ssh).status == 255)

    // -o IgnoreUnknown is in force before the files are read, for jump hosts too.
    let options = ["-G", "-F", after, "-o", "IgnoreUnknown=UseKeychain"]
    #expect(try Compat.run(options + ["-J", "j", "t"]).status == 0)
    #expect(try Compat.run(options + ["t"], binary: Compat.ssh).status == 0)
  }

  @Test func unknownDashOKeyword() throws {
    let fwd = try Compat.run(["-G", "-F", "none", "-o", "Frobnicate=yes", "t"])
    #expect(fwd.status == 64)
    #expect(fwd.standardError == "fwd: invalid -o option 'Frobnicate=yes': unknown keyword 'Frobnicate'\n")

    let ignored = try Compat.run(
      ["-G", "-F", "none", "-o", "IgnoreUnknown=Frob*", "-o", "Frobnicate=yes", "t"])
    #expect(ignored.status == 0)
    #expect(ignored.standardOutput.contains("ignoreunknown Frob*\n"))
  }

  @Test func invalidDashOValue() throws {
    let fwd = try Compat.run(["-G", "-F", "none", "-o", "Port=x", "t"])
    #expect(fwd.status == 64)
    #expect(fwd.standardError == "fwd: invalid -o option 'Port=x': invalid Port 'x': not a number 1-65535\n")
  }

  /// Keywords that ssh accepts and fwd does not use load silently, with one debug1 note per
  /// keyword however many lines and hops use it.
  @Test func ignoredKeywordsNotedOnceAtDashV() throws {
    let directory = try CompatDirectory()
    let file = try directory.write(
      "config",
      """
      Host *
        ForwardAgent yes
        ControlMaster auto
      Host j
        ForwardAgent no
      Host t
        forwardagent yes
      """)
    let quiet = try Compat.run(["-G", "-F", file, "-J", "j", "t"])
    #expect(quiet.status == 0)
    #expect(quiet.standardError.isEmpty)

    let verbose = try Compat.run(["-G", "-v", "-F", file, "-o", "Compression=yes", "-J", "j", "t"])
    #expect(verbose.status == 0)
    let notes = Compat.lines(verbose.standardError).filter { $0.contains("which fwd does not use") }
    #expect(
      notes == [
        "fwd: debug1: config: \(file):2: ignoring ForwardAgent, which fwd does not use",
        "fwd: debug1: config: \(file):3: ignoring ControlMaster, which fwd does not use",
        "fwd: debug1: config: -o: ignoring Compression, which fwd does not use",
      ])
  }
}
