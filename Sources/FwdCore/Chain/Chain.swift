import Foundation
import FwdBindings

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

  /// Called on a hop's thread when its session is lost, with the hop index and what was seen.
  var onLost: ((Int, String) -> Void)?

  init(targets: [HopTarget], verifier: HostKeyVerifier, tokenKeys: [SSHUserKey]) {
    precondition(!targets.isEmpty, "a chain has at least the destination")
    self.targets = targets
    self.verifier = verifier
    self.tokenKeys = tokenKeys
  }

  var last: HopLoop { hops[hops.count - 1] }

  /// Freed heap memory the process keeps instead of returning it to the kernel: 16 channel
  /// windows (libssh2's default is 2 MiB) of received packets, which libssh2 frees and
  /// allocates again at the rate data flows.
  static let retainedHeapBytes: Int32 = 32 << 20

  /// Connects and authenticates every hop in order; on failure stops those already up.
  func establish() throws(FwdError) {
    if !Heap.retainFreedMemory(upTo: Chain.retainedHeapBytes) {
      logDebug(nil, "mallopt(M_TRIM_THRESHOLD) failed; freed packets go back to the kernel")
    }
    do throws(FwdError) {
      for (index, target) in targets.enumerated() {
        let socket = index == 0 ? try connectFirstHop(target) : try tunnel(to: target, through: hops[index - 1])
        sessionSockets.append(socket)
        let session = try HopConnector(target: target, verifier: verifier, tokenKeys: tokenKeys)
          .establish(socket: socket)
        let loop: HopLoop
        do {
          loop = try HopLoop(name: target.name, session: session)
        } catch {
          throw FwdError(.software, "\(target.label): \(error.description)")
        }
        loop.aliveInterval = target.serverAliveInterval
        loop.aliveCountMax = max(1, target.serverAliveCountMax)
        loop.onLost = { [weak self] reason in self?.onLost?(index, reason) }
        hops.append(loop)
        loop.start()
        logInfo(target.name, "connected to \(target.label) as \(target.user)")
      }
    } catch {
      stop()
      throw error
    }
  }

  /// Stops the hops from the last back to the first, each after its channels are closed.
  func stop(timeout: Double = 1.5) {
    let deadline = Date().addingTimeInterval(timeout)
    for hop in hops.reversed() {
      hop.stop()
      hop.join(timeout: max(0.05, deadline.timeIntervalSinceNow))
    }
    hops.removeAll()
    for socket in sessionSockets { Socket.close(socket) }
    sessionSockets.removeAll()
  }

  private func connectFirstHop(_ target: HopTarget) throws(FwdError) -> Int32 {
    let addresses: [SocketAddress]
    do {
      addresses = try SocketAddress.resolve(host: target.hostName, port: target.port, family: target.addressFamily)
    } catch {
      throw FwdError(.connection, "\(target.label): could not resolve hostname \(target.hostName): \(error.reason); check HostName in ssh_config")
    }
    let timeout = Int32((target.connectTimeout ?? 0) * 1000)
    var lastError: SystemError?
    for address in addresses {
      do {
        let fd = try Socket.connect(to: address, timeout: timeout > 0 ? timeout : -1)
        Socket.setNoDelay(fd)
        Socket.setKeepAlive(fd, target.tcpKeepAlive)
        logDebug(target.name, "connected to \(address)")
        return fd
      } catch {
        logDebug(target.name, "connect to \(address) failed: \(error.reason)")
        lastError = error
      }
    }
    let reason = lastError.map { $0.reason } ?? "no address"
    throw FwdError(.connection, "\(target.label): connect failed: \(reason); check that sshd runs there and the Port is right")
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
    let opened = DispatchSemaphore(value: 0)
    let result = ResultBox()
    previous.open(
      ChannelRequest(
        label: "\(previous.name): tunnel to \(target.name)", fd: pair.0,
        targetHost: target.hostName, targetPort: target.port,
        originHost: "127.0.0.1", originPort: 0,
        completion: { outcome in
          result.value = outcome
          opened.signal()
        }))
    let timeout = Double(target.connectTimeout ?? HopConnector.defaultHandshakeTimeout)
    if opened.wait(timeout: .now() + timeout) == .timedOut {
      Socket.close(pair.1)
      throw FwdError(.connection, "\(target.label): opening a channel through \(previous.name) timed out after \(Int(timeout)) s")
    }
    if case .failure(let error) = result.value {
      Socket.close(pair.1)
      throw FwdError(.connection, "\(target.label): cannot reach it through \(error.message); check HostName and Port, and that \(previous.name) allows TCP forwarding")
    }
    return pair.1
  }
}

/// A result handed from a hop's thread to the thread waiting on a semaphore.
private final class ResultBox: @unchecked Sendable {
  var value: Result<Void, FwdError>?
}
