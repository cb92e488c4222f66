import FwdLab

/// The cipher and MAC that a client negotiated with each lab host, read from the sshd logs.
///
/// sshd 9.2 at LogLevel DEBUG1 logs one line per direction and connection, e.g.
/// `debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256 compression: none`.
struct NegotiatedAlgorithms: Equatable {
  /// "cipher + MAC" per host name, e.g. "aes128-ctr + hmac-sha2-256"; "unknown" when the log
  /// has no such line.
  var byHost: [String: String]

  /// Reads the latest client-to-server kex line of each host of `lab`.
  static func latest(in lab: Lab) -> NegotiatedAlgorithms {
    var byHost: [String: String] = [:]
    for host in lab.hosts {
      let line = host.log.split(separator: "\n").last { $0.contains("kex: client->server cipher:") }
      byHost[host.name] = line.map(algorithms(in:)) ?? "unknown"
    }
    return NegotiatedAlgorithms(byHost: byHost)
  }

  /// Returns "CIPHER + MAC" from a kex log line.
  static func algorithms(in line: Substring) -> String {
    let fields = line.split(separator: " ")
    func value(after name: String) -> String {
      guard let index = fields.firstIndex(where: { $0 == name }), index + 1 < fields.count else {
        return "?"
      }
      return String(fields[index + 1])
    }
    return "\(value(after: "cipher:")) + \(value(after: "MAC:"))"
  }

  /// The algorithms as one line, e.g. "build: aes128-ctr + hmac-sha2-256; sign: ...".
  var summary: String {
    byHost.keys.sorted().map { "\($0): \(byHost[$0]!)" }.joined(separator: "; ")
  }
}
