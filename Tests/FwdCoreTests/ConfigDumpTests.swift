import Foundation
import Testing

@testable import FwdCore

/// `ConfigDump` against the installed `ssh -G` (which reads config but opens no connection),
/// for the keywords fwd prints.
@Suite(
  .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh"), "needs /usr/bin/ssh"))
struct ConfigDumpTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let config: String
    /// fwd's arguments after `-F file`, which are also given to ssh.
    let arguments: [String]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "basics", config: "Host t\n  HostName Real.Example.ORG\n  Port 2022\n  User alice\n",
      arguments: ["t"]),
    Case(name: "defaults", config: "", arguments: ["plain"]),
    Case(
      name: "every supported keyword",
      config: """
        Host t
          HostName 10.1.2.3
          IdentityFile ~/.ssh/x_%h
          IdentityFile /abs/%r
          IdentitiesOnly yes
          IdentityAgent ~/agent-%r.sock
          ProxyJump u@j1:23,j2,[::1]:99
          PKCS11Provider /usr/lib/p11.so
          UserKnownHostsFile ~/k1 /k2/%h
          GlobalKnownHostsFile /g1 ~/g2
          StrictHostKeyChecking accept-new
          HostKeyAlias MyAlias
          HashKnownHosts yes
          ConnectTimeout 1m5s
          ConnectionAttempts 3
          ServerAliveInterval 15
          ServerAliveCountMax 4
          TCPKeepAlive no
          LocalForward 8080 localhost:80
          LocalForward 127.0.0.1:8081 [::1]:81
          LocalForward *:8082 h:82
          RemoteForward 9090 localhost:90
          RemoteForward 9091
          DynamicForward 1080
          DynamicForward 127.0.0.1:1081
          ExitOnForwardFailure yes
          GatewayPorts yes
          BatchMode yes
          AddressFamily inet
          BindAddress 127.0.0.1
          LogLevel DEBUG
          Ciphers aes128-ctr,aes256-ctr
          MACs hmac-sha2-256
          KexAlgorithms curve25519-sha256
          HostKeyAlgorithms ssh-ed25519
          IgnoreUnknown Foo*
          CertificateFile ~/c1
          SendEnv LANG LC_*
          SendEnv -LC_*
        """,
      arguments: ["t"]),
    Case(
      name: "none values and ProxyCommand",
      config: """
        Host t
          LogLevel debug1
          ProxyCommand nc %h %p  # c
          ConnectTimeout 0
          UserKnownHostsFile none
          GlobalKnownHostsFile none
          IdentityAgent SSH_AUTH_SOCK
          PKCS11Provider none
        Host u
          ProxyJump 1.2.3.4
          IdentityAgent none
          ServerAliveInterval none
          ServerAliveInterval 7
        """,
      arguments: ["t"]),
    Case(name: "numeric jump host", config: "Host u\n  ProxyJump 1.2.3.4\n", arguments: ["u"]),
    Case(
      name: "tokens without a jump host",
      config: "Host *\n  UserKnownHostsFile ~/kh/%h-%p-%r-%C %d/%u-%n\n  IdentityFile %d/%h\n",
      arguments: ["-l", "bob", "-p", "2200", "Target"]),
    Case(
      name: "patterns and Match final",
      config: """
        Host * !bastion
          User everyone
        Host alias
          HostName BAR
        Match final
          Port 3333
        Host bar
          User u
        Match canonical host bar
          IdentityFile /canon
        Match !final
          IdentityFile /notfinal
        """,
      arguments: ["alias"]),
    Case(
      name: "command line",
      config: "Host t\n  User cfg\n  Port 1\n  LocalForward 5 h:6\n  IdentityFile /cfg/key\n",
      arguments: [
        "-l", "bob", "-p", "2200", "-L", "7070:a:70", "-L", "[::1]:7071:[fe80::1]:71", "-o",
        "ConnectTimeout=9", "-o", "User=ignored", "-J", "x@jump:22,y", "-4", "-I", "/cli.so",
        "-i", "/etc/hostname", "t",
      ]),
    Case(
      name: "destination user and ssh URI",
      config: "Host t\n  User cfg\n", arguments: ["ssh://alice@t:2022"]),
  ]

  @Test(arguments: cases)
  func matchesSshDashG(_ item: Case) throws {
    let fixture = try ConfigFixture()
    let file = try fixture.write("config", item.config)
    guard case .run(let invocation) = try ParsedCommand.parse(["-F", file] + item.arguments) else {
      Issue.record("not a run command")
      return
    }
    let config = try SSHConfig.load(configFile: file, environment: .current())
    let plan = try ChainPlan.resolve(invocation, config: config)
    let ours = ConfigDump.render(plan.destination.settings).split(separator: "\n").map(String.init)
    let printed = Set(ours.map { $0.prefix(while: { $0 != " " }) })
    let theirs = try sshDashG(["-F", file] + item.arguments)
      .filter { printed.contains($0.prefix(while: { $0 != " " })) }
    #expect(ours == theirs)
  }

  private func sshDashG(_ arguments: [String]) throws -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh")
    process.arguments = ["-G"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}
