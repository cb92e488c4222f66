import FwdBindings

/// Remote forwards after startup: requested again after each rebuild, and retried with backoff
/// while the server rejects them.
///
/// A rebuilt hop's server usually rejects the port at first, because the session that fwd
/// lost keeps it bound until that server notices the old connection is gone. So a rejected
/// request is retried (1 s doubling to 30 s) for as long as fwd runs, and the forward shows as
/// `waiting` in the status view meanwhile. ExitOnForwardFailure applies only at startup: after
/// it, a forward that cannot be set up never ends fwd.
extension Runtime {
  /// Requests the remote forwards on hops `start` and later again, because their listeners
  /// ended with the sessions that a rebuild replaced. Does not wait for the replies.
  func requestRemoteForwardsAgain(from start: Int, chain: Chain) {
    for (index, forward) in plan.remoteForwards.enumerated() where forward.hopIndex >= start {
      guard remoteStates[index].phase != .skipped else { continue }
      remoteStates[index].failures = 0
      sendListenRequest(index, chain: chain)
    }
  }

  /// Marks the remote forwards on hops `start` and later as waiting for their hop, when those
  /// hops are stopped for a rebuild. Replies still on their way from the old sessions are then
  /// ignored.
  func markRemoteForwardsDown(from start: Int) {
    for (index, forward) in plan.remoteForwards.enumerated() where forward.hopIndex >= start {
      guard remoteStates[index].phase != .skipped else { continue }
      remoteStates[index].phase = .waitingForHop
      remoteStates[index].generation += 1
    }
  }

  /// Sends the listen request of remote forward `index` to its hop without waiting. The
  /// reply reaches `handleListenReplies` through the main loop's wakeup.
  private func sendListenRequest(_ index: Int, chain: Chain) {
    let forward = plan.remoteForwards[index]
    remoteStates[index].generation += 1
    remoteStates[index].phase = .requested
    let generation = remoteStates[index].generation
    let port = remoteStates[index].boundPort ?? forward.port
    if forward.port == 0, remoteStates[index].boundPort != nil {
      let hopName = plan.hops[forward.hopIndex].name
      logDebug(hopName, "\(forward.text): requesting port \(port) again, which the server picked at startup")
    }
    let request = makeListenRequest(index, port: port, chain: chain) { [weak self] result in
      self?.postListenReply(RemoteListenReply(index: index, generation: generation, result: result))
    }
    chain.hops[forward.hopIndex].listen(request)
  }

  /// Records the hops' replies to listen requests sent after startup: a listening
  /// forward is logged, and a rejected one is retried after a backoff.
  func handleListenReplies() {
    for reply in takeListenReplies() {
      let state = remoteStates[reply.index]
      guard reply.generation == state.generation, state.phase == .requested else { continue }
      let forward = plan.remoteForwards[reply.index]
      let hopName = plan.hops[forward.hopIndex].name
      switch reply.result {
      case .success(let port):
        remoteStates[reply.index].phase = .listening
        remoteStates[reply.index].boundPort = remoteStates[reply.index].boundPort ?? port
        let retries =
          switch state.failures {
          case 0: ""
          case 1: " after 1 rejected request"
          default: " after \(state.failures) rejected requests"
          }
        logInfo(hopName, "\(forward.text): listening on \(listenAddress(forward, port: port)) again\(retries)")
      case .failure(let error) where error.status == .chainLost:
        // The hop's session ended, so the lost hop is rebuilt and the forward requested again.
        remoteStates[reply.index].phase = .waitingForHop
        logDebug(hopName, "\(forward.text): waiting for the rebuild: \(error.message)")
      case .failure(let error):
        let failures = state.failures + 1
        let delay = Runtime.backoff(attempt: failures)
        remoteStates[reply.index].failures = failures
        remoteStates[reply.index].phase = .retrying(at: Clock.monotonicMilliseconds() + delay)
        // Usually the lost session keeps the port bound until its server notices it is gone.
        logInfo(
          hopName,
          "\(error.message); retrying in \(Self.seconds(delay)) (attempt \(failures)); "
            + "the lost session may still have the port bound")
      }
    }
  }

  /// Sends the listen requests whose retry is due, on hops that are up.
  func retryDueRemoteForwards(chain: Chain) {
    let now = Clock.monotonicMilliseconds()
    for (index, forward) in plan.remoteForwards.enumerated() {
      guard case .retrying(let due) = remoteStates[index].phase, due <= now else { continue }
      guard isHopUp(forward.hopIndex, chain: chain) else { continue }
      sendListenRequest(index, chain: chain)
    }
  }

  /// The monotonic millisecond of the next retry on a hop that is up, for the main loop's poll
  /// timeout.
  func nextRemoteRetry() -> UInt64? {
    guard let chain else { return nil }
    var next: UInt64?
    for (index, forward) in plan.remoteForwards.enumerated() {
      guard case .retrying(let due) = remoteStates[index].phase else { continue }
      guard isHopUp(forward.hopIndex, chain: chain) else { continue }
      next = min(next ?? due, due)
    }
    return next
  }

  private func isHopUp(_ index: Int, chain: Chain) -> Bool {
    if let rebuild, index >= rebuild.from { return false }
    return index < chain.hops.count
  }

  private func postListenReply(_ reply: RemoteListenReply) {
    listenReplyLock.lock()
    listenReplies.append(reply)
    listenReplyLock.unlock()
    wakeup.signal()
  }

  private func takeListenReplies() -> [RemoteListenReply] {
    listenReplyLock.lock()
    defer { listenReplyLock.unlock() }
    let replies = listenReplies
    listenReplies.removeAll()
    return replies
  }

  /// Formats milliseconds as whole seconds, at least 1: `2 s`.
  private static func seconds(_ milliseconds: UInt64) -> String {
    "\(max(1, (milliseconds + 500) / 1000)) s"
  }
}
