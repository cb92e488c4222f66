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
  return lines.joined(separator: "\n") + "\n"
}
