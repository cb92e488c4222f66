/// The seam between the status view and the hop loops, which alone can see their sessions.
///
/// `Runtime.snapshot()` builds the hop list, the hop states and the forward list itself, and
/// counts accepted connections and failed channel opens. It reads the rest from two places
/// that the hop loop fills in:
///
/// - `ChannelRequest.counters`: the `ForwardCounters` of the forward a connection belongs to.
///   The relay adds its bytes there as it moves them (`addBytesUp`, `addBytesDown`) and calls
///   `connectionClosed()` when it finishes or is discarded with its session.
/// - `HopStatusSource`, adopted by `HopLoop`, for figures of the session itself.
///
/// Runtime finds the second by a dynamic cast, so the status view works, with fewer figures,
/// before the hop loop adopts it.
protocol HopStatusSource: AnyObject {
  /// Milliseconds between the last keepalive sent and the next packet received from the
  /// server, or nil before any keepalive got a reply or with keepalives off. Safe from any
  /// thread.
  var keepaliveRoundTrip: Int? { get }
}
