import Dispatch
import FwdBindings
import Synchronization

/// The destination of a channel opened on a hop.
enum ChannelTarget: CustomStringConvertible {
  /// direct-tcpip: the hop connects to host:port; the origin is reported to the server.
  case tcp(host: String, port: Int, originHost: String, originPort: Int)
  /// direct-streamlocal@openssh.com: the hop connects to a Unix-domain socket.
  case streamLocal(path: String)

  var description: String {
    switch self {
    case .tcp(let host, let port, _, _): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    case .streamLocal(let path): path
    }
  }
}

/// A request to open a channel on a hop and relay it to a local socket.
struct ChannelRequest {
  let label: String
  /// The socket whose bytes the channel carries: an accepted client, or one end of the
  /// socketpair that the next hop's session runs over.
  let fd: Int32
  let target: ChannelTarget
  /// The forward's live counters, for a local client's connection.
  var counters: ForwardCounters? = nil
  /// Whether the completion reports a failed open to the user, so the hop need not log it.
  var reportsFailure = false
  /// Called on the hop's thread once the channel is open or has failed, before any byte is
  /// relayed. On failure the hop closes `fd` after the call.
  let completion: ((Result<Void, FwdError>) -> Void)?
}

/// A request for a port the hop's server listens on for us ("tcpip-forward").
struct RemoteListenRequest {
  let label: String
  let bindAddress: String
  let port: Int
  /// Called on the hop's thread with the bound port, or the failure.
  let onResult: (Result<Int, FwdError>) -> Void
  /// Called on the hop's thread for each connection to the port. Returns the socket to relay
  /// the channel to (an outgoing connection in progress is fine) and the forward's counters,
  /// or nil to drop it.
  let onConnection: (_ id: Int) -> (fd: Int32, label: String, counters: ForwardCounters?)?
}

/// The event loop of one established hop: a thread that alone owns the hop's libssh2 session
/// and every channel on it, driven by poll(2) readiness and never by timers or spinning.
final class HopLoop {
  let name: String
  let session: SSHSession
  /// Called once, on the hop's thread, when the session is lost; the text names what was seen.
  var onLost: ((String) -> Void)?

  private let wakeup: Wakeup
  private let inboxLock = Lock()
  private var inbox: [Command] = []
  /// Set once the loop has returned; guarded by `inboxLock`.
  private var ended = false
  private let finished = DispatchSemaphore(value: 0)

  private var relays: [ChannelRelay] = []
  /// Channel opens and listen requests, done one at a time: libssh2 1.10 allows only one
  /// channel open in progress per session, and a listen request is another packet exchange.
  private var setupQueue: [SetupOperation] = []
  private var opening: SetupOperation?
  private var remoteListeners: [(listener: SSHListener, request: RemoteListenRequest)] = []
  /// The relay whose libssh2 send was interrupted; it must be resumed before any other send.
  private var blockedRelay: ChannelRelay?
  /// A session channel that is never used for data: reading it drains the transport when no
  /// relay would, so server messages on an idle session are consumed and a lost connection
  /// is noticed.
  private var drainChannel: SSHChannel?
  private var stopping = false
  private var lost = false
  private var nextRelayID = 1

  /// Seconds of silence from the server before a keepalive is sent; 0 turns keepalives off.
  var aliveInterval = 0
  /// Keepalive intervals without any traffic from the server before the session is lost.
  var aliveCountMax = 3
  /// Built from the two values above when the loop starts; nil with keepalives off.
  private var keepalive: KeepaliveSchedule?
  /// When the last keepalive went to libssh2, for its round trip.
  private var lastKeepaliveSent: UInt64 = 0
  private var awaitingKeepaliveReply = false
  /// A keepalive was decided on and is sent at the start of the next pass.
  private var keepaliveDue = false
  /// libssh2 sent only part of a keepalive packet; see `sendDueKeepalive`.
  private var keepaliveBlocked = false
  private let statusLock = Lock()
  private var keepaliveRoundTripValue: Int?

  private enum Command {
    case open(ChannelRequest)
    case listen(RemoteListenRequest)
    case stop
  }

  private enum SetupOperation {
    case open(ChannelRequest)
    case listen(RemoteListenRequest)
  }

  init(name: String, session: SSHSession) throws(SystemError) {
    self.name = name
    self.session = session
    self.wakeup = try Wakeup()
  }

  /// Starts the loop's thread. The owner must keep the loop until `join` returns, because the
  /// thread keeps a reference only while the loop runs. A stopped hop's libssh2 session and
  /// channels are then freed when the owner releases the loop, before fwd exits.
  func start() {
    let finished = self.finished
    DetachedThread.start(name: "fwd hop \(name)", stackSize: 1 << 20) { [weak self] in
      self?.runToEnd()
      // libssh2 used OpenSSL on this thread, and fwd may exit as soon as `finished` is signalled.
      CryptoThreadState.release()
      finished.signal()
    }
  }

  /// Queues a channel open; safe from any thread.
  func open(_ request: ChannelRequest) { submit(.open(request)) }

  /// Queues a request for the server to listen on a port for us; safe from any thread.
  func listen(_ request: RemoteListenRequest) { submit(.listen(request)) }

  /// Closes every channel, disconnects the session and ends the thread; safe from any thread.
  func stop() { submit(.stop) }

  /// Hop threads that did not end within their `join` timeout, process-wide.
  private static let abandonedThreads = Atomic<Int>(0)

  /// Records a hop thread left running after its `join` timed out.
  static func noteAbandonedThread() { abandonedThreads.add(1, ordering: .relaxed) }

  /// Whether a hop thread may still be inside libssh2 or OpenSSL. exit(3) would then run
  /// OpenSSL's cleanup under it, and the thread crashes on the freed locks.
  static var threadsMayRun: Bool { abandonedThreads.load(ordering: .relaxed) > 0 }

  /// Waits for the thread to end, at most `timeout` seconds. Returns whether it ended.
  @discardableResult
  func join(timeout: Double) -> Bool {
    finished.wait(timeout: .now() + timeout) == .success
  }

  var activeConnections: Int { relays.count }

  /// Queues a command for the loop. A loop that has ended fails channel opens and listen
  /// requests at once, so a caller waiting on a completion is not left waiting.
  private func submit(_ command: Command) {
    inboxLock.lock()
    if ended {
      inboxLock.unlock()
      switch command {
      case .open(let request): failSetup(.open(request), reason: "the hop's session has ended")
      case .listen(let request): failSetup(.listen(request), reason: "the hop's session has ended")
      case .stop: break
      }
      return
    }
    inbox.append(command)
    inboxLock.unlock()
    wakeup.signal()
  }

  /// Marks the loop ended and fails what is still queued; called on the loop's thread as it
  /// returns.
  private func endLoop(reason: String) {
    inboxLock.lock()
    ended = true
    let left = inbox
    inbox.removeAll()
    inboxLock.unlock()
    for command in left {
      switch command {
      case .open(let request): failSetup(.open(request), reason: reason)
      case .listen(let request): failSetup(.listen(request), reason: reason)
      case .stop: break
      }
    }
  }

  /// Runs the loop, fails what is still queued and detaches the session from its socket, so
  /// that freeing the channels and the session later sends nothing.
  private func runToEnd() {
    run()
    endLoop(reason: lost ? "the hop was lost" : "the hop was stopped")
    session.detachSocket()
  }

  private func takeInbox() -> [Command] {
    inboxLock.lock()
    defer { inboxLock.unlock() }
    let commands = inbox
    inbox.removeAll()
    return commands
  }

  // MARK: - Loop

  private func run() {
    if let failure = openDrainChannel() {
      sessionLost(failure)
      return
    }
    // Each pass below resumes reading, and the loop polls the socket before it sleeps.
    session.skipsReadsWhenDrained = true
    // libssh2 sends a keepalive only when its own interval has passed; 1 s (which libssh2
    // raises to 2 s) lets this loop's timing decide.
    session.configureKeepalive(interval: aliveInterval > 0 ? 1 : 0)
    if aliveInterval > 0 {
      keepalive = KeepaliveSchedule(intervalSeconds: aliveInterval, countMax: aliveCountMax)
    }
    var poller = Poller()
    while true {
      for command in takeInbox() {
        switch command {
        case .open(let request): setupQueue.append(.open(request))
        case .listen(let request): setupQueue.append(.listen(request))
        case .stop: stopping = true
        }
      }
      do {
        try serviceSession()
      } catch {
        sessionLost(Self.describe(error))
        return
      }
      if stopping && relays.isEmpty && opening == nil && blockedRelay == nil {
        disconnect()
        return
      }

      poller.reset()
      poller.add(wakeup.fd, read: true, write: false)
      if keepaliveBlocked {
        // libssh2 resumes the keepalive only once its own interval has passed, so a writable
        // socket does not mean it can go on. The short timeout below retries instead.
      } else if blockedRelay != nil || session.blockDirections.outbound {
        // Until the interrupted send completes nothing else may use the session, so any other
        // readiness would only wake the loop to find nothing it can do.
        poller.add(session.socket, read: false, write: true)
      } else {
        let drains = drainChannel != nil || relays.contains { $0.canDrainSession } || opening != nil
        poller.add(session.socket, read: drains, write: false)
        // A closing relay's socket is already closed and its number may belong to a new one.
        for relay in relays where relay.wantsSocketRead || relay.wantsSocketWrite {
          poller.add(relay.fd, read: relay.wantsSocketRead, write: relay.wantsSocketWrite)
        }
      }
      do {
        try poller.wait(timeout: keepaliveBlocked ? min(keepaliveTimeout(), 100) : keepaliveTimeout())
      } catch {
        sessionLost(error.description)
        return
      }
      if poller.readable(0) { wakeup.drain() }
      noteKeepaliveReply()
      if let silence = checkAlive() {
        sessionLost(silence)
        return
      }
    }
  }

  private static func describe(_ error: SSHError) -> String {
    switch error.code {
    case -13, -43: "connection closed by the server or the hop before it (\(error.message))"
    default: error.message
    }
  }

  /// Records the round trip of the last keepalive once the server sent anything after it.
  /// Any traffic counts, so the figure is an upper bound on the network's round trip.
  private func noteKeepaliveReply() {
    guard awaitingKeepaliveReply, session.lastReceiveTime >= lastKeepaliveSent else { return }
    awaitingKeepaliveReply = false
    statusLock.lock()
    keepaliveRoundTripValue = Int(session.lastReceiveTime - lastKeepaliveSent)
    statusLock.unlock()
  }

  /// Milliseconds until the next keepalive decision, or -1 without keepalives.
  private func keepaliveTimeout() -> Int32 {
    guard let keepalive else { return -1 }
    switch keepalive.decide(now: Clock.monotonicMilliseconds(), lastReceive: session.lastReceiveTime) {
    case .wait(let milliseconds): return Int32(min(milliseconds, UInt64(Int32.max)))
    case .send, .lost: return 0
    }
  }

  /// Decides on a keepalive after `aliveInterval` seconds of silence (the next pass sends
  /// it), and returns a reason when the server has been silent for too long.
  private func checkAlive() -> String? {
    guard var schedule = keepalive else { return nil }
    let now = Clock.monotonicMilliseconds()
    switch schedule.decide(now: now, lastReceive: session.lastReceiveTime) {
    case .lost(let silence):
      return
        "no answer from the server for \(silence / 1000) s "
        + "(\(aliveCountMax) keepalives at \(aliveInterval) s intervals; "
        + "ServerAliveInterval and ServerAliveCountMax set these)"
    case .send:
      schedule.noteSent(at: now)
      keepalive = schedule
      keepaliveDue = true
    case .wait:
      break
    }
    return nil
  }

  /// Sends the keepalive decided on, or resumes one libssh2 sent only in part. Returns true
  /// while part of it is still unsent; nothing else may use the session until then.
  ///
  /// libssh2_keepalive_send builds the packet on its own stack and hides EAGAIN, leaving the
  /// rest of the packet pending with the outbound block flag set. Only a call that passes the
  /// same buffer completes it, so this function has one call site, in `serviceSession`, and
  /// libssh2 repeats the packet only when its own interval has passed since the first try.
  @inline(never)
  private func sendDueKeepalive() throws(SSHError) -> Bool {
    let now = Clock.monotonicMilliseconds()
    _ = try session.sendKeepalive()
    if session.blockDirections.outbound {
      if !keepaliveBlocked { logDebug3(name, "keepalive sent in part; the socket is full") }
      keepaliveDue = false
      keepaliveBlocked = true
      return true
    }
    if keepaliveDue {
      lastKeepaliveSent = now
      awaitingKeepaliveReply = true
      logDebug3(name, "keepalive sent after \(now - min(now, session.lastReceiveTime)) ms of silence")
    }
    keepaliveDue = false
    keepaliveBlocked = false
    return false
  }

  /// One pass over everything that uses the session, repeated while anything moves. A send
  /// interrupted by EAGAIN is always resumed before any other libssh2 call that could send.
  ///
  /// Every libssh2 read or write first reads the socket until EAGAIN and queues the data of
  /// every channel, so a pass that received bytes is repeated: data queued for a relay that
  /// was serviced earlier in the pass would otherwise wait in libssh2 while poll sleeps on the
  /// drained socket, and once it fills the channel's window the server stops sending.
  ///
  /// Called only from `run`, so every `ChannelRelay.service` call below starts at the same
  /// stack depth, which libssh2's resumed EOF and close need (see `ChannelRelay.sendControl`).
  @inline(never)
  private func serviceSession() throws(SSHError) {
    var moved = true
    while moved {
      moved = false
      let receivedBefore = session.bytesReceived
      session.resumeReading()
      if let relay = blockedRelay {
        switch try relay.service() {
        case .sendBlocked: return
        case .finished: remove(relay)
        default: break
        }
        blockedRelay = nil
        moved = true
      }
      if keepaliveDue || keepaliveBlocked {
        if try sendDueKeepalive() { return }
      }
      if stopping {
        for operation in setupQueue { failSetup(operation, reason: "fwd is stopping") }
        setupQueue.removeAll()
        remoteListeners.removeAll()
        for relay in relays {
          relay.abort()
          switch try relay.service() {
          case .sendBlocked:
            blockedRelay = relay
            return
          case .finished: remove(relay)
          default: break
          }
        }
      }
      switch try serviceSetup() {
      case .sendBlocked: return
      case .progressed: moved = true
      default: break
      }
      if try acceptRemoteConnections() { moved = true }
      for relay in relays {
        switch try relay.service() {
        case .sendBlocked:
          blockedRelay = relay
          return
        case .finished:
          remove(relay)
          moved = true
        case .progressed:
          moved = true
        case .idle:
          break
        }
      }
      // A relay that reads or writes its channel has read the socket until EAGAIN already.
      if !relays.contains(where: { $0.canDrainSession }) { try drainSession() }
      if session.bytesReceived != receivedBefore { moved = true }
    }
  }

  private func remove(_ relay: ChannelRelay) {
    relays.removeAll { $0 === relay }
    logDebug2(relay.label, "closed: \(relay.bytesUp) bytes up, \(relay.bytesDown) bytes down")
  }

  /// Advances the channel open or listen request in progress, or starts the next queued one.
  private func serviceSetup() throws(SSHError) -> ChannelRelay.Outcome {
    if opening == nil, !setupQueue.isEmpty { opening = setupQueue.removeFirst() }
    switch opening {
    case nil: return .idle
    case .open(let request)?: return try serviceOpen(request)
    case .listen(let request)?: return try serviceListen(request)
    }
  }

  private func serviceOpen(_ request: ChannelRequest) throws(SSHError) -> ChannelRelay.Outcome {
    let progress: Attempt<SSHChannel>
    do {
      switch request.target {
      case .tcp(let host, let port, let originHost, let originPort):
        progress = try session.openDirectTCPIP(
          host: host, port: port, originHost: originHost, originPort: originPort)
      case .streamLocal(let path):
        progress = try session.openChannel(
          type: "direct-streamlocal@openssh.com", payload: SSHWire.streamLocalPayload(path: path))
      }
    } catch {
      if error.endsSession { throw error }
      opening = nil
      let reason = error.message.isEmpty ? "channel open failed (\(error.code))" : error.message
      // A tunnel for the next hop reports the failure as fwd's exit message, so the hop logs
      // it only at debug level. A client connection's failure is logged here.
      let line = "channel to \(request.target) via \(name) failed: \(reason)"
      if !request.reportsFailure {
        logError(request.label, line)
      } else {
        logDebug(request.label, line)
      }
      request.completion?(.failure(FwdError(.forwarding, "\(name): \(reason)")))
      Socket.close(request.fd)
      return .progressed
    }
    switch progress {
    case .wouldBlock:
      return session.blockDirections.outbound ? .sendBlocked : .idle
    case .done(let channel):
      opening = nil
      request.completion?(.success(()))
      let relay = ChannelRelay(
        id: nextRelayID, label: request.label, fd: request.fd, channel: channel, counters: request.counters)
      nextRelayID += 1
      relays.append(relay)
      logDebug(request.label, "channel open via \(name) to \(request.target)")
      return .progressed
    }
  }

  private func serviceListen(_ request: RemoteListenRequest) throws(SSHError) -> ChannelRelay.Outcome {
    let progress: Attempt<SSHListener>
    do {
      progress = try session.listen(host: request.bindAddress, port: request.port)
    } catch {
      if error.endsSession { throw error }
      opening = nil
      let reason = error.message.isEmpty ? "request failed (\(error.code))" : error.message
      let message =
        "\(request.label): \(name) refused to listen on \(request.bindAddress):\(request.port): "
        + reason
      request.onResult(.failure(FwdError(.forwarding, message)))
      return .progressed
    }
    switch progress {
    case .wouldBlock:
      return session.blockDirections.outbound ? .sendBlocked : .idle
    case .done(let listener):
      opening = nil
      remoteListeners.append((listener, request))
      logDebug(request.label, "\(name) listens on \(request.bindAddress):\(listener.boundPort)")
      request.onResult(.success(listener.boundPort))
      return .progressed
    }
  }

  /// Takes the connections the server forwarded to our remote listeners and relays each.
  private func acceptRemoteConnections() throws(SSHError) -> Bool {
    var accepted = false
    for (listener, request) in remoteListeners {
      while true {
        let channel: SSHChannel
        do {
          guard case .done(let next) = try listener.accept() else { break }
          channel = next
        } catch {
          if error.endsSession { throw error }
          logDebug(request.label, "accept failed: \(error.message)")
          break
        }
        accepted = true
        let id = nextRelayID
        nextRelayID += 1
        guard let destination = request.onConnection(id) else {
          _ = channel.free()
          continue
        }
        relays.append(
          ChannelRelay(
            id: id, label: destination.label, fd: destination.fd, channel: channel,
            counters: destination.counters))
        logDebug(destination.label, "accepted a connection on \(name)'s port \(listener.boundPort)")
      }
    }
    return accepted
  }

  private func failSetup(_ operation: SetupOperation, reason: String) {
    switch operation {
    case .open(let request):
      request.completion?(.failure(FwdError(.chainLost, "\(name): \(reason)")))
      Socket.close(request.fd)
    case .listen(let request):
      request.onResult(.failure(FwdError(.chainLost, "\(name): \(reason)")))
    }
  }

  // MARK: - Idle session

  /// Opens the drain channel before the loop starts, waiting at most the keepalive limit
  /// (or the handshake timeout with keepalives off). Returns a reason when the server does not
  /// respond in time or the session fails, so a hop that freezes here is reported lost too.
  private func openDrainChannel() -> String? {
    // Opening is blocking-style here: the loop has not started, so nothing else sends.
    let limit = aliveInterval > 0 ? aliveInterval * aliveCountMax : HopConnector.defaultHandshakeTimeout
    let deadline = Clock.monotonicMilliseconds() + UInt64(limit) * 1000
    var poller = Poller()
    while true {
      do {
        switch try session.openChannel(type: "session", payload: []) {
        case .done(let channel):
          drainChannel = channel
          return nil
        case .wouldBlock:
          let now = Clock.monotonicMilliseconds()
          if now >= deadline {
            return "no answer from the server for \(limit) s while opening the idle channel"
          }
          poller.reset()
          let directions = session.blockDirections
          poller.add(session.socket, read: directions.inbound, write: directions.outbound)
          try? poller.wait(timeout: Int32(min(deadline - now, 5000)))
        }
      } catch {
        if error.endsSession { return Self.describe(error) }
        // NOTE: without the drain channel an idle session is only read when a relay reads.
        logDebug(name, "no idle drain channel: \(error.message)")
        return nil
      }
    }
  }

  private func drainSession() throws(SSHError) {
    guard let drainChannel else { return }
    var scratch: UInt8 = 0
    switch try drainChannel.read(into: &scratch, count: 0) {
    case .wouldBlock:
      if session.blockDirections.outbound { return }
    case .done:
      break
    }
  }

  // MARK: - Ending

  private func sessionLost(_ reason: String) {
    lost = true
    let reason = session.disconnectMessage.map { "server disconnected: \($0)" } ?? reason
    // Reported before the relays close, because closing them ends the inner hops' sessions and
    // the hop that failed first is the one to name.
    onLost?(reason)
    for relay in relays {
      if relay.label.hasPrefix("conn") { logInfo(relay.label, "closed: \(name) was lost") }
      relay.discard()
    }
    relays.removeAll()
    for operation in setupQueue + (opening.map { [$0] } ?? []) {
      failSetup(operation, reason: "connection lost: \(reason)")
    }
    setupQueue.removeAll()
    opening = nil
    remoteListeners.removeAll()
  }

  private func disconnect() {
    var poller = Poller()
    let deadline = Clock.monotonicMilliseconds() + 1000
    while case .wouldBlock = session.disconnect(reason: "fwd stopped"),
      Clock.monotonicMilliseconds() < deadline
    {
      poller.reset()
      poller.add(session.socket, read: false, write: true)
      try? poller.wait(timeout: 100)
    }
  }
}

extension HopLoop {
  /// Whether the server has sent nothing for at least one keepalive interval: the hop is
  /// probably frozen or cut off. Always false with keepalives off. Safe from any thread.
  var isSilent: Bool {
    aliveInterval > 0 && silence >= UInt64(aliveInterval) * 1000
  }

  /// Milliseconds since the server last sent anything. Safe from any thread.
  var silence: UInt64 {
    let now = Clock.monotonicMilliseconds()
    return now - min(now, session.lastReceiveTime)
  }
}

extension HopLoop: HopStatusSource {
  /// The last keepalive's round-trip time in milliseconds; safe from any thread.
  var keepaliveRoundTrip: Int? {
    statusLock.lock()
    defer { statusLock.unlock() }
    return keepaliveRoundTripValue
  }
}
