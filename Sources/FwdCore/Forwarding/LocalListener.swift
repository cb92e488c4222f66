import FwdBindings
import Glibc

/// One local forward's listening sockets: every address its bind address resolves to, all
/// bound or none, or one Unix-domain socket.
final class LocalListener {
  let spec: LocalForward
  private(set) var sockets: [Int32] = []
  private(set) var boundAddresses: [SocketAddress] = []
  /// The socket file this listener created, removed again by `close`.
  private var createdPath: String?

  init(spec: LocalForward) {
    self.spec = spec
  }

  func bind(addressFamily: Int32, gatewayPorts: Bool) throws(FwdError) {
    switch spec.listen {
    case .tcp(let bindAddress, let port):
      try bindTCP(
        spec.bindHost(bindAddress, addressFamily: addressFamily, gatewayPorts: gatewayPorts), port, addressFamily)
    case .unix(let path):
      try bindUnix(path)
    }
  }

  /// Binds every address. With port 0 the first bind picks the port and the others reuse it,
  /// as ssh does.
  private func bindTCP(_ host: String?, _ requestedPort: Int, _ addressFamily: Int32) throws(FwdError) {
    let addresses: [SocketAddress]
    do {
      addresses = try SocketAddress.resolve(host: host, port: requestedPort, family: addressFamily, passive: true)
    } catch {
      throw FwdError(.forwarding, "\(spec.text): bind address \(host ?? "*") not resolved: \(error.reason)")
    }
    var port = requestedPort
    for address in addresses {
      let fd: Int32
      var chosen = address
      do {
        if port != requestedPort { chosen = try Self.withPort(address, port) }
        fd = try Socket.listen(on: chosen)
      } catch {
        close()
        throw FwdError(
          .forwarding, "\(spec.text): bind \(chosen) failed: \(error.reason); \(Self.bindAdvice(error))")
      }
      sockets.append(fd)
      let bound = Socket.localAddress(fd) ?? chosen
      boundAddresses.append(bound)
      if port == 0 { port = bound.port }
    }
  }

  /// Returns what to change after a failed bind: the port when it is taken, the address when
  /// this machine does not have it, otherwise both.
  private static func bindAdvice(_ error: SystemError) -> String {
    switch error.errnoValue {
    case EADDRINUSE: "choose another port or stop what listens there"
    case EADDRNOTAVAIL: "use an address of this machine, such as 127.0.0.1, or omit it"
    case EACCES: "choose a port above 1023, or run with the right to bind below it"
    default: "check the bind address and port"
    }
  }

  /// Binds a Unix-domain socket with mode 0600. A socket file left by a process that is gone
  /// (connecting to it is refused) is replaced; a live one is an error, as is any other file.
  private func bindUnix(_ path: String) throws(FwdError) {
    do {
      let address = try SocketAddress.unix(path: path)
      if FileStatus.isSocket(path) {
        if let probe = try? Socket.connect(to: address, timeout: 1000) {
          Socket.close(probe)
          throw FwdError(
            .forwarding, "\(spec.text): \(path) is in use by another listener; stop it or choose another path")
        }
        logInfo(nil, "\(spec.text): removing stale socket \(path)")
        unlink(path)
      } else if Self.exists(path) {
        throw FwdError(
          .forwarding, "\(spec.text): \(path) exists and is not a socket; remove it or choose another path")
      }
      let oldMask = umask(0o177)
      defer { umask(oldMask) }
      let fd = try Socket.listen(on: address)
      sockets.append(fd)
      boundAddresses.append(address)
      createdPath = path
    } catch let error as SystemError {
      // sockaddr_un has room for 107 bytes and the terminating NUL on Linux.
      let limit =
        error.errnoValue == ENAMETOOLONG ? "; a Unix socket path can have at most 107 bytes" : ""
      throw FwdError(.forwarding, "\(spec.text): bind \(path) failed: \(error.reason)\(limit)")
    } catch let error as FwdError {
      throw error
    } catch {
      throw FwdError(.software, "\(spec.text): \(error)")
    }
  }

  /// Whether anything, a dangling symbolic link included, is at `path`.
  private static func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  private static func withPort(_ address: SocketAddress, _ port: Int) throws(SystemError) -> SocketAddress {
    do {
      return try SocketAddress.resolve(host: address.host, port: port, family: address.family, passive: true)[0]
    } catch {
      throw SystemError("getaddrinfo", errno: EINVAL)
    }
  }

  func close() {
    for fd in sockets { Socket.close(fd) }
    sockets.removeAll()
    if let createdPath {
      unlink(createdPath)
      self.createdPath = nil
    }
  }

  /// The ready line for scripts: `<kind> <listen_address> <listen_port> <target> <target_port>`.
  var readyLine: String {
    let listen: String
    switch spec.listen {
    case .unix(let path): listen = "\(path) -"
    case .tcp(_, let port):
      let address = boundAddresses.first
      listen = "\(address?.host ?? "-") \(address?.port ?? port)"
    }
    return "\(spec.kind) \(listen) \(spec.readyTarget)"
  }
}
