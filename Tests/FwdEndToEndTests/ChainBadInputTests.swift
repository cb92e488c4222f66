import FwdLab
import Testing

/// A command line that cannot run. Apart from its one fault, each is a valid fwd command line
/// against a lab.
enum BadInput: String, CaseIterable, Sendable, CustomTestStringConvertible {
  case forwardWithoutTarget
  case forwardWithNonNumericPort
  case forwardWithPortOutOfRange
  case unresolvableHop
  case hopRefusingConnections
  case innerHopRefusingConnections
  case unauthorizedUserKey

  var testDescription: String { rawValue }

  /// The exit status that ExitStatus.swift documents for this failure.
  var expectedStatus: Int32 {
    switch self {
    case .forwardWithoutTarget, .forwardWithNonNumericPort, .forwardWithPortOutOfRange: 64
    case .unresolvableHop, .hopRefusingConnections, .innerHopRefusingConnections: 69
    case .unauthorizedUserKey: 77
    }
  }

  /// Runs fwd with the fault and returns how it ended, with the texts its error line must
  /// contain to name the values at fault.
  func run(in lab: Lab) throws -> (run: FinishedFwd, namedValues: [String]) {
    let echoForward = ["-L", "0:127.0.0.1:\(lab.echoPort)"]
    switch self {
    case .forwardWithoutTarget:
      return (try ChainHarness.runToExit(lab, ["-J", "build", "sign", "-L", "4444"]), ["'4444'"])
    case .forwardWithNonNumericPort:
      return (try ChainHarness.runToExit(lab, ["-J", "build", "sign", "-L", "a:b:c"]), ["'a:b:c'"])
    case .forwardWithPortOutOfRange:
      return (
        try ChainHarness.runToExit(lab, ["-J", "build", "sign", "-L", "70000:h:1"]), ["70000"]
      )
    case .unresolvableHop:
      let name = ChainHarness.unresolvableHostName
      return (try ChainHarness.runToExit(lab, ["-J", name, "sign"] + echoForward), [name])
    case .hopRefusingConnections:
      // Nothing listens on a port that was just free. Another process could take it in
      // between, but it would not speak SSH either, so fwd would still fail with 69.
      let port = try freePort()
      let run = try ChainHarness.runToExit(
        lab, ["-J", "127.0.0.1:\(port)", "sign"] + echoForward)
      return (run, ["127.0.0.1:\(port)"])
    case .innerHopRefusingConnections:
      // build's sshd gets "connection refused" for the second hop. With -q the info line
      // about build's session stays out, so the only line left is the error.
      let port = try freePort()
      let run = try ChainHarness.runToExit(
        lab, ["-q", "-J", "build", "127.0.0.1:\(port)"] + echoForward)
      return (run, ["127.0.0.1:\(port)", "build"])
    case .unauthorizedUserKey:
      let stranger = try lab.makeUserKey(named: "stranger")
      let config = try lab.writeSSHConfig(named: "ssh_config_no_identity", identityFile: "")
      let run = try ChainHarness.runToExit(
        lab, config: config,
        ["-o", "IdentitiesOnly=yes", "-i", stranger.privateKeyPath, "-J", "build", "sign"]
          + echoForward)
      return (run, ["build", stranger.privateKeyPath])
    }
  }
}

/// Each bad command line ends fwd with one stderr line that names the value at fault, and
/// with the exit status documented for its failure class.
@Suite struct ChainBadInputTests {
  @Test(arguments: BadInput.allCases)
  func badInputGivesOneLineAndStatus(_ input: BadInput) throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }

    let (run, namedValues) = try input.run(in: lab)
    #expect(run.status == input.expectedStatus, "stderr: \(run.standardError)")
    #expect(run.standardOutput.isEmpty)
    #expect(run.errorLines.count == 1, "stderr: \(run.standardError)")
    let line = try #require(run.errorLines.first)
    #expect(line.hasPrefix("fwd: "), "\(line)")
    // `fwd: <context>: <what failed>: <reason>` has at least one ": " after the prefix.
    #expect(line.dropFirst("fwd: ".count).contains(": "), "\(line)")
    for value in namedValues {
      #expect(line.contains(value), "\(line) does not name \(value)")
    }
  }
}
