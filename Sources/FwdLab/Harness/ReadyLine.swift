/// A line fwd prints on stdout when a forward is ready:
/// `<kind> <listen_address> <listen_port> <target_host> <target_port>`, e.g.
/// `local 127.0.0.1 4444 localhost 4444`.
public struct ReadyLine: Equatable, Sendable, CustomStringConvertible {
  /// The forward kind, e.g. "local".
  public let kind: String
  public let listenAddress: String
  public let listenPort: Int
  public let targetHost: String
  public let targetPort: Int

  public init(
    kind: String, listenAddress: String, listenPort: Int, targetHost: String, targetPort: Int
  ) {
    self.kind = kind
    self.listenAddress = listenAddress
    self.listenPort = listenPort
    self.targetHost = targetHost
    self.targetPort = targetPort
  }

  /// Parses one stdout line; nil when it does not have the five fields with numeric ports.
  public init?(parsing line: Substring) {
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    guard fields.count == 5, let listenPort = Int(fields[2]), let targetPort = Int(fields[4]) else {
      return nil
    }
    self.init(
      kind: String(fields[0]), listenAddress: String(fields[1]), listenPort: listenPort,
      targetHost: String(fields[3]), targetPort: targetPort)
  }

  public var description: String {
    "\(kind) \(listenAddress) \(listenPort) \(targetHost) \(targetPort)"
  }
}
