import Foundation
import Testing

@testable import FwdCore

/// Inputs on which the fuzz targets in Fuzz/ failed, kept as base64 of the raw input file.
/// Each test states the invariant the target checks, so the fix stays fixed without
/// running the fuzzer.
@Suite struct FuzzRegressionTests {
  /// A config environment that looks up no accounts and runs no `Match exec` command.
  static let environment = ConfigEnvironment(
    homeDirectory: "/home/fuzz", userName: "fuzz", userID: 1000, hostName: "ws",
    homeDirectoryOfUser: { _ in nil }, runCommand: { _ in 1 })

  static func text(_ base64: String) -> String {
    String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
  }

  /// forward-spec: `-L` forwards whose text form lost escapes for `:` and `\` in paths
  /// and hosts, so the printed form parsed as a different forward or not at all.
  @Test(arguments: [
    "0YtcOpKSL2Z3ZC5zb2NrOmhPcHRpb25hbG9zMjoyMg==",
    "MTI6MC84XDrIZ2Eu",
    "NDoscnMnXDrMwv/pLw==",
    "CS9VOvEvXFxcXFZc09PT",
    "/1wvPclkOjY2XNZcXFxcXC89yWQy",
  ])
  func localForwardTextParsesBack(_ base64: String) throws {
    let forward = try LocalForwardSpec.parse(Self.text(base64))
    #expect(try LocalForwardSpec.parse(forward.description) == forward)
  }

  /// hop-spec: hops whose host contains a colon but printed without brackets because no
  /// port followed, so the text parsed with a port.
  @Test(arguments: ["Wzpd", "jkXgYEBbpDpd", "W3U6NjU3MzM1LHNzU3Vd"])
  func hopTextParsesBack(_ base64: String) throws {
    let hop = try HopSpec.parse(Self.text(base64))
    #expect(try HopSpec.parse(hop.description) == hop)
  }

  @Test func jumpListTextParsesBack() throws {
    let hops = try HopSpec.parseList(Self.text("dUBbaDA6Nl0sNTUzrzY="), label: "-J hop")
    let printed = hops.map(\.description).joined(separator: ",")
    #expect(try HopSpec.parseList(printed, label: "-J hop") == hops)
  }

  /// hop-spec: ssh:// hosts that kept an `@` (ssh:// splits at the first `@`, the plain
  /// form at the last) and hosts with brackets inside, which no text form can carry.
  @Test(arguments: [
    ("c3NoOi8vjUBAhls=", "contains '@'"),
    ("cyxFLEVbLFtzc2g6Ly9d", "host 'E[' contains '['"),
    ("YnUsdSxy5Sxzc2g6Ly86QEA=", "host '@' contains '@'"),
  ])
  func hopWithoutTextFormIsRejected(_ base64: String, _ reason: String) {
    do {
      _ = try HopSpec.parseList(Self.text(base64), label: "-J hop")
      Issue.record("expected an error")
    } catch {
      #expect(error.message.hasSuffix(reason), "\(error.message)")
    }
  }

  /// ssh-config: `ProxyJump` with `%n` names each jump host after the hop before it, so the
  /// names doubled with every hop and resolving 32 hops did not finish. The name limit of
  /// HopSpec ends the chain with an error instead.
  @Test func growingProxyJumpNamesFail() throws {
    let config = try SSHConfig.parse(
      text: Self.text("UHJveHlKdW1wIOJvYmQlbmRkZH4vU2VydmxvYmQlbmRkZH4vU2Vydg=="),
      path: "fuzz_config", environment: Self.environment)
    let invocation = Invocation(destination: HopSpec(host: "fuzz"))
    do {
      _ = try ChainPlan.resolve(invocation, config: config)
      Issue.record("expected an error")
    } catch {
      #expect(error.status == .configuration)
      #expect(error.message.hasSuffix("host is longer than 1024 bytes"), "\(error.message)")
    }
  }

  /// command-line: the same `%n` doubling through `-o ProxyJump=%n...`. A ProxyJump given with
  /// -o applies to the destination only, as in ssh, so the input resolves to one short chain
  /// and nothing doubles.
  @Test func jumpNamesFromOptionDoNotGrow() throws {
    let input = Self.text(
      "LW8AUG9SdD0xMTA0AC1vAFByb3h5SnVtcD0lbi06OmaNjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NOo2NjY2N"
        + "jY2NjY2JjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY15SnVtcD0l"
        + "bi06OmaNjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY06jY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2N"
        + "jY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NZCxiAC02AGRl")
    // As in the target: arguments end with NUL, and a final NUL ends the last one.
    let body = input.hasSuffix("\0") ? String(input.dropLast()) : input
    let arguments = body.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
    guard case .run(let invocation) = try ParsedCommand.parse(arguments) else {
      Issue.record("expected a run command")
      return
    }
    let plan = try ChainPlan.resolve(
      invocation, config: SSHConfig(files: [], environment: Self.environment))
    #expect(plan.hops.count <= 3, "\(plan.hops.map(\.name))")
    for hop in plan.hops { #expect(hop.name.utf8.count <= 1024) }
  }
}
