import Dispatch
import FwdBindings
import Glibc

extension Runtime {
  /// Asks the hops' servers to listen for every `-R` and `-H` forward at startup, and waits
  /// for each reply. A rejection ends fwd when ExitOnForwardFailure is set; otherwise the
  /// forward is logged and skipped for the rest of the run.
  func requestRemoteForwardsAtStartup(chain: Chain) throws(FwdError) {
    for (index, forward) in plan.remoteForwards.enumerated() {
      let answered = DispatchSemaphore(value: 0)
      let box = BoundPortBox()
      remoteStates[index].phase = .requested
      chain.hops[forward.hopIndex].listen(
        makeListenRequest(index, port: forward.port, chain: chain) { result in
          box.result = result
          answered.signal()
        })
      let hopName = plan.hops[forward.hopIndex].name
      if answered.wait(timeout: .now() + 30) == .timedOut {
        throw FwdError(.forwarding, "\(forward.text): \(hopName) did not reply to the listen request within 30 s")
      }
      switch box.result {
      case .success(let port)?:
        remoteStates[index].phase = .listening
        remoteStates[index].boundPort = port
        logInfo(hopName, "\(forward.text): listening on \(listenAddress(forward, port: port))")
      case .failure(let error)?:
        if plan.exitOnForwardFailure {
          // libssh2 reports only that the request failed, so the likely causes are named.
          throw FwdError(
            .forwarding,
            error.message + "; the port may be in use there, or the server's AllowTcpForwarding or"
              + " GatewayPorts forbids it; choose another port, or pass -o ExitOnForwardFailure=no"
              + " to continue without this forward")
        }
        remoteStates[index].phase = .skipped
        logError(hopName, error.message + " (continuing: ExitOnForwardFailure is no)")
      case nil:
        throw FwdError(.software, "\(forward.text): no reply recorded")
      }
    }
  }

  /// Builds the listen request of remote forward `index` for `port`; `onResult` runs on the
  /// hop's thread.
  func makeListenRequest(
    _ index: Int, port: Int, chain: Chain, onResult: @escaping (Result<Int, FwdError>) -> Void
  ) -> RemoteListenRequest {
    let forward = plan.remoteForwards[index]
    let counters = remoteStates[index].counters
    return RemoteListenRequest(
      label: forward.text, bindAddress: forward.bindAddress, port: port, onResult: onResult,
      onConnection: { [weak self, weak chain] id in
        guard let self, let chain else { return nil }
        guard let destination = self.connectRemote(forward, id: id, chain: chain) else { return nil }
        counters.connectionAccepted()
        return (destination.fd, destination.label, counters)
      })
  }

  /// Returns `address:port` of a remote forward's listener, with an IPv6 address in brackets.
  func listenAddress(_ forward: RemoteForward, port: Int) -> String {
    let address = forward.bindAddress.contains(":") ? "[\(forward.bindAddress)]" : forward.bindAddress
    return "\(address):\(port)"
  }

  /// Ready lines of the remote forwards: `remote` for the last hop, `jump:<hop>` for others.
  func remoteReadyLines() -> [String] {
    var lines: [String] = []
    for (index, forward) in plan.remoteForwards.enumerated() {
      guard let port = remoteStates[index].boundPort else { continue }
      lines.append(remoteReadyLine(forward, port: port))
    }
    return lines
  }

  /// Returns a remote forward's ready line for a listener on `port`.
  func remoteReadyLine(_ forward: RemoteForward, port: Int) -> String {
    "\(readyKind(forward)) \(forward.bindAddress) \(port) \(forward.readyTarget)"
  }

  private func readyKind(_ forward: RemoteForward) -> String {
    if case .lastHop = forward.target { return "jump:\(plan.hops[forward.hopIndex].name)" }
    return "remote"
  }

  /// Runs on the listening hop's thread for each forwarded connection: returns the socket the
  /// channel is relayed to.
  func connectRemote(_ forward: RemoteForward, id: Int, chain: Chain) -> (fd: Int32, label: String)? {
    let label = "rconn \(id)"
    switch forward.target {
    case .local(let host, let port):
      let connector = RemoteTargetConnector(
        host: host, port: port, family: plan.addressFamily,
        timeout: Int32(clamping: plan.pendingTimeout * 1000), label: label, forwardText: forward.text)
      do {
        return (try connector.start(), label)
      } catch {
        logError(label, "\(forward.text): \(error.description)")
        return nil
      }
    case .localUnix(let path):
      do {
        return (try Socket.startConnect(to: try SocketAddress.unix(path: path)), label)
      } catch {
        logError(label, "\(forward.text): connect to \(path) failed: \(error.reason)")
        return nil
      }
    case .lastHop(let host, let port):
      guard let last = chain.lastHopIfUp() else {
        logError(label, "\(forward.text): closed: the chain is being rebuilt")
        return nil
      }
      let pair: (Int32, Int32)
      do {
        pair = try Socket.pair()
      } catch {
        logError(label, "\(forward.text): \(error.description)")
        return nil
      }
      last.open(
        ChannelRequest(
          label: label, fd: pair.1, target: .tcp(host: host, port: port, originHost: "127.0.0.1", originPort: 0),
          completion: nil))
      return (pair.0, label)
    }
  }

  // MARK: - Standard input and output (-W)

  /// Carries stdin and stdout through a channel of the last hop to the `-W` target. The run
  /// ends once the target's side has closed and everything it sent reached stdout.
  func startStdio(_ stdio: StdioForward, chain: Chain) {
    let pair: (Int32, Int32)
    do {
      pair = try Socket.pair()
    } catch {
      finishStdio(.software, "-W: \(error.description)")
      return
    }
    chain.last.open(
      ChannelRequest(
        label: "stdio", fd: pair.0,
        target: .tcp(host: stdio.host, port: stdio.port, originHost: "127.0.0.1", originPort: 0),
        completion: { [weak self] result in
          if case .failure(let error) = result {
            self?.finishStdio(.forwarding, "-W \(stdio.host):\(stdio.port): \(error.message)")
          }
        }))
    let local = pair.1
    StreamPump(from: 0, to: local, onEnd: { Socket.shutdownWrite(local) }).start()
    StreamPump(from: local, to: 1, onEnd: { [weak self] in self?.finishStdio(.success, nil) }).start()
  }

  func finishStdio(_ status: ExitStatus, _ message: String?) {
    if let message { logError(nil, message) }
    stdioLock.lock()
    if stdioResult == nil { stdioResult = status }
    stdioLock.unlock()
    wakeup.signal()
  }

  func stdioStatus() -> ExitStatus? {
    stdioLock.lock()
    defer { stdioLock.unlock() }
    return stdioResult
  }

  // MARK: - SOCKS (-D)

  /// Starts reading a SOCKS client's request; the main loop polls it until it is complete.
  func startSOCKS(_ connection: PendingConnection, chain: Chain) {
    socksClients.append(SOCKSClient(connection: connection, deadline: Clock.monotonicMilliseconds() + 10_000))
  }

  /// Reads what a SOCKS client sent and, once its request is complete, opens the channel and
  /// replies with the outcome. Returns false once the client is handed on or closed.
  func serviceSOCKS(_ client: SOCKSClient, chain: Chain) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 1024)
    let fd = client.connection.fd
    let label = client.connection.label
    let received: Int
    do {
      switch try buffer.withUnsafeMutableBytes({ bytes throws(SystemError) in
        try Socket.read(fd, into: bytes.baseAddress!, count: bytes.count)
      }) {
      case .bytes(let n): received = n
      case .wouldBlock: return true
      case .endOfFile:
        logDebug(label, "SOCKS client closed before its request")
        Socket.close(fd)
        return false
      }
    } catch {
      logDebug(label, "SOCKS client: \(error)")
      Socket.close(fd)
      return false
    }
    switch client.handshake.receive(buffer[0..<received]) {
    case .needsMoreBytes(let send):
      Self.sendAll(fd, send)
      return true
    case .invalid(let failure, let send):
      logError(label, "\(client.connection.listener.spec.text): invalid SOCKS request: \(failure.reason)")
      Self.sendAll(fd, send)
      Socket.close(fd)
      return false
    case .complete(let request, let send, let remainder):
      Self.sendAll(fd, send)
      if !remainder.isEmpty {
        // NOTE: bytes a client sends before the SOCKS reply are dropped. Clients wait for the
        // reply (RFC 1928 section 6), so none was seen in practice.
        logDebug(label, "dropping \(remainder.count) bytes sent before the SOCKS reply")
      }
      guard let last = chain.lastHopIfUp() else {
        Self.sendAll(fd, request.reply(.generalFailure))
        Socket.close(fd)
        return false
      }
      logDebug(label, "SOCKS request for \(request.host):\(request.port)")
      let peer = client.connection.peer
      last.open(
        ChannelRequest(
          label: label, fd: fd,
          target: .tcp(
            host: request.host, port: request.port, originHost: peer?.host ?? "127.0.0.1",
            originPort: peer?.port ?? 0),
          completion: { result in
            switch result {
            case .success: Self.sendAll(fd, request.reply(.succeeded))
            case .failure(let error): Self.sendAll(fd, request.reply(Self.socksCode(for: error.message)))
            }
          }))
      return false
    }
  }

  /// Returns the SOCKS reply code for a failed channel open. libssh2 1.10 passes on only the SSH reason
  /// code, so "connect failed" (refused, unreachable or unresolved alike) becomes
  /// "connection refused".
  static func socksCode(for message: String) -> SOCKSReplyCode {
    if message.contains("prohibited") { return .connectionNotAllowed }
    if message.contains("connect failed") { return .connectionRefused }
    return .generalFailure
  }

  /// Writes a short reply on a non-blocking socket, waiting briefly if it is full.
  static func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    var poller = Poller()
    while offset < bytes.count {
      let result = try? bytes.withUnsafeBytes { raw throws(SystemError) in
        try Socket.write(fd, from: raw.baseAddress! + offset, count: bytes.count - offset)
      }
      switch result {
      case .bytes(let n)?: offset += n
      case .wouldBlock?:
        poller.reset()
        poller.add(fd, read: false, write: true)
        try? poller.wait(timeout: 1000)
      default: return
      }
    }
  }
}

/// A SOCKS client whose request is still being read.
final class SOCKSClient {
  let connection: Runtime.PendingConnection
  var handshake = SOCKSHandshake()
  /// Monotonic milliseconds after which an unfinished handshake is closed.
  let deadline: UInt64

  init(connection: Runtime.PendingConnection, deadline: UInt64) {
    self.connection = connection
    self.deadline = deadline
  }
}

/// The result of a listen request, handed from the hop's thread to the waiting main thread.
private final class BoundPortBox: @unchecked Sendable {
  var result: Result<Int, FwdError>?
}
