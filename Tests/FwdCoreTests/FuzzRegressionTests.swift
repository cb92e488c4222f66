import Foundation
import Testing

@testable import FwdCore

/// Inputs on which the fuzz targets in Fuzz/ failed, kept as base64 of the raw input file.
/// Each test states the invariant the target checks, so the fix stays fixed without
/// running the fuzzer.
@Suite struct FuzzRegressionTests {
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
}
