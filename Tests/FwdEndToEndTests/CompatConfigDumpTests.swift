import Foundation
import FwdLab
import Testing

/// `fwd -G` against OpenSSH's `ssh -G` (which reads the config and opens no connection): both
/// programs run on the same config and arguments, and the lines of every keyword fwd prints
/// must be the same, in the same order.
///
/// When the chain has jump hosts, fwd prints one section per hop after a `# name` line. The
/// destination section is compared with `ssh -G` on the same arguments, and each jump host
/// section with `ssh -G` on the arguments in `Case.jumpHosts`: what ssh itself runs for that
/// hop (`-l` and `-p` for `user@` and `:port`, `-J` for the hops before it in a jump list),
/// plus any `-o` option that fwd gives every hop.
@Suite(
  .enabled(if: Compat.sshIsInstalled, "needs /usr/bin/ssh"),
  .enabled(if: Compat.fwdIsBuilt, "needs the built fwd: run swift build"))
struct CompatConfigDumpTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    /// The `-F` file; `@DIR@` is the case's directory.
    let config: String
    /// The arguments after `-F file`, given to both programs.
    let arguments: [String]
    /// For each jump host in connection order, the `ssh -G` arguments after `-F file`.
    var jumpHosts: [[String]] = []
    /// More files in the case's directory, such as included configs.
    var files: [String: String] = [:]
    var testDescription: String { name }
  }

  /// The keywords `fwd -G` prints. Algorithm lists are compared only when fwd prints them,
  /// because fwd prints them only when set and ssh always prints its own defaults.
  static let keywords: Set<String> = [
    "host", "user", "hostname", "port", "addressfamily", "batchmode", "exitonforwardfailure",
    "gatewayports", "hashknownhosts", "identitiesonly", "stricthostkeychecking", "tcpkeepalive",
    "connectionattempts", "serveralivecountmax", "serveraliveinterval", "bindaddress",
    "hostkeyalias", "identityagent", "ignoreunknown", "loglevel", "pkcs11provider",
    "dynamicforward", "localforward", "remoteforward", "identityfile", "certificatefile",
    "globalknownhostsfile", "userknownhostsfile", "sendenv", "connecttimeout", "proxycommand",
    "proxyjump",
  ]
  static let algorithmKeywords: Set<String> = [
    "ciphers", "macs", "kexalgorithms", "hostkeyalgorithms",
  ]

  @Test(arguments: CompatConfigCases.all)
  func matchesSshDashG(_ item: Case) throws {
    let directory = try CompatDirectory()
    for (name, text) in item.files { try directory.write(name, text) }
    let file = try directory.write("config", item.config)
    let environment = ["FWD_COMPAT_DIR": directory.path]
    let arguments = item.arguments.map(directory.expand)

    let fwd = try Compat.run(["-G", "-F", file] + arguments, environment: environment)
    try #require(fwd.status == 0, "fwd -G failed: \(fwd.standardError)")
    let sections = Self.sections(fwd.standardOutput)
    try #require(
      sections.count == item.jumpHosts.count + 1,
      "fwd printed hops \(sections.map(\.name)), expected \(item.jumpHosts.count) jump hosts")

    let sshArguments = item.jumpHosts.map { $0.map(directory.expand) } + [arguments]
    for (section, hopArguments) in zip(sections, sshArguments) {
      let ssh = try Compat.run(
        ["-G", "-F", file] + hopArguments, binary: Compat.ssh, environment: environment)
      try #require(ssh.status == 0, "ssh -G failed: \(ssh.standardError)")
      let printed = Set(section.lines.map(Self.keyword))
      let theirs = Compat.lines(ssh.standardOutput).filter { line in
        let keyword = Self.keyword(line)
        return Self.keywords.contains(keyword)
          || (Self.algorithmKeywords.contains(keyword) && printed.contains(keyword))
      }
      let ours = section.lines
      #expect(
        ours == theirs,
        """
        hop \(section.name ?? "destination"): only fwd: \(ours.filter { !theirs.contains($0) }); \
        only ssh: \(theirs.filter { !ours.contains($0) })
        """)
    }
  }

  /// Splits `fwd -G` output at its `# name` lines; output without them is one section.
  static func sections(_ text: String) -> [(name: String?, lines: [String])] {
    var sections: [(name: String?, lines: [String])] = []
    for line in Compat.lines(text) {
      if line.hasPrefix("# ") {
        sections.append((String(line.dropFirst(2)), []))
      } else if sections.isEmpty {
        sections.append((nil, [line]))
      } else {
        sections[sections.count - 1].lines.append(line)
      }
    }
    return sections
  }

  static func keyword(_ line: String) -> String {
    String(line.prefix { $0 != " " })
  }
}
