import Foundation
import FwdLab
import Testing

/// known_hosts files as OpenSSH writes and reads them, through the built fwd and the lab.
/// Where it helps, OpenSSH's ssh runs on the same file to show that both agree.
@Suite(.enabled(if: Compat.fwdIsBuilt, "needs the built fwd: run swift build"))
struct CompatKnownHostsTests {
  /// Writes a config for every lab host with StrictHostKeyChecking yes and `knownHosts`.
  static func config(_ lab: Lab, _ knownHosts: String, _ name: String, extra: [String] = [])
    throws -> String
  {
    try lab.writeBareConfig(
      named: name,
      common: [
        "IdentityFile \(lab.userKey.privateKeyPath)", "IdentitiesOnly yes",
        "UserKnownHostsFile \(knownHosts)", "StrictHostKeyChecking yes", "BatchMode yes",
      ] + extra)
  }

  /// Runs OpenSSH's ssh to `host` with `config` and returns its exit status.
  static func sshStatus(_ config: String, _ host: String) throws -> Int32 {
    try Compat.run(["-F", config, host, "true"], binary: Compat.ssh).status
  }

  @Test func hashedEntriesFromSshKeygen() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeKnownHosts(named: "hashed_known_hosts")
    let keygen = try Compat.run(["-H", "-f", knownHosts], binary: Compat.sshKeygen)
    try #require(keygen.status == 0, "ssh-keygen -H failed: \(keygen.standardError)")
    let text = try String(contentsOfFile: knownHosts, encoding: .utf8)
    #expect(Compat.lines(text).allSatisfy { $0.hasPrefix("|1|") })

    let config = try Self.config(lab, knownHosts, "hashed_config")
    let errors = try CompatRun(lab, ["-F", config], destination: "build").expectEcho()
    #expect(errors.contains("found at \(knownHosts):1"))
  }

  /// A host on a non-standard port is listed as `[host]:port`; a port-less line with the same
  /// key is accepted too, as ssh 9.2 accepts it, while a line for another port is not used.
  @Test func bracketedPortAndPortlessEntries() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let key = lab.hostKeyLines("build")[0]
    let port = lab["build"].port
    let bracketed = try lab.writeLabFile("bracketed", "[127.0.0.1]:\(port) \(key)\n")
    let portless = try lab.writeLabFile("portless", "127.0.0.1 \(key)\n")
    let otherPort = try lab.writeLabFile("other_port", "[127.0.0.1]:\(port + 1) \(key)\n")

    for (file, expected) in [(bracketed, Int32(0)), (portless, 0), (otherPort, 76)] {
      let config = try Self.config(lab, file, "config_\((file as NSString).lastPathComponent)")
      let run = try CompatRun(lab, ["-F", config], destination: "build")
      if expected == 0 {
        try run.expectEcho()
      } else {
        #expect(try run.expectFailure().status == expected, "\(file)")
      }
      #expect(try Self.sshStatus(config, "build") == (expected == 0 ? 0 : 255), "ssh on \(file)")
    }
  }

  /// A line that does not parse is skipped with a -v note, and later lines still count.
  @Test func corruptLineDoesNotHideLaterLines() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let text =
      "[127.0.0.1]:\(lab["sign"].port) \(lab.hostKeyLines("sign")[0])\n"
      + "this line is not a known_hosts entry\n"
      + "[127.0.0.1]:\(lab["build"].port) ssh-ed25519 !!!not-base64!!!\n"
      + "[127.0.0.1]:\(lab["build"].port) \(lab.hostKeyLines("build")[0])\n"
    let knownHosts = try lab.writeLabFile("corrupt_known_hosts", text)
    let config = try Self.config(lab, knownHosts, "corrupt_config")
    let errors = try CompatRun(lab, ["-F", config], destination: "build").expectEcho()
    #expect(errors.contains("found at \(knownHosts):4"))
    #expect(errors.contains("\(knownHosts):2"))
    #expect(errors.contains("\(knownHosts):3"))
    #expect(try Self.sshStatus(config, "build") == 0)
  }

  /// A revoked key is rejected with exit 76. As in ssh, when the host has another listed key
  /// type, that type is negotiated instead and the connection succeeds.
  @Test func revokedKeyIsRejected() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let name = lab["build"].knownHostsName
    let ed25519 = lab.hostKeyLines("build")[0]
    let revoked = "@revoked \(name) \(ed25519)\n"
    let onlyRevoked = try lab.writeLabFile("revoked_known_hosts", "\(name) \(ed25519)\n" + revoked)
    let config = try Self.config(lab, onlyRevoked, "revoked_config")
    let failure = try CompatRun(lab, ["-F", config], destination: "build").expectFailure()
    #expect(failure.status == 76)
    #expect(failure.errors.contains("(\(name)): host key revoked: "))
    #expect(try Self.sshStatus(config, "build") == 255)

    let allKeys = lab.hostKeyLines("build").map { "\(name) \($0)\n" }.joined()
    let withOthers = try lab.writeLabFile("revoked_others", allKeys + revoked)
    let othersConfig = try Self.config(lab, withOthers, "revoked_others_config")
    let errors = try CompatRun(lab, ["-F", othersConfig], destination: "build").expectEcho()
    #expect(errors.contains("host key ecdsa-sha2-nistp256"))
    #expect(try Self.sshStatus(othersConfig, "build") == 0)
  }

  /// fwd does not check host certificates: a matching `@cert-authority` line is noted at -v and
  /// the plain key line decides.
  @Test func certificateAuthorityLineIsSkipped() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let name = lab["build"].knownHostsName
    let text =
      "@cert-authority \(name) \(lab.hostKeyLines("sign")[0])\n"
      + "\(name) \(lab.hostKeyLines("build")[0])\n"
    let knownHosts = try lab.writeLabFile("ca_known_hosts", text)
    let config = try Self.config(lab, knownHosts, "ca_config")
    let errors = try CompatRun(lab, ["-F", config], destination: "build").expectEcho()
    #expect(errors.contains("\(knownHosts):1: @cert-authority line skipped"))
    #expect(errors.contains("found at \(knownHosts):2"))
  }

  /// HostKeyAlias is the name looked up and the name accept-new writes.
  @Test func hostKeyAliasForLookupAndAddition() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let listed = try lab.writeLabFile(
      "alias_listed", "build-alias \(lab.hostKeyLines("build")[0])\n")
    let listedConfig = try Self.config(
      lab, listed, "alias_listed_config", extra: ["HostKeyAlias Build-Alias"])
    try CompatRun(lab, ["-F", listedConfig], destination: "build").expectEcho()
    #expect(try Self.sshStatus(listedConfig, "build") == 0)

    let fresh = lab.directory + "/alias_fresh"
    let freshConfig = try lab.writeBareConfig(
      named: "alias_fresh_config",
      common: [
        "IdentityFile \(lab.userKey.privateKeyPath)", "UserKnownHostsFile \(fresh)",
        "StrictHostKeyChecking accept-new", "HostKeyAlias fresh-alias",
      ])
    try CompatRun(lab, ["-F", freshConfig], destination: "build").expectEcho()
    let lines = Compat.lines(try String(contentsOfFile: fresh, encoding: .utf8))
    #expect(lines.count == 1)
    #expect(lines.first?.hasPrefix("fresh-alias ") == true)
    let lookup = try Compat.run(["-F", "fresh-alias", "-f", fresh], binary: Compat.sshKeygen)
    #expect(lookup.status == 0)
  }

  /// Twenty fwd processes add keys to one new known_hosts file at once. Each pair of processes
  /// shares a HostKeyAlias, so every alias must end up listed exactly once, and OpenSSH must
  /// find each of them.
  @Test func concurrentAcceptNewWriters() throws {
    let lab = try Lab()
    defer { lab.shutdown() }
    let knownHosts = lab.directory + "/concurrent_known_hosts"
    let config = try lab.writeBareConfig(
      named: "concurrent_config",
      common: [
        "IdentityFile \(lab.userKey.privateKeyPath)", "UserKnownHostsFile \(knownHosts)",
        "StrictHostKeyChecking accept-new", "BatchMode yes",
      ])
    // Processes i and i + 10 share alias-i and connect to the same host.
    let aliases = (0..<10).map { "alias-\($0)" }
    let hostOfAlias = aliases.indices.map { lab.hosts[$0 % lab.hosts.count].name }
    var runs: [CompatRun] = []
    for index in 0..<20 {
      let alias = index % aliases.count
      let arguments = ["-F", config, "-o", "HostKeyAlias=\(aliases[alias])"]
      runs.append(
        try CompatRun(lab, arguments, destination: hostOfAlias[alias], verbose: false))
    }
    for run in runs {
      try run.expectEcho(bytes: 16)
    }

    let lines = Compat.lines(try String(contentsOfFile: knownHosts, encoding: .utf8))
    #expect(lines.count == aliases.count, "\(lines)")
    for (alias, host) in zip(aliases, hostOfAlias) {
      let listed = lines.filter { $0.hasPrefix("\(alias) ") }
      #expect(listed.count == 1, "\(alias): \(listed)")
      let key = listed.first.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
      #expect(lab.hostKeyLines(host).contains(key ?? ""), "\(alias)")
    }
    for alias in aliases {
      let lookup = try Compat.run(["-F", alias, "-f", knownHosts], binary: Compat.sshKeygen)
      #expect(lookup.status == 0, "ssh-keygen -F \(alias)")
    }
  }
}
