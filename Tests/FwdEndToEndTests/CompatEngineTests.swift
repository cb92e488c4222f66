import Foundation
import FwdLab
import Glibc
import Testing

/// ssh_config keywords that change how fwd connects, run against the lab: ProxyCommand,
/// the algorithm lists, ConnectionAttempts, BindAddress, AddressFamily, GatewayPorts and
/// LogLevel.
@Suite(.enabled(if: Compat.fwdIsBuilt, "needs the built fwd: run swift build"))
struct CompatEngineTests {
  static var socatIsInstalled: Bool { access("/usr/bin/socat", X_OK) == 0 }

  /// Returns the PID in fwd's `started ProxyCommand '...' as PID N` line.
  static func proxyCommandPID(_ errors: String) -> pid_t? {
    guard let range = errors.range(of: "' as PID ") else { return nil }
    return pid_t(errors[range.upperBound...].prefix { $0.isNumber })
  }

  // MARK: - ProxyCommand

  /// OpenSSH's own client carries the first hop (`ssh -W`), and the command's stderr reaches
  /// fwd's stderr. The command is ended and reaped when fwd stops.
  @Test func proxyCommandThroughOpenSSH() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let command =
      "sh -c 'echo proxy-stderr-marker >&2; exec ssh -F \(lab.sshConfigPath) "
      + "-o BatchMode=yes -W %h:%p build'"
    let config = try lab.writeSSHConfig(
      named: "proxy_config", hostLines: ["sign": ["ProxyCommand \(command)"]])
    let errors = try CompatRun(lab, ["-F", config], destination: "sign").expectEcho()

    #expect(errors.contains("proxy-stderr-marker"))
    #expect(errors.contains("started ProxyCommand 'sh -c 'echo proxy-stderr-marker"))
    #expect(errors.contains(" -W 127.0.0.1:\(lab["sign"].port) build'"))
    #expect(lab.log(of: "build").contains("target 127.0.0.1 port \(lab["sign"].port)"))
    let pid = try #require(Self.proxyCommandPID(errors))
    #expect(!ProcessTree.isAlive(pid), "ProxyCommand \(pid) still runs after fwd exited")
  }

  /// The ProxyCommand must not inherit `--ready-fd`: a script waits for that descriptor to
  /// close, which would then wait for the command to end.
  @Test func readyDescriptorClosesWithProxyCommand() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    // ssh closes the descriptors it inherits, but a shell that runs it stays and does not.
    let command = "sh -c 'ssh -F \(lab.sshConfigPath) -o BatchMode=yes -W %h:%p build; exit $?'"
    let config = try lab.writeSSHConfig(
      named: "ready_fd_config", hostLines: ["sign": ["ProxyCommand \(command)"]])
    let pidFile = lab.directory + "/ready_fd.pid"
    // fwd's descriptor 3 is a pipe to `cat`, which ends, and prints "closed", once every
    // process holding the pipe has closed it.
    let script =
      "\"$0\" -F \(config) --pidfile \(pidFile) --ready-fd 3 -L 0:127.0.0.1:\(lab.echoPort) sign "
      + "3>&1 >/dev/null 2>&1 | { cat; echo closed; }"
    let shell = try FwdProcess(arguments: ["-c", script, FwdBinary.path], binary: "/bin/sh")
    let ready = try shell.waitForReadyLines(count: 1)
    #expect(try LabClient.echo(port: ready[0].listenPort, bytes: 64) == 64)
    let deadline = Date().addingTimeInterval(10)
    while !shell.standardOutput.contains("closed\n") && Date() < deadline {
      usleep(20_000)
    }
    #expect(shell.standardOutput.hasSuffix("closed\n"), "stdout: \(shell.standardOutput)")

    let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
    let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
    kill(pid, SIGTERM)
    #expect(try shell.waitForExit() == 0)
  }

  @Test(.enabled(if: socatIsInstalled, "needs /usr/bin/socat"))
  func proxyCommandThroughSocat() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let config = try lab.writeSSHConfig(
      named: "socat_config", hostLines: ["build": ["ProxyCommand socat - TCP:%h:%p"]])
    let errors = try CompatRun(lab, ["-F", config], destination: "build").expectEcho()
    #expect(errors.contains("started ProxyCommand 'socat - TCP:127.0.0.1:\(lab["build"].port)'"))
  }

  /// A jump host with a ProxyCommand is the first hop of the chain, and the next hop goes
  /// through it as usual.
  @Test func proxyCommandOnFirstJumpHost() throws {
    let lab = try Lab()
    defer { lab.shutdown() }
    let command = "ssh -F \(lab.sshConfigPath) -o BatchMode=yes -W %h:%p deep"
    let config = try lab.writeSSHConfig(
      named: "proxy_jump_config", hostLines: ["build": ["ProxyCommand \(command)"]])
    let errors = try CompatRun(lab, ["-F", config, "-J", "build"], destination: "sign")
      .expectEcho()
    #expect(errors.contains("started ProxyCommand 'ssh -F"))
    #expect(lab.log(of: "deep").contains("target 127.0.0.1 port \(lab["build"].port)"))
    #expect(lab.log(of: "build").contains("target 127.0.0.1 port \(lab["sign"].port)"))
  }

  /// ProxyJump set before ProxyCommand wins, so the ProxyCommand, which would fail, never runs.
  @Test func proxyJumpSetFirstWins() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let config = try lab.writeSSHConfig(
      named: "first_wins_config", hostLines: ["sign": ["ProxyJump build", "ProxyCommand false"]])
    let errors = try CompatRun(lab, ["-F", config], destination: "sign").expectEcho()
    #expect(!errors.contains("ProxyCommand"))
  }

  @Test func failedProxyCommandIsExplained() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let config = try lab.writeSSHConfig(
      named: "failing_proxy_config", hostLines: ["build": ["ProxyCommand sh -c 'exit 3'"]])
    let failure = try CompatRun(lab, ["-F", config], destination: "build").expectFailure()
    #expect(failure.status == 69)
    #expect(failure.errors.contains("(ProxyCommand exited with status 3)"))
  }

  // MARK: - Algorithms

  /// `-o` algorithm lists reach both hops and are what the servers negotiate.
  @Test func algorithmListsReachEveryHop() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let errors = try CompatRun(
      lab,
      [
        "-F", lab.sshConfigPath, "-o", "Ciphers=aes256-ctr,chacha20-poly1305@openssh.com",
        "-o", "MACs=^hmac-sha2-512", "-o", "KexAlgorithms=-curve25519*",
        "-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256", "-J", "build",
      ], destination: "sign"
    ).expectEcho()
    let handshake =
      "handshake done: kex ecdh-sha2-nistp256, host key ecdsa-sha2-nistp256, "
      + "cipher aes256-ctr, mac hmac-sha2-512"
    #expect(errors.contains("build: \(handshake)"))
    #expect(errors.contains("sign: \(handshake)"))
    for name in ["build", "sign"] {
      let log = lab.log(of: name)
      #expect(log.contains("kex: algorithm: ecdh-sha2-nistp256"), "\(name)")
      #expect(log.contains("kex: client->server cipher: aes256-ctr MAC: hmac-sha2-512"), "\(name)")
    }
  }

  /// Within HostKeyAlgorithms, the key types known_hosts lists for the host come first, so a
  /// host known only by its Ed25519 key is reached with Ed25519 even where the list puts
  /// ECDSA first.
  @Test func knownHostKeyTypesFirstWithinList() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeKnownHosts(
      named: "ed25519_known_hosts", defaultEntry: .only(.ed25519))
    let config = try lab.writeSSHConfig(
      named: "hostkey_order_config", knownHostsPath: knownHosts,
      hostLines: ["build": ["HostKeyAlgorithms ecdsa-sha2-nistp256,ssh-ed25519"]])
    let errors = try CompatRun(lab, ["-F", config], destination: "build").expectEcho()
    #expect(errors.contains("host key ssh-ed25519, "))
    #expect(lab.log(of: "build").contains("kex: host key algorithm: ssh-ed25519"))
  }

  /// A config line whose algorithms libssh2 lacks entirely stops fwd before it connects.
  @Test func unsupportedAlgorithmsAreConfigurationError() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let config = try lab.writeSSHConfig(
      named: "gcm_config", hostLines: ["build": ["Ciphers aes256-gcm@openssh.com"]])
    let failure = try CompatRun(lab, ["-F", config], destination: "build").expectFailure()
    #expect(failure.status == 78)
    let line = try #require(Compat.lines(failure.errors).last)
    #expect(line.hasPrefix("fwd: \(config):"))
    #expect(line.contains(": invalid Ciphers 'aes256-gcm@openssh.com': libssh2 "))
    #expect(line.contains(" supports none of these algorithms; it supports aes128-ctr,"))
    #expect(!lab.log(of: "build").contains("Connection from"))
  }

  // MARK: - Connection

  /// ConnectionAttempts retries the first hop one second apart until its sshd is back.
  @Test func connectionAttemptsWaitForServer() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    lab["build"].stop()
    let run = try CompatRun(
      lab, ["-F", lab.sshConfigPath, "-o", "ConnectionAttempts=10"], destination: "build")
    #expect(run.process.waitForStandardError(containing: "connection attempt 2 of 10"))
    try lab["build"].start()
    let errors = try run.expectEcho()
    #expect(errors.contains("connect to 127.0.0.1:\(lab["build"].port) failed: "))
  }

  @Test func connectionAttemptsExhausted() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    lab["build"].stop()
    let started = Date()
    let failure = try CompatRun(
      lab, ["-F", lab.sshConfigPath, "-o", "ConnectionAttempts=3"], destination: "build"
    ).expectFailure()
    #expect(failure.status == 69)
    #expect(failure.errors.contains("connect failed after 3 attempts: Connection refused"))
    #expect(failure.errors.contains("connection attempt 3 of 3"))
    #expect(Date().timeIntervalSince(started) >= 2)
  }

  /// BindAddress sets the first hop's source address; the next hop is reached through it.
  @Test func bindAddressSetsSourceOfFirstHop() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let errors = try CompatRun(
      lab, ["-F", lab.sshConfigPath, "-o", "BindAddress=127.0.0.2", "-J", "build"],
      destination: "sign"
    ).expectEcho()
    #expect(errors.contains("connected to 127.0.0.1:\(lab["build"].port) from 127.0.0.2:"))
    #expect(lab.log(of: "build").contains("Connection from 127.0.0.2 port "))
  }

  @Test func bindAddressOfOtherFamilyFails() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let failure = try CompatRun(
      lab, ["-F", lab.sshConfigPath, "-o", "BindAddress=::1"], destination: "build"
    ).expectFailure()
    #expect(failure.status == 69)
    #expect(failure.errors.contains("connect failed: BindAddress ::1: "))
  }

  /// AddressFamily inet6 cannot reach the IPv4 lab host, inet can.
  @Test func addressFamilySelectsAddresses() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let failure = try CompatRun(
      lab, ["-F", lab.sshConfigPath, "-o", "AddressFamily=inet6"], destination: "build"
    ).expectFailure()
    #expect(failure.status == 69)
    #expect(failure.errors.contains("could not resolve hostname 127.0.0.1: "))
    try CompatRun(lab, ["-F", lab.sshConfigPath, "-o", "AddressFamily=inet"], destination: "build")
      .expectEcho()
  }

  // MARK: - Forwards and logging

  /// GatewayPorts yes binds a forward without a bind address to every address.
  @Test func gatewayPortsBindsEveryAddress() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let run = try CompatRun(
      lab, ["-F", lab.sshConfigPath, "-o", "GatewayPorts=yes"], destination: "build")
    let ready = try run.process.waitForReadyLines(count: 1)
    #expect(["0.0.0.0", "::"].contains(ready[0].listenAddress))
    try run.expectEcho()
  }

  /// The destination's LogLevel applies without -v and -q; -v wins over it.
  @Test func logLevelFromConfig() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let errorOnly = try lab.writeSSHConfig(
      named: "loglevel_error", hostLines: ["build": ["LogLevel ERROR"]])
    let quiet = try CompatRun(lab, ["-F", errorOnly], destination: "build", verbose: false)
      .expectEcho()
    #expect(quiet.isEmpty)

    let debug = try lab.writeSSHConfig(
      named: "loglevel_debug", hostLines: ["build": ["LogLevel DEBUG"]])
    let verbose = try CompatRun(lab, ["-F", debug], destination: "build", verbose: false)
      .expectEcho()
    #expect(verbose.contains("fwd: debug1: build: handshake done"))
  }
}
