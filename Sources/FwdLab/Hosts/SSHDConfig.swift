/// Returns the sshd_config text of one lab host.
///
/// Algorithms stay at OpenSSH's defaults: the lab never enables ssh-rsa (SHA-1) signatures or
/// legacy ciphers, so fwd is tested against what a stock server accepts.
func sshdConfigText(
  options: LabHostOptions, port: Int, hostKeys: [LabKey], pidFile: String,
  authorizedKeysFile: String
) -> String {
  var lines = ["# Written by FwdLab; sshd takes the first value of each keyword."]
  lines += options.sshdConfig
  lines += [
    "Port \(port)",
    "ListenAddress \(options.addressFamily.loopbackAddress)",
  ]
  if options.addressFamily == .ipv6 {
    lines.append("AddressFamily inet6")
  }
  lines += hostKeys.map { "HostKey \($0.privateKeyPath)" }
  lines += [
    "PidFile \(pidFile)",
    "AuthorizedKeysFile \(authorizedKeysFile)",
    // The lab's files live under /tmp, whose owner and mode StrictModes rejects.
    "StrictModes no",
    "UsePAM no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "AllowTcpForwarding yes",
    // DEBUG1 is the lowest level that logs each direct-tcpip open with its originator and target.
    "LogLevel DEBUG1",
    // Parallel tests may open many connections at once; the default drops some beyond 10.
    "MaxStartups 100:30:200",
  ]
  // From OpenSSH 9.8 on, PerSourcePenalties can refuse new connections for a while from an
  // address with repeated failed logins, which wrong-key tests on 127.0.0.1 would cause.
  // NOTE: untested, because the lab has run only with sshd 9.2, which lacks the keyword.
  if let version = sshdVersion, version >= (9, 8) {
    lines.append("PerSourcePenalties no")
  }
  return lines.joined(separator: "\n") + "\n"
}

/// The major and minor version of /usr/sbin/sshd, from the "OpenSSH_9.2" that `sshd -V` prints;
/// nil when it cannot be read.
let sshdVersion: (Int, Int)? = {
  guard let result = try? runTool(LabHost.sshdPath, ["-V"]) else { return nil }
  let text = result.errorOutput + result.output
  guard let start = text.range(of: "OpenSSH_") else { return nil }
  let numbers = text[start.upperBound...].prefix { $0.isNumber || $0 == "." }
    .split(separator: ".").compactMap { Int($0) }
  guard numbers.count >= 2 else { return nil }
  return (numbers[0], numbers[1])
}()
