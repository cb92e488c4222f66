import FwdBindings

extension Runtime {
  /// Returns the state of the chain and the forwards now. Call on the main thread, which owns the listeners and the
  /// chain.
  func snapshot() -> StatusSnapshot {
    var hops: [StatusSnapshot.Hop] = []
    for (index, target) in plan.hops.enumerated() {
      let loop = chain.flatMap { index < $0.hops.count ? $0.hops[index] : nil }
      var state = loop == nil ? "connecting" : "up"
      // A lost hop takes every hop after it down too, because their sessions run through it.
      if let rebuild, index >= rebuild.from, loop == nil { state = "rebuilding" }
      let source = loop.flatMap { ($0 as AnyObject) as? HopStatusSource }
      hops.append(
        StatusSnapshot.Hop(
          label: target.label, state: state, keepaliveRoundTrip: source?.keepaliveRoundTrip))
    }
    var forwards: [StatusSnapshot.Forward] = []
    for (listener, counters) in zip(listeners, counters) {
      forwards.append(
        StatusSnapshot.Forward(
          description: listener.readyLine, activeConnections: counters.activeConnections,
          bytesUp: counters.bytesUp, bytesDown: counters.bytesDown))
    }
    for (index, forward) in plan.remoteForwards.enumerated() {
      let state = remoteStates[index]
      let port = state.boundPort ?? forward.port
      let counters = state.counters
      // The relay counts bytes from its socket, which leads to the target here, as up.
      forwards.append(
        StatusSnapshot.Forward(
          description: remoteReadyLine(forward, port: port), activeConnections: counters.activeConnections,
          bytesUp: counters.bytesDown, bytesDown: counters.bytesUp, state: state.statusName))
    }
    return StatusSnapshot(hops: hops, forwards: forwards)
  }

  /// Writes the snapshot to the log, on SIGUSR1.
  func logSnapshot() {
    for line in StatusRenderer.logLines(snapshot()) {
      Log.shared.writeRequested("status", line)
    }
  }

  /// Redraws the status view when due, and writes the log's summaries of suppressed lines.
  func runTimers() {
    let now = Clock.monotonicMilliseconds()
    if showsStatus && now >= nextStatusRefresh {
      nextStatusRefresh = now + Runtime.statusInterval
      // One column is left free: a row that fills the width makes some terminals wrap early.
      // NOTE: rows drawn before the terminal narrowed may wrap, and the next redraw then erases
      // too few rows, leaving their tails on screen.
      let width = (Terminal.columns(2) ?? 80) - 1
      Log.shared.showOverlay(StatusRenderer.rows(snapshot(), width: width))
    }
    if let due = Log.shared.nextSummaryDue, now >= due {
      Log.shared.flushSuppressed()
    }
  }

  /// Milliseconds until `runTimers` has work, for poll(2); -1 when nothing is scheduled.
  func timerTimeout() -> Int32 {
    var due: [UInt64] = []
    if showsStatus { due.append(nextStatusRefresh) }
    if let summary = Log.shared.nextSummaryDue { due.append(summary) }
    guard let next = due.min() else { return -1 }
    let now = Clock.monotonicMilliseconds()
    return next > now ? Int32(min(next - now, 60_000)) : 0
  }
}
