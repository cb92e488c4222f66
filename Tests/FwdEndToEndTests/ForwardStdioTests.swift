import Foundation
import FwdLab
import Testing

/// `-W host:port`: standard input and output carried to one target, as an ssh ProxyCommand.
@Suite struct ForwardStdioTests {
  /// Quotes `text` for /bin/sh.
  static func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  @Test func sshLogsInThroughFwdProxyCommand() throws {
    let lab = try Lab()
    defer { lab.shutdown() }
    let config = lab.sshConfigPath
    let proxy = [FwdBinary.path, "-F", config, "-W", "%h:%p", "-J", "build", "sign"]
      .map(Self.shellQuoted).joined(separator: " ")
    let ssh = try FwdProcess(
      arguments: [
        "-F", config, "-o", "BatchMode=yes", "-o", "ProxyCommand=\(proxy)", "deep",
        "echo", "logged in through fwd",
      ],
      unsetEnvironment: ["SSH_AUTH_SOCK"], binary: "/usr/bin/ssh")
    #expect(try ssh.waitForExit(timeout: .seconds(60)) == 0, "ssh stderr: \(ssh.standardError)")
    #expect(ssh.standardOutput == "logged in through fwd\n")

    let deepPort = lab["deep"].port
    #expect(
      ForwardHarness.waitForLogLine(
        lab, "sign", containing: "server_request_direct_tcpip", "target 127.0.0.1 port \(deepPort)"),
      "sign's sshd carried the -W channel to deep")
    #expect(lab.log(of: "deep").contains("Accepted publickey for \(lab.userName)"))
  }

  @Test func standardInputReachesEchoAndBack() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let input = directory.file("input")
    let output = directory.file("output")
    let count = (1 << 20) + 17
    try Data(TestPattern.bytes(count: count)).write(to: URL(fileURLWithPath: input))

    // Both redirections make stdin reach EOF and keep the binary output out of a text pipe.
    let script = #"exec "$0" "$@" < "$FWD_TEST_INPUT" > "$FWD_TEST_OUTPUT""#
    let fwd = try FwdProcess(
      arguments: [
        "-c", script, FwdBinary.path, "-F", lab.sshConfigPath, "-J", "build", "sign",
        "-W", "127.0.0.1:\(lab.echoPort)",
      ],
      environment: ["FWD_TEST_INPUT": input, "FWD_TEST_OUTPUT": output],
      unsetEnvironment: ["SSH_AUTH_SOCK"], binary: "/bin/sh")
    #expect(try fwd.waitForExit(timeout: .seconds(30)) == 0, "stderr: \(fwd.standardError)")
    let echoed = try Data(contentsOf: URL(fileURLWithPath: output))
    #expect(echoed.count == count)
    #expect(SHA256.hex(of: echoed) == TestPattern.sha256(count: count))
    // Without -v, -W logs only errors, because stderr belongs to the program that runs fwd.
    #expect(fwd.standardError.isEmpty, "stderr: \(fwd.standardError)")
  }

  @Test func exitsAfterTargetClosesWithStdinOpen() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try FwdProcess(
      arguments: [
        "-F", lab.sshConfigPath, "-J", "build", "sign", "-W", "127.0.0.1:\(lab.demoPort)",
      ],
      unsetEnvironment: ["SSH_AUTH_SOCK"], standardInput: true)
    // The demo service replies to one line and shuts down its side, while stdin stays open.
    try fwd.writeToStandardInput("through -W\n")
    #expect(try fwd.waitForExit(timeout: .seconds(30)) == 0, "stderr: \(fwd.standardError)")
    #expect(fwd.standardOutput == "hello from the demo service on sign, you sent: through -W\n")
  }

  @Test func refusedTargetExits73() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let closedPort = try freePort()
    let fwd = try FwdProcess(
      arguments: [
        "-F", lab.sshConfigPath, "-J", "build", "sign", "-W", "127.0.0.1:\(closedPort)",
      ],
      unsetEnvironment: ["SSH_AUTH_SOCK"], standardInput: true)
    #expect(try fwd.waitForExit(timeout: .seconds(30)) == 73)
    #expect(
      fwd.standardError.contains("-W 127.0.0.1:\(closedPort)"), "stderr: \(fwd.standardError)")
    #expect(fwd.standardOutput.isEmpty)
  }
}
