import FwdBindings
import Glibc

/// Opens the TCP connection to the first hop as ssh does: every resolved address in turn,
/// bound first to BindAddress when it is set, for ConnectionAttempts rounds one second apart,
/// each connect limited by ConnectTimeout.
struct TCPDialer {
  let target: HopTarget

  /// Returns a connected, non-blocking socket with TCP_NODELAY and TCPKeepAlive applied.
  ///
  /// - Throws: `FwdError` with status `.connection` when the name does not resolve or no
  ///   attempt connects.
  func connect() throws(FwdError) -> Int32 {
    let addresses: [SocketAddress]
    do {
      addresses = try SocketAddress.resolve(
        host: target.hostName, port: target.port, family: target.addressFamily)
    } catch {
      throw FwdError(
        .connection,
        "\(target.label): could not resolve hostname \(target.hostName): \(error.reason); "
          + "check HostName in ssh_config")
    }
    let attempts = max(1, target.connectionAttempts)
    var lastFailure: Failure?
    for attempt in 1...attempts {
      if attempt > 1 {
        sleep(1)
        logDebug(target.name, "connection attempt \(attempt) of \(attempts)")
      }
      for address in addresses {
        do {
          return try connect(to: address)
        } catch {
          logDebug(target.name, "connect to \(address) failed: \(error.description)")
          lastFailure = error
        }
      }
    }
    let reason = lastFailure?.description ?? "no address"
    let tries = attempts > 1 ? " after \(attempts) attempts" : ""
    throw FwdError(
      .connection,
      "\(target.label): connect failed\(tries): \(reason); check that sshd runs there and the "
        + "Port is right")
  }

  /// A failed connect, or a BindAddress that could not be resolved or bound.
  struct Failure: Error, CustomStringConvertible {
    /// The failed step, such as `BindAddress 10.9.9.9: bind: `, or empty for the connect.
    var context: String
    var reason: String

    var description: String { context + reason }
  }

  private func connect(to address: SocketAddress) throws(Failure) -> Int32 {
    let local = try localAddress(family: address.family)
    let timeout = Int32((target.connectTimeout ?? 0) * 1000)
    do {
      let fd = try Socket.connect(to: address, timeout: timeout > 0 ? timeout : -1, from: local)
      Socket.setNoDelay(fd)
      Socket.setKeepAlive(fd, target.tcpKeepAlive)
      let source = local == nil ? "" : Socket.localAddress(fd).map { " from \($0)" } ?? ""
      logDebug(target.name, "connected to \(address)\(source)")
      return fd
    } catch {
      let context = error.function == "bind" ? "BindAddress \(target.bindAddress ?? ""): bind: " : ""
      throw Failure(context: context, reason: error.reason)
    }
  }

  /// Resolves BindAddress in the family of the address being connected; nil when unset.
  private func localAddress(family: Int32) throws(Failure) -> SocketAddress? {
    guard let bindAddress = target.bindAddress else { return nil }
    do {
      return try SocketAddress.resolve(
        host: bindAddress, port: 0, family: family, passive: true
      ).first
    } catch {
      throw Failure(context: "BindAddress \(bindAddress): ", reason: error.reason)
    }
  }
}
