import Foundation
import FwdLab
import Glibc
import Testing

/// Tests of the lab itself, driven by OpenSSH's own ssh client, so the lab is known to work
/// before fwd is tested against it.
@Suite struct LabTests {
  static let ssh = "/usr/bin/ssh"

  /// Starts `ssh -F CONFIG -N -L ...` with `arguments` and waits until it listens on `ports`.
  static func startSSHForwards(config: String, arguments: [String], ports: [Int]) throws
    -> FwdProcess
  {
    let process = try FwdProcess(
      arguments: [
        "-F", config, "-v", "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
      ]
        + arguments,
      unsetEnvironment: ["SSH_AUTH_SOCK"], binary: ssh)
    for port in ports {
      let line = "Local forwarding listening on 127.0.0.1 port \(port)."
      guard process.waitForStandardError(containing: line, timeout: .seconds(20)) else {
        throw LabError("ssh did not report '\(line)': \(process.standardError)")
      }
      // ssh prints the line before it calls bind and listen, so a connect right after it can
      // be refused.
      guard waitForListener(port: port, timeout: .seconds(10)) else {
        throw LabError("ssh reported '\(line)' but 127.0.0.1:\(port) never listened")
      }
    }
    return process
  }

  /// Waits until /proc/net/tcp shows a socket listening on 127.0.0.1:`port`.
  static func waitForListener(port: Int, timeout: Duration) -> Bool {
    // Local address as the kernel prints it (127.0.0.1 in host byte order, then the port),
    // and state 0A, TCP_LISTEN.
    let local = "0100007F:" + String(format: "%04X", port)
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
      for row in table.split(separator: "\n").dropFirst() {
        let fields = row.split(separator: " ")
        if fields.count > 3, fields[1] == local, fields[3] == "0A" { return true }
      }
      usleep(10_000)
    }
    return false
  }

  /// Runs `ssh -F CONFIG ARGUMENTS true` and returns its exit status and stderr.
  static func runSSH(config: String, _ arguments: [String], environment: [String: String] = [:])
    throws -> (status: Int32, errors: String)
  {
    let process = try FwdProcess(
      arguments: ["-F", config, "-o", "BatchMode=yes"] + arguments + ["true"],
      environment: environment, unsetEnvironment: ["SSH_AUTH_SOCK"], binary: ssh)
    let status = try process.waitForExit(timeout: .seconds(30))
    return (status, process.standardError)
  }

  @Test func sha256MatchesSha256sum() throws {
    let directory = NSTemporaryDirectory() + "fwd-lab-sha-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for length in [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000, (1 << 20) + 3] {
      let bytes = TestPattern.bytes(count: length)
      let path = "\(directory)/\(length)"
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let tool = try FwdProcess(arguments: [path], binary: "/usr/bin/sha256sum")
      #expect(try tool.waitForExit() == 0)
      let expected = String(tool.standardOutput.prefix(64))
      #expect(SHA256.hex(of: bytes) == expected, "length \(length)")
      #expect(TestPattern.sha256(count: length) == expected, "pattern length \(length)")

      var streamed = SHA256()
      for chunk in stride(from: 0, to: length, by: 37) {
        streamed.update(bytes[chunk..<min(length, chunk + 37)])
      }
      #expect(streamed.hexDigest() == expected, "streamed length \(length)")
    }
  }

  @Test func labStartsDefaultHosts() throws {
    let lab = try Lab()
    defer { lab.shutdown() }
    #expect(lab.hosts.map(\.name) == ["build", "sign", "deep"])
    #expect(Set(lab.hosts.map(\.port)).count == 3)
    for host in lab.hosts {
      #expect(host.isRunning, "\(host.name)")
      #expect(host.address == "127.0.0.1")
      #expect(Set(host.hostKeys.map(\.publicKey)).count == 3)
    }
    #expect(lab["build"].hostKeys[0].publicKey != lab["sign"].hostKeys[0].publicKey)
    let knownHosts = try String(contentsOfFile: lab.knownHostsPath, encoding: .utf8)
    #expect(knownHosts.split(separator: "\n").count == 9)
    #expect(knownHosts.contains("[127.0.0.1]:\(lab["sign"].port) ssh-ed25519 "))
    let config = try String(contentsOfFile: lab.sshConfigPath, encoding: .utf8)
    #expect(config.contains("Host deep\n  HostName 127.0.0.1\n  Port \(lab["deep"].port)\n"))
  }

  @Test func sshJumpCarriesServicesThroughTwoHops() throws {
    let lab = try Lab()
    let (echoPort, sinkPort, sourcePort) = (try freePort(), try freePort(), try freePort())
    let ssh = try Self.startSSHForwards(
      config: lab.sshConfigPath,
      arguments: [
        "-J", "build", "sign",
        "-L", "\(echoPort):127.0.0.1:\(lab.echoPort)",
        "-L", "\(sinkPort):127.0.0.1:\(lab.sinkPort)",
        "-L", "\(sourcePort):127.0.0.1:\(lab.sourcePort)",
      ],
      ports: [echoPort, sinkPort, sourcePort])

    #expect(try LabClient.echo(port: echoPort, bytes: 3 << 20) == 3 << 20)
    let payload = Array("half-close passes through\n".utf8)
    #expect(try LabClient.halfCloseExchange(port: echoPort, payload: payload) == payload)

    let count = 8 << 20
    let upload = try LabClient.upload(port: sinkPort, count: count)
    #expect(upload.received.count == count)
    #expect(upload.received == upload.sent)
    #expect(upload.sent.sha256 == LabClient.expectedSourceSHA256(count: count))

    let download = try LabClient.download(port: sourcePort, count: count + 5)
    #expect(download.count == count + 5)
    #expect(download.firstMismatch == nil)
    #expect(download.sha256 == LabClient.expectedSourceSHA256(count: count + 5))

    #expect(
      lab["sign"].waitForLog(containing: "target 127.0.0.1 port \(lab.sinkPort)"),
      "sign's sshd log shows the direct-tcpip open to the sink")
    #expect(lab.log(of: "build").contains("target 127.0.0.1 port \(lab["sign"].port)"))

    // Per-connection processes exist now, and shutdown must end them with the listeners.
    let pids = lab.processIDs()
    #expect(pids.count > lab.hosts.count)
    lab.shutdown()
    for pid in pids {
      #expect(!ProcessTree.isAlive(pid), "sshd process \(pid) still runs after shutdown")
    }
    #expect(try ssh.waitForExit(timeout: .seconds(10)) != 0)
  }

  @Test func hostProcessControl() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let build = lab["build"]
    let port = build.port
    let firstPid = try #require(build.pid)

    build.freeze()
    let frozen = try LabConnection(port: port)
    #expect(throws: LabError.self) { try frozen.read(timeout: .milliseconds(500)) }
    build.thaw()
    let banner = String(decoding: try frozen.read(timeout: .seconds(5)), as: UTF8.self)
    #expect(banner.hasPrefix("SSH-2.0-OpenSSH"))
    frozen.close()

    build.kill()
    #expect(build.pid == nil)
    #expect(!ProcessTree.isAlive(firstPid))
    #expect(throws: LabError.self) { try LabConnection(port: port) }

    try build.restart()
    #expect(build.port == port)
    #expect(build.pid != nil)
    #expect(build.pid != firstPid)
    #expect(try Self.runSSH(config: lab.sshConfigPath, ["build"]).status == 0)

    build.stop()
    #expect(!build.isRunning)
  }

  @Test func knownHostsVariants() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }

    let onlyEd25519 = try lab.writeKnownHosts(
      named: "known_hosts_ed25519", defaultEntry: .only(.ed25519))
    #expect(
      try String(contentsOfFile: onlyEd25519, encoding: .utf8).split(separator: "\n").count == 2)
    let config = try lab.writeSSHConfig(named: "ssh_config_ed25519", knownHostsPath: onlyEd25519)
    #expect(try Self.runSSH(config: config, ["-J", "build", "sign"]).status == 0)

    let wrong = try lab.writeKnownHosts(named: "known_hosts_wrong", entries: ["sign": .wrongKeys])
    let wrongConfig = try lab.writeSSHConfig(named: "ssh_config_wrong", knownHostsPath: wrong)
    let mismatch = try Self.runSSH(config: wrongConfig, ["-J", "build", "sign"])
    #expect(mismatch.status == 255)
    #expect(mismatch.errors.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"))

    let missing = try lab.writeKnownHosts(
      named: "known_hosts_missing", entries: ["build": .omitted])
    let missingConfig = try lab.writeSSHConfig(named: "ssh_config_missing", knownHostsPath: missing)
    let unknown = try Self.runSSH(config: missingConfig, ["build"])
    #expect(unknown.status == 255)
    #expect(unknown.errors.contains("Host key verification failed"))
  }

  @Test func extraUserKeys() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }

    let stranger = try lab.makeUserKey(named: "stranger")
    let strangerConfig = try lab.writeSSHConfig(
      named: "ssh_config_stranger", identityFile: stranger.privateKeyPath)
    let rejected = try Self.runSSH(config: strangerConfig, ["build"])
    #expect(rejected.status == 255)
    #expect(rejected.errors.contains("Permission denied (publickey)"))
    try lab.authorizeKey(stranger.publicKey, on: ["build"])
    #expect(try Self.runSSH(config: strangerConfig, ["build"]).status == 0)

    let protected = try lab.makeUserKey(named: "protected", type: .ecdsa, passphrase: "lab secret")
    #expect(protected.isPassphraseProtected)
    #expect(protected.publicKey.hasPrefix("ecdsa-sha2-nistp256 "))
    // An empty passphrase opens the plain key but not the protected one.
    for (key, expected) in [(lab.userKey, Int32(0)), (protected, Int32(255))] {
      let check = try FwdProcess(
        arguments: ["-y", "-P", "", "-f", key.privateKeyPath], binary: "/usr/bin/ssh-keygen")
      let status = try check.waitForExit()
      #expect(status == 0 ? expected == 0 : expected != 0, "\(key.privateKeyPath): \(status)")
    }

    try lab.setAuthorizedKeys([], on: "build")
    #expect(try Self.runSSH(config: lab.sshConfigPath, ["build"]).status == 255)
  }

  @Test func demoLabAnswersOverIPv6Sign() throws {
    // A free port of its own: 4444, the demo's default, may be in use by a parallel test.
    let demo = try DemoLab(preferredPort: try freePort())
    defer { demo.shutdown() }
    #expect(demo.lab["sign"].address == "::1")
    let config = try String(contentsOfFile: demo.lab.sshConfigPath, encoding: .utf8)
    #expect(config.contains("Host sign\n  HostName ::1\n"))
    let demoConfig = try String(contentsOfFile: demo.sshConfigPath, encoding: .utf8)
    #expect(!demoConfig.contains("IdentityFile"))
    for host in ["build", "sign"] {
      let authorized = try String(
        contentsOfFile: demo.lab[host].authorizedKeysPath, encoding: .utf8)
      #expect(authorized == demo.token.keys.map { $0.authorizedKey + "\n" }.joined(), "\(host)")
    }
    // The demo hosts accept only the token key; ssh here uses the lab's file key instead.
    try demo.lab.authorizeKey(demo.lab.userKey.publicKey)

    let ssh = try Self.startSSHForwards(
      config: demo.lab.sshConfigPath,
      // ssh binds both loopbacks for a bare port, and [::1]:port is the demo service's.
      arguments: ["-J", "build", "sign", "-L", "127.0.0.1:\(demo.port):localhost:\(demo.port)"],
      ports: [demo.port])
    defer { ssh.terminate() }
    let connection = try LabConnection(port: demo.port)
    try connection.write("ping\n")
    #expect(try connection.readLine() == "hello from the demo service on sign, you sent: ping")
    #expect(demo.lab["sign"].waitForLog(containing: "target localhost port \(demo.port)"))
  }
}
