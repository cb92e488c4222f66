/// A point-in-time view of the chain and the forwards, for the live status view and SIGUSR1.
public struct StatusSnapshot: Sendable, Equatable {
  public struct Hop: Sendable, Equatable {
    /// The hop's label, e.g. `build (127.0.0.1:2201)`.
    public var label: String
    /// `connecting`, `up` or `lost`.
    public var state: String
    /// Round-trip time of the last answered keepalive, in milliseconds, if one was answered.
    public var keepaliveRoundTrip: Int?
  }

  public struct Forward: Sendable, Equatable {
    /// The forward as the ready line shows it, e.g. `local 127.0.0.1 4444 localhost 4444`.
    public var description: String
    public var activeConnections: Int
    /// Bytes carried from clients toward the target.
    public var bytesUp: UInt64
    /// Bytes carried from the target back to clients.
    public var bytesDown: UInt64
    /// `listening`, `waiting` or `failed` for a `-R` or `-H` forward, because its server may
    /// reject the port for a while after a rebuild. Nil for a `-L` or `-D` forward, whose
    /// listener stays bound for the whole run.
    public var state: String? = nil
  }

  public var hops: [Hop]
  public var forwards: [Forward]

  public init(hops: [Hop], forwards: [Forward]) {
    self.hops = hops
    self.forwards = forwards
  }
}
