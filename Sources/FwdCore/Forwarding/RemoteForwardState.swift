/// The main thread's record of one `-R` or `-H` forward over the run, across rebuilds.
struct RemoteForwardState {
  enum Phase: Equatable {
    /// Its hop is being rebuilt; the request goes out once the hop is up again.
    case waitingForHop
    /// A listen request was sent and its reply has not arrived.
    case requested
    /// The server listens on `boundPort`.
    case listening
    /// The last request failed; the next one goes out at this monotonic millisecond.
    case retrying(at: UInt64)
    /// Failed at startup with ExitOnForwardFailure=no, so it is not requested again.
    case skipped
  }

  var phase = Phase.waitingForHop
  /// The port the server bound the first time. Later requests ask for this port, so a port the
  /// server picked (`-R 0:...`) stays the one in the ready line.
  var boundPort: Int?
  /// Failed requests since the forward last listened, for the backoff and the log.
  var failures = 0
  /// Numbers the requests sent, so that the reply to an older one is ignored.
  var generation = 0
  /// Connections and bytes, counted by the relays as for `-L` but with the directions swapped
  /// (see `Runtime.snapshot`).
  let counters = ForwardCounters()

  /// The state shown in the status view and the SIGUSR1 snapshot.
  var statusName: String {
    switch phase {
    case .listening: "listening"
    case .skipped: "failed"
    case .waitingForHop, .requested, .retrying: "waiting"
    }
  }
}

/// The reply to a listen request, handed from the hop's thread to the main loop.
struct RemoteListenReply {
  /// The forward's index in `RunPlan.remoteForwards`.
  let index: Int
  /// The `RemoteForwardState.generation` of the request.
  let generation: Int
  let result: Result<Int, FwdError>
}
