import Dispatch
import FwdBindings
import Glibc

/// The hops from the first jump host to the destination. The first hop runs over TCP; each
/// later hop's session runs over a socketpair whose other end the hop before it relays into
/// a direct-tcpip channel, so every session reads and writes an ordinary socket and each
/// hop's crypto runs on its own thread.
final class Chain {
  let targets: [HopTarget]
  private let verifier: HostKeyVerifier
  private let tokenKeys: [SSHUserKey]
  private(set) var hops: [HopLoop] = []
  /// The socket each hop's session reads and writes, closed after the hop's loop ends.
  private var sessionSockets: [Int32] = []
  /// The first hop's ProxyCommand, when it has one; ended after its socket is closed.
  private var proxyCommand: ProxyCommandProcess?

  /// Called on a hop's thread when its session is lost, with the hop index, the hop loop's
  /// serial (to tell a current hop from one already replaced) and what was seen.
  var onLost: ((Int, Int, String) -> Void)?
  /// A descriptor that becomes readable when set-up should stop (the signal pipe).
  var cancelFD: Int32?
  private var nextSerial = 1
  private var serials: [Int] = []

  init(targets: [HopTarget], verifier: HostKeyVerifier, tokenKeys: [SSHUserKey]) {
    precondition(!targets.isEmpty, "a chain has at least the destination")
    self.targets = targets
    self.verifier = verifier
    self.tokenKeys = tokenKeys
  }

  var last: HopLoop { hops[hops.count - 1] }

  private let hopsLock = Lock()
  private var lastUp: HopLoop?

  /// The destination's loop when every hop is up, for other threads; nil during a rebuild.
  func lastHopIfUp() -> HopLoop? {
    hopsLock.lock()
    defer { hopsLock.unlock() }
    return lastUp
  }

  private func publishLast() {
    hopsLock.lock()
    lastUp = hops.count == targets.count ? hops.last : nil
    hopsLock.unlock()
  }

  /// Returns the first hop before `index` whose server has gone silent, if any. When a hop
  /// stops replying, every hop inside it goes silent too, and the inner ones can notice first.
  func silentHop(before index: Int) -> Int? {
    hops.prefix(index).firstIndex { $0.isSilent }
  }

  /// Whether the hop loop with this serial is still part of the chain.
  func isCurrent(hop index: Int, serial: Int) -> Bool {
    index < serials.count && serials[index] == serial
  }

  /// Freed heap memory the process keeps instead of returning it to the kernel: 16 channel
  /// windows (libssh2's default is 2 MiB) of received packets, which libssh2 frees and
  /// allocates again at the rate data flows.
  static let retainedHeapBytes: Int32 = 32 << 20

  /// The send buffer of each end of an inner hop's socketpair: one channel window, libssh2's
  /// default of 2 MiB.
  static let tunnelSendBufferBytes: Int32 = 2 << 20

  /// Connects and authenticates the hops from `start` on, in order; hops before `start` must
  /// be up. On failure stops the hops this call started.
  func establish(from start: Int = 0) throws(FwdError) {
    precondition(start == hops.count, "hops before \(start) must be up and no later hop")
    if start == 0 && !Heap.retainFreedMemory(upTo: Chain.retainedHeapBytes) {
      logDebug(nil, "mallopt(M_TRIM_THRESHOLD) failed; freed packets go back to the kernel")
    }
    do throws(FwdError) {
      for index in start..<targets.count {
        let target = targets[index]
        let socket = index == 0 ? try connectFirstHop(target) : try tunnel(to: target, through: hops[index - 1])
        sessionSockets.append(socket)
        let keys = target.usesToken ? tokenKeys : []
        let session: SSHSession
        do {
          session = try HopConnector(target: target, verifier: verifier, tokenKeys: keys, cancelFD: cancelFD)
            .establish(socket: socket)
        } catch {
          throw explainProxyCommandExit(error, hop: index)
        }
        let loop: HopLoop
        do {
          loop = try HopLoop(name: target.name, session: session)
        } catch {
          throw FwdError(.software, "\(target.label): \(error.description)")
        }
        loop.aliveInterval = target.serverAliveInterval
        loop.aliveCountMax = max(1, target.serverAliveCountMax)
        let serial = nextSerial
        nextSerial += 1
        loop.onLost = { [weak self] reason in self?.onLost?(index, serial, reason) }
        hops.append(loop)
        serials.append(serial)
        loop.start()
        publishLast()
        logInfo(target.name, "connected to \(target.label) as \(target.user)")
      }
    } catch {
      stop(from: start)
      throw error
    }
  }

  /// Stops every hop, from the last back to the first, each after its channels are closed.
  func stop(timeout: Double = 1.5) {
    stop(from: 0, timeout: timeout)
  }

  /// Stops the hops from `start` to the last, last first, and closes their sockets.
  func stop(from start: Int, timeout: Double = 1.5) {
    let deadline = Double(Clock.monotonicMilliseconds()) / 1000 + timeout
    while hops.count > start {
      let hop = hops.removeLast()
      publishLast()
      serials.removeLast()
      hop.stop()
      let remaining = deadline - Double(Clock.monotonicMilliseconds()) / 1000
      if !hop.join(timeout: max(0.05, remaining)) { HopLoop.noteAbandonedThread() }
    }
    while sessionSockets.count > start {
      Socket.close(sessionSockets.removeLast())
    }
    if start == 0, let proxyCommand {
      proxyCommand.stop()
      let ending = proxyCommand.exitIfEnded() ?? "ended"
      logDebug(targets[0].name, "ProxyCommand (PID \(proxyCommand.pid)) \(ending)")
      self.proxyCommand = nil
    }
  }

  /// Returns a socket to the first hop: a TCP connection, or the ProxyCommand's stdin and
  /// stdout when it has one.
  private func connectFirstHop(_ target: HopTarget) throws(FwdError) -> Int32 {
    if let command = target.proxyCommand {
      return try startProxyCommand(command, target)
    }
    return try TCPDialer(target: target).connect()
  }

  /// Starts the first hop's ProxyCommand and returns fwd's end of its stdin and stdout.
  private func startProxyCommand(_ command: String, _ target: HopTarget) throws(FwdError)
    -> Int32
  {
    do {
      let process = try ProxyCommandProcess.start(command: command)
      proxyCommand = process
      logDebug(target.name, "started ProxyCommand '\(command)' as PID \(process.pid)")
      return process.socket
    } catch {
      throw FwdError(
        .connection,
        "\(target.label): cannot start ProxyCommand '\(command)': \(error.description)")
    }
  }

  /// Adds how the ProxyCommand ended to a first-hop failure, when it has ended: a command
  /// that fails (such as one not found) shows up in libssh2 only as a closed connection.
  private func explainProxyCommandExit(_ error: FwdError, hop: Int) -> FwdError {
    guard hop == 0, error.status == .connection, let proxyCommand else { return error }
    // A command that is exiting may need a moment to become a zombie.
    for _ in 0..<50 {
      if let ended = proxyCommand.exitIfEnded() {
        return FwdError(error.status, "\(error.message) (ProxyCommand \(ended))")
      }
      usleep(10_000)
    }
    return error
  }

  /// Returns whether `cancelFD` has become readable, which means a signal asked fwd to stop.
  private func cancelRequested() -> Bool {
    guard let cancelFD else { return false }
    var poller = Poller()
    poller.add(cancelFD, read: true, write: false)
    guard (try? poller.wait(timeout: 0)) != nil else { return false }
    return poller.readable(0)
  }

  /// Opens a direct-tcpip channel through `previous` to the target's SSH port and returns the
  /// socket the target's session will use.
  private func tunnel(to target: HopTarget, through previous: HopLoop) throws(FwdError) -> Int32 {
    let pair: (Int32, Int32)
    do {
      pair = try Socket.pair()
    } catch {
      throw FwdError(.software, "\(target.label): \(error.description)")
    }
    // Both hop threads write into the pair. With Linux's default of 208 KiB the hop loops
    // polled two to six times as often per GiB moved (perf stat, 2 loopback hops).
    Socket.setSendBufferSize(pair.0, Chain.tunnelSendBufferBytes)
    Socket.setSendBufferSize(pair.1, Chain.tunnelSendBufferBytes)
    let opened = DispatchSemaphore(value: 0)
    let result = ResultBox()
    previous.open(
      ChannelRequest(
        label: "\(previous.name): tunnel to \(target.name)", fd: pair.0,
        target: .tcp(host: target.hostName, port: target.port, originHost: "127.0.0.1", originPort: 0),
        reportsFailure: true,
        completion: { outcome in
          result.value = outcome
          opened.signal()
        }))
    let timeout = Double(target.connectTimeout ?? HopConnector.defaultHandshakeTimeout)
    let deadline = DispatchTime.now() + timeout
    var outcome = DispatchTimeoutResult.timedOut
    // Waits in slices so that a signal stops set-up at once, even when the hop before never
    // replies to the open (frozen, with keepalives off).
    while outcome == .timedOut, DispatchTime.now() < deadline {
      outcome = opened.wait(timeout: min(deadline, .now() + 0.1))
      if outcome == .timedOut, cancelRequested() {
        Socket.close(pair.1)
        throw FwdError(.interrupted, "\(target.label): set-up stopped by a signal")
      }
    }
    if outcome == .timedOut {
      Socket.close(pair.1)
      throw FwdError(
        .connection, "\(target.label): opening a channel through \(previous.name) timed out after \(Int(timeout)) s")
    }
    if case .failure(let error) = result.value {
      Socket.close(pair.1)
      throw FwdError(
        .connection,
        "\(target.label): cannot reach it through \(error.message); "
          + "check HostName and Port, and that \(previous.name) allows TCP forwarding"
      )
    }
    return pair.1
  }
}

/// A result handed from a hop's thread to the thread waiting on a semaphore.
private final class ResultBox: @unchecked Sendable {
  var value: Result<Void, FwdError>?
}
