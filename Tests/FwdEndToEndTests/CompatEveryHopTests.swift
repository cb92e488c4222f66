import Foundation
import FwdLab
import Testing

/// Command-line `-i`, `-o` and `-I` reach every hop unless the hop's config sets the keyword,
/// so that, for example, `-o StrictHostKeyChecking=accept-new` lets an unattended run add a
/// jump host's key where ssh, which gives `-o` to the destination only, would stop at the
/// jump host.
@Suite(.enabled(if: Compat.fwdIsBuilt, "needs the built fwd: run swift build"))
struct CompatEveryHopTests {
  @Test func acceptNewReachesJumpHost() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = lab.directory + "/every_hop_known_hosts"
    let config = try lab.writeBareConfig(
      named: "every_hop_config",
      common: [
        "IdentityFile \(lab.userKey.privateKeyPath)", "UserKnownHostsFile \(knownHosts)",
        "BatchMode yes",
      ])
    let errors = try CompatRun(
      lab, ["-F", config, "-o", "StrictHostKeyChecking=accept-new", "-J", "build"],
      destination: "sign"
    ).expectEcho()

    let lines = Compat.lines(try String(contentsOfFile: knownHosts, encoding: .utf8))
    #expect(lines.count == 2)
    for name in ["build", "sign"] {
      let host = lab[name]
      let entries = lines.filter { $0.hasPrefix("\(host.knownHostsName) ") }
      #expect(entries.count == 1, "\(name): \(lines)")
      let key = entries.first.map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
      #expect(lab.hostKeyLines(name).contains(key ?? ""), "\(name)")
      #expect(errors.contains("\(name) (\(host.knownHostsName)): added "), "\(name)")
    }
  }

  /// OpenSSH gives `-o` to the destination only, so the same run stops at the jump host.
  @Test func sshStopsAtJumpHostWithoutKey() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = lab.directory + "/ssh_known_hosts"
    let config = try lab.writeBareConfig(
      named: "ssh_every_hop_config",
      common: ["IdentityFile \(lab.userKey.privateKeyPath)", "UserKnownHostsFile \(knownHosts)"])
    let ssh = try Compat.run(
      [
        "-F", config, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
        "-J", "build", "sign", "true",
      ], binary: Compat.ssh)
    #expect(ssh.status == 255)
    #expect(ssh.standardError.contains("Host key verification failed"))
  }

  /// A jump host whose config sets StrictHostKeyChecking keeps it.
  @Test func jumpHostConfigWinsOverDashO() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = lab.directory + "/strict_known_hosts"
    let config = try lab.writeBareConfig(
      named: "strict_jump_config",
      common: [
        "IdentityFile \(lab.userKey.privateKeyPath)", "UserKnownHostsFile \(knownHosts)",
        "BatchMode yes",
      ],
      extra: ["build": ["StrictHostKeyChecking yes"]])
    let failure = try CompatRun(
      lab, ["-F", config, "-o", "StrictHostKeyChecking=accept-new", "-J", "build"],
      destination: "sign"
    ).expectFailure()
    #expect(failure.status == 76)
    #expect(failure.errors.contains("build ([127.0.0.1]:\(lab["build"].port))"))
    #expect(!FileManager.default.fileExists(atPath: knownHosts))
  }

  /// `-i` gives the key to a jump host whose config names none.
  @Test func identityFileReachesJumpHost() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let config = try lab.writeBareConfig(
      named: "identity_config",
      common: [
        "UserKnownHostsFile \(lab.knownHostsPath)", "StrictHostKeyChecking yes",
        "IdentitiesOnly yes",
      ])
    let errors = try CompatRun(
      lab, ["-F", config, "-i", lab.userKey.privateKeyPath, "-J", "build"], destination: "sign"
    ).expectEcho()
    for name in ["build", "sign"] {
      #expect(errors.contains("\(name): authenticated as \(lab.userName) with \(lab.userKey.privateKeyPath)"))
    }
  }

  /// `-o ProxyJump` and `-o HostKeyAlias` name the destination only: on the jump host the
  /// first would loop back to itself and the second would look up the destination's key.
  @Test func hopNamingOptionsStayOnDestination() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let knownHosts = try lab.writeLabFile(
      "alias_known_hosts",
      "[127.0.0.1]:\(lab["build"].port) \(lab.hostKeyLines("build")[0])\n"
        + "signalias \(lab.hostKeyLines("sign")[0])\n")
    let config = try lab.writeBareConfig(
      named: "destination_only_config",
      common: [
        "IdentityFile \(lab.userKey.privateKeyPath)", "UserKnownHostsFile \(knownHosts)",
        "StrictHostKeyChecking yes",
      ])
    let errors = try CompatRun(
      lab, ["-F", config, "-o", "ProxyJump=build", "-o", "HostKeyAlias=signalias"],
      destination: "sign"
    ).expectEcho()
    #expect(errors.contains("sign: host key ED25519 "))
    #expect(errors.contains(" found at \(knownHosts):2"))
  }
}
