import FwdBindings
import Glibc

/// The plan of one run of fwd, fully resolved from the command line and ssh_config.
public struct RunPlan: Sendable {
  /// First jump host first, destination last.
  public var hops: [HopTarget]
  public var localForwards: [LocalForward]
  /// `-R` and `-H` forwards: ports the hops' servers listen on for us.
  public var remoteForwards: [RemoteForward] = []
  /// `-W host:port`.
  public var stdio: StdioForward?
  /// GatewayPorts (`-g`): local listeners without a bind address take every address.
  public var gatewayPorts = false
  /// ExitOnForwardFailure: a forward that cannot be set up ends fwd (fwd's default), or is
  /// logged and skipped.
  public var exitOnForwardFailure = true
  /// AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6).
  public var addressFamily: Int32
  /// Whether a lost hop is rebuilt (the default) or ends fwd with `.chainLost`.
  public var rebuild = true
  /// Rebuild attempts in a row before fwd gives up with `.chainLost`; nil tries forever.
  public var maxRebuildAttempts: Int?
  /// Seconds a connection accepted while the chain is down waits for it before it is closed.
  public var pendingTimeout = 30

  public init(hops: [HopTarget], localForwards: [LocalForward], addressFamily: Int32) {
    self.hops = hops
    self.localForwards = localForwards
    self.addressFamily = addressFamily
  }
}

/// The main thread's loop once the chain is up: accepts local connections and hands each to
/// the last hop, and turns signals and a lost hop into the end of the run.
final class Runtime {
  let plan: RunPlan
  private let verifier: HostKeyVerifier
  private(set) var listeners: [LocalListener] = []
  private(set) var chain: Chain?
  private let events: Wakeup
  private let lostLock = Lock()
  private var lostEvents: [LostEvent] = []
  /// Reports held back because a hop in front of the lost one is silent too (see
  /// `handleLostHops`), and when the first of them was held.
  private var heldLost: [LostEvent] = []
  private var heldSince: UInt64 = 0
  private var nextConnectionID = 1
  private(set) var rebuild: RebuildState?
  /// Connections accepted while the chain is down, oldest first.
  private var pending: [PendingConnection] = []
  /// Each remote forward's state, by index in `plan.remoteForwards`.
  var remoteStates: [RemoteForwardState]
  /// Replies to listen requests sent after startup, from the hops' threads.
  let listenReplyLock = Lock()
  var listenReplies: [RemoteListenReply] = []
  /// Set by the `-W` pumps when the forwarded connection has ended; read on the main thread.
  let stdioLock = Lock()
  var stdioResult: ExitStatus?
  /// SOCKS clients whose request is not complete yet.
  var socksClients: [SOCKSClient] = []
  /// Wakes the main loop from other threads.
  var wakeup: Wakeup { events }

  private struct LostEvent {
    let hop: Int
    let serial: Int
    let reason: String
  }

  struct RebuildState {
    /// The first hop to connect again.
    var from: Int
    var attempts = 0
    /// Monotonic milliseconds of the next attempt.
    var nextAttempt: UInt64
  }

  struct PendingConnection {
    let fd: Int32
    let label: String
    let listener: LocalListener
    let peer: SocketAddress?
    let counters: ForwardCounters
    let acceptedAt: UInt64
  }
  /// One per listener, in the same order.
  private(set) var counters: [ForwardCounters] = []
  /// Whether the live status view is drawn on stderr, a terminal.
  var showsStatus = false
  /// When the status view is next redrawn, in monotonic milliseconds.
  var nextStatusRefresh: UInt64 = 0
  /// Milliseconds between redraws of the status view.
  static let statusInterval: UInt64 = 1000

  init(plan: RunPlan, verifier: HostKeyVerifier) throws(FwdError) {
    self.plan = plan
    self.verifier = verifier
    remoteStates = plan.remoteForwards.map { _ in RemoteForwardState() }
    do {
      events = try Wakeup()
    } catch {
      throw FwdError(.software, error.description)
    }
  }

  /// Binds, connects, serves until a signal or a lost hop, and returns the exit status.
  ///
  /// `onReady` receives the ready lines once every listener is bound and every hop is up; when
  /// it throws, the run stops with that error.
  func run(
    signals: SignalPipe, tokenKeys: [SSHUserKey], onReady: (String) throws(FwdError) -> Void
  ) throws(FwdError) -> ExitStatus {
    for spec in plan.localForwards {
      let listener = LocalListener(spec: spec)
      do {
        try listener.bind(addressFamily: plan.addressFamily, gatewayPorts: plan.gatewayPorts)
      } catch {
        guard !plan.exitOnForwardFailure else {
          closeListeners()
          throw error
        }
        logError(nil, error.message + " (continuing: ExitOnForwardFailure is no)")
        continue
      }
      listeners.append(listener)
      counters.append(ForwardCounters())
    }
    if plan.stdio == nil && listeners.isEmpty && plan.remoteForwards.isEmpty {
      throw Self.noForwardSetUp
    }

    let chain = Chain(targets: plan.hops, verifier: verifier, tokenKeys: tokenKeys)
    chain.cancelFD = signals.fd
    chain.onLost = { [weak self] index, serial, reason in self?.hopLost(index, serial, reason) }
    do {
      try chain.establish()
    } catch {
      closeListeners()
      throw error
    }
    self.chain = chain
    do throws(FwdError) {
      try requestRemoteForwardsAtStartup(chain: chain)
      if plan.stdio == nil && listeners.isEmpty && !remoteStates.contains(where: { $0.phase == .listening }) {
        throw Self.noForwardSetUp
      }
      if plan.stdio == nil { try onReady(readyLines()) }
    } catch {
      closeListeners()
      chain.stop()
      throw error
    }
    if let stdio = plan.stdio { startStdio(stdio, chain: chain) }
    let status = serve(signals: signals, chain: chain)
    if showsStatus { Log.shared.removeOverlay() }
    closeListeners()
    for connection in pending { Socket.close(connection.fd) }
    pending.removeAll()
    for client in socksClients { Socket.close(client.connection.fd) }
    socksClients.removeAll()
    chain.stop()
    Log.shared.flushSuppressed()
    return status
  }

  /// The end of a run with ExitOnForwardFailure=no in which every forward failed.
  private static let noForwardSetUp = FwdError(
    .forwarding, "no forward could be set up: each one failed (see above), so fwd has nothing to serve")

  /// Returns one line per forward for scripts, and logs each forward.
  private func readyLines() -> String {
    var text = ""
    let route = plan.hops.map(\.name).joined(separator: " -> ")
    for listener in listeners {
      text += listener.readyLine + "\n"
      let addresses = listener.boundAddresses.map(\.description).joined(separator: ", ")
      logInfo(nil, "\(listener.spec.text): listening on \(addresses), via \(route)")
    }
    for line in remoteReadyLines() { text += line + "\n" }
    return text
  }

  private func serve(signals: SignalPipe, chain: Chain) -> ExitStatus {
    var poller = Poller()
    while true {
      runTimers()
      poller.reset()
      poller.add(signals.fd, read: true, write: false)
      poller.add(events.fd, read: true, write: false)
      var sockets: [(fd: Int32, listener: LocalListener, counters: ForwardCounters)] = []
      for (listener, counters) in zip(listeners, counters) {
        for fd in listener.sockets {
          poller.add(fd, read: true, write: false)
          sockets.append((fd, listener, counters))
        }
      }
      let socksStart = sockets.count + 2
      let socksPolled = socksClients
      for client in socksPolled { poller.add(client.connection.fd, read: true, write: false) }
      do {
        try poller.wait(timeout: Runtime.earliest(nextTimeout(), timerTimeout()))
      } catch {
        logError(nil, "main loop failed: \(error.description)")
        return .software
      }
      if poller.readable(0), let stop = handleSignals(signals) { return stop }
      if poller.readable(1) { events.drain() }
      if let status = stdioStatus() { return status }
      if let status = handleLostHops(chain) { return status }
      handleListenReplies()
      retryDueRemoteForwards(chain: chain)
      for (index, client) in socksPolled.enumerated() where poller.readable(socksStart + index) {
        if !serviceSOCKS(client, chain: chain) { socksClients.removeAll { $0 === client } }
      }
      expireSOCKS()
      for (index, entry) in sockets.enumerated() where poller.readable(index + 2) {
        acceptAll(entry.fd, entry.listener, counters: entry.counters, chain: chain)
      }
      if let status = attemptRebuildIfDue(chain, signals: signals) { return status }
      expirePending()
    }
  }

  /// SIGUSR1 logs a status snapshot; SIGINT, SIGTERM and SIGHUP stop fwd with status 0.
  private func handleSignals(_ signals: SignalPipe) -> ExitStatus? {
    for number in signals.take() {
      if number == SIGUSR1 {
        logSnapshot()
        continue
      }
      logInfo(nil, "stopping on \(Self.signalName(number))")
      return .success
    }
    return nil
  }

  /// Returns the sooner of two poll(2) timeouts, where -1 means none.
  static func earliest(_ a: Int32, _ b: Int32) -> Int32 {
    if a < 0 { return b }
    if b < 0 { return a }
    return min(a, b)
  }

  /// Turns lost-hop reports into a rebuild from the hop nearest the client, or into the end of
  /// the run when rebuilding is off. Reports from hops already replaced are ignored.
  private func handleLostHops(_ chain: Chain) -> ExitStatus? {
    let current = (heldLost + takeLost()).filter { chain.isCurrent(hop: $0.hop, serial: $0.serial) }
    guard let first = current.min(by: { $0.hop < $1.hop }) else { return nil }
    if shouldHold(first, chain: chain) {
      heldLost = current
      return nil
    }
    heldLost = []
    let target = plan.hops[first.hop]
    logError(target.name, "connection to \(target.label) lost: \(first.reason)")
    guard plan.rebuild else { return .chainLost }
    chain.stop(from: first.hop)
    markRemoteForwardsDown(from: first.hop)
    let from = min(first.hop, rebuild?.from ?? first.hop)
    // The first attempt waits a second: when an outer hop dies, the hops inside it notice at
    // about the same time, and the outer hop's report should arrive before anything is redone.
    rebuild = RebuildState(
      from: from, attempts: rebuild?.attempts ?? 0, nextAttempt: Clock.monotonicMilliseconds() + 1000)
    return nil
  }

  /// Returns whether to wait before acting on a lost hop, because a hop in front of it, which
  /// carries its traffic, has been silent for a keepalive interval too. A frozen hop silences every hop
  /// inside it, and an inner hop can time out first. Waiting lets the frozen hop's own loop
  /// report it, or hear from its server again, so that the log names the hop that failed and
  /// the rebuild starts there. The wait ends after that hop's own keepalive limit.
  private func shouldHold(_ lost: LostEvent, chain: Chain) -> Bool {
    guard let silent = chain.silentHop(before: lost.hop) else { return false }
    let now = Clock.monotonicMilliseconds()
    let carrier = plan.hops[silent]
    if heldLost.isEmpty {
      heldSince = now
      logDebug(plan.hops[lost.hop].name, "lost while \(carrier.name) is silent too: waiting for \(carrier.name)")
    }
    let limit = UInt64(carrier.serverAliveInterval * max(1, carrier.serverAliveCountMax) + 1) * 1000
    return now - heldSince < limit
  }

  /// Runs one rebuild attempt when one is due. Listeners stay bound meanwhile, and connections
  /// accepted while the chain is down wait in `pending`.
  private func attemptRebuildIfDue(_ chain: Chain, signals: SignalPipe) -> ExitStatus? {
    guard var state = rebuild, Clock.monotonicMilliseconds() >= state.nextAttempt else { return nil }
    state.attempts += 1
    let target = plan.hops[state.from]
    logInfo(target.name, "rebuilding the chain from \(target.label) (attempt \(state.attempts))")
    do {
      try chain.establish(from: state.from)
    } catch {
      // Once the forwards were ready, a signal is a clean stop even in the middle of a rebuild.
      if error.status == .interrupted { return handleSignals(signals) ?? .success }
      logError(nil, error.message)
      if error.isPermanent { return error.status }
      if let limit = plan.maxRebuildAttempts, state.attempts >= limit {
        logError(nil, "giving up after \(state.attempts) rebuild attempts")
        return .chainLost
      }
      state.nextAttempt = Clock.monotonicMilliseconds() + Runtime.backoff(attempt: state.attempts)
      rebuild = state
      return nil
    }
    rebuild = nil
    // Not awaited: a port the lost session still has bound is retried while the rest is served.
    requestRemoteForwardsAgain(from: state.from, chain: chain)
    logInfo(nil, "chain rebuilt after \(state.attempts) attempt\(state.attempts == 1 ? "" : "s")")
    let waiting = pending
    pending.removeAll()
    for connection in waiting { forward(connection, chain: chain) }
    return nil
  }

  /// Milliseconds before the next rebuild attempt, or the next listen request of a remote
  /// forward after a rejected one: 1 s doubling to 30 s, with up to 20 %
  /// random jitter so that several fwd processes do not retry in step.
  static func backoff(attempt: Int) -> UInt64 {
    let base = min(30_000, 1000 << min(attempt - 1, 5))
    let jitter = Int.random(in: 0...(base / 5))
    return UInt64(base + jitter)
  }

  private func nextTimeout() -> Int32 {
    var deadlines: [UInt64] = []
    if let rebuild { deadlines.append(rebuild.nextAttempt) }
    if let retry = nextRemoteRetry() { deadlines.append(retry) }
    // Held reports are looked at again every 100 ms.
    if !heldLost.isEmpty { deadlines.append(Clock.monotonicMilliseconds() + 100) }
    if let oldest = pending.first { deadlines.append(oldest.acceptedAt + UInt64(plan.pendingTimeout) * 1000) }
    if let socks = socksClients.map(\.deadline).min() { deadlines.append(socks) }
    guard let next = deadlines.min() else { return -1 }
    let now = Clock.monotonicMilliseconds()
    return next > now ? Int32(min(next - now, 60_000)) : 0
  }

  private func expireSOCKS() {
    let now = Clock.monotonicMilliseconds()
    for client in socksClients where now >= client.deadline {
      logError(client.connection.label, "closed: no complete SOCKS request within 10 s")
      Socket.close(client.connection.fd)
    }
    socksClients.removeAll { now >= $0.deadline }
  }

  private func expirePending() {
    let limit = UInt64(plan.pendingTimeout) * 1000
    let now = Clock.monotonicMilliseconds()
    while let oldest = pending.first, now - oldest.acceptedAt >= limit {
      pending.removeFirst()
      logError(oldest.label, "closed: the chain was not rebuilt within \(plan.pendingTimeout) s (ConnectTimeout)")
      Socket.close(oldest.fd)
    }
  }

  private func acceptAll(
    _ listenFD: Int32, _ listener: LocalListener, counters: ForwardCounters, chain: Chain
  ) {
    while true {
      let client: Int32?
      do {
        client = try Socket.accept(listenFD)
      } catch {
        logError(nil, "\(listener.spec.text): accept failed: \(error.reason)")
        return
      }
      guard let client else { return }
      Socket.setNoDelay(client)
      let id = nextConnectionID
      nextConnectionID += 1
      let peer = Socket.peerAddress(client)
      let connection = PendingConnection(
        fd: client, label: "conn \(id)", listener: listener, peer: peer, counters: counters,
        acceptedAt: Clock.monotonicMilliseconds())
      logDebug(connection.label, "accepted from \(peer?.description ?? "?") on \(listener.spec.text)")
      counters.connectionAccepted()
      if rebuild != nil {
        logDebug(connection.label, "waiting for the chain to be rebuilt")
        pending.append(connection)
      } else {
        forward(connection, chain: chain)
      }
    }
  }

  private static func signalName(_ number: Int32) -> String {
    switch number {
    case SIGINT: "SIGINT"
    case SIGTERM: "SIGTERM"
    case SIGHUP: "SIGHUP"
    default: "signal \(number)"
    }
  }

  private func forward(_ connection: PendingConnection, chain: Chain) {
    let target: ChannelTarget
    switch connection.listener.spec.target {
    case .tcp(let host, let port):
      target = .tcp(
        host: host, port: port, originHost: connection.peer?.host ?? "127.0.0.1",
        originPort: connection.peer?.port ?? 0)
    case .unix(let path):
      target = .streamLocal(path: path)
    case .socks:
      startSOCKS(connection, chain: chain)
      return
    }
    let counters = connection.counters
    chain.last.open(
      ChannelRequest(
        label: connection.label, fd: connection.fd, target: target, counters: counters,
        completion: { outcome in
          if case .failure = outcome { counters.channelFailed() }
        }))
  }

  private func hopLost(_ index: Int, _ serial: Int, _ reason: String) {
    lostLock.lock()
    lostEvents.append(LostEvent(hop: index, serial: serial, reason: reason))
    lostLock.unlock()
    events.signal()
  }

  private func takeLost() -> [LostEvent] {
    lostLock.lock()
    defer { lostLock.unlock() }
    let taken = lostEvents
    lostEvents.removeAll()
    return taken
  }

  private func closeListeners() {
    for listener in listeners { listener.close() }
  }
}
