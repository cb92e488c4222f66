import Foundation
import FwdBindings
import Glibc

/// What one run of fwd does, fully resolved from the command line and ssh_config.
public struct RunPlan: Sendable {
  /// First jump host first, destination last.
  public var hops: [HopTarget]
  public var localForwards: [LocalForward]
  /// AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6).
  public var addressFamily: Int32

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
  private let lostLock = NSLock()
  private var lostReason: (hop: Int, reason: String)?
  private var nextConnectionID = 1
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
        try listener.bind(addressFamily: plan.addressFamily)
      } catch {
        closeListeners()
        throw error
      }
      listeners.append(listener)
      counters.append(ForwardCounters())
    }

    let chain = Chain(targets: plan.hops, verifier: verifier, tokenKeys: tokenKeys)
    chain.onLost = { [weak self] index, reason in self?.hopLost(index, reason) }
    do {
      try chain.establish()
    } catch {
      closeListeners()
      throw error
    }
    self.chain = chain
    do {
      try onReady(readyLines())
    } catch {
      closeListeners()
      chain.stop()
      throw error
    }
    let status = serve(signals: signals, chain: chain)
    if showsStatus { Log.shared.removeOverlay() }
    closeListeners()
    chain.stop()
    Log.shared.flushSuppressed()
    return status
  }

  /// Returns one line per forward for scripts, and logs each forward.
  private func readyLines() -> String {
    var text = ""
    let route = plan.hops.map(\.name).joined(separator: " -> ")
    for listener in listeners {
      text += listener.readyLine + "\n"
      let addresses = listener.boundAddresses.map(\.description).joined(separator: ", ")
      logInfo(nil, "forwarding \(addresses) to \(listener.spec.targetHost):\(listener.spec.targetPort) via \(route)")
    }
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
      do {
        try poller.wait(timeout: timerTimeout())
      } catch {
        logError(nil, "main loop failed: \(error.description)")
        return .software
      }
      if poller.readable(0) {
        for number in signals.take() {
          if number == SIGUSR1 {
            logSnapshot()
            continue
          }
          logInfo(nil, "stopping on \(Self.signalName(number))")
          return .success
        }
      }
      if poller.readable(1) {
        events.drain()
        if let lost = takeLost() {
          let target = plan.hops[lost.hop]
          logError(target.name, "connection to \(target.label) lost: \(lost.reason)")
          return .chainLost
        }
      }
      for (index, entry) in sockets.enumerated() where poller.readable(index + 2) {
        acceptAll(entry.fd, entry.listener, counters: entry.counters, chain: chain)
      }
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
        logError(nil, "-L \(listener.spec.text): accept failed: \(error.reason)")
        return
      }
      guard let client else { return }
      Socket.setNoDelay(client)
      let id = nextConnectionID
      nextConnectionID += 1
      let peer = Socket.peerAddress(client)
      let label = "conn \(id)"
      logDebug(label, "accepted from \(peer?.description ?? "?") on -L \(listener.spec.text)")
      counters.connectionAccepted()
      // TODO: pass `counters: counters` once ChannelRequest carries ForwardCounters (see
      // StatusSource.swift); until then bytes stay 0 and closed connections still count as
      // active in the status view.
      chain.last.open(
        ChannelRequest(
          label: label, fd: client, targetHost: listener.spec.targetHost, targetPort: listener.spec.targetPort,
          originHost: peer?.host ?? "127.0.0.1", originPort: peer?.port ?? 0,
          completion: { outcome in
            if case .failure = outcome { counters.channelFailed() }
          }))
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

  private func hopLost(_ index: Int, _ reason: String) {
    lostLock.lock()
    // Keep the hop nearest the client: its loss ends every hop after it too.
    if lostReason == nil || index < lostReason!.hop { lostReason = (index, reason) }
    lostLock.unlock()
    events.signal()
  }

  func takeLost() -> (hop: Int, reason: String)? {
    lostLock.lock()
    defer { lostLock.unlock() }
    return lostReason
  }

  private func closeListeners() {
    for listener in listeners { listener.close() }
  }
}
