import FwdBindings
import Glibc

/// One `-L` forward's listening sockets: every address its bind address resolves to, all
/// bound or none.
final class LocalListener {
  let spec: LocalForward
  private(set) var sockets: [Int32] = []
  private(set) var boundAddresses: [SocketAddress] = []

  init(spec: LocalForward) {
    self.spec = spec
  }

  /// Binds every address. With port 0 the first bind picks the port and the others reuse it,
  /// as ssh does.
  func bind(addressFamily: Int32) throws(FwdError) {
    let host = spec.effectiveBindHost(addressFamily: addressFamily)
    let addresses: [SocketAddress]
    do {
      addresses = try SocketAddress.resolve(
        host: host, port: spec.listenPort, family: addressFamily, passive: true)
    } catch {
      throw FwdError(.forwarding, "-L \(spec.text): bind address \(host ?? "*") not resolved: \(error.reason)")
    }
    var port = spec.listenPort
    for address in addresses {
      let fd: Int32
      var chosen = address
      do {
        if port != spec.listenPort { chosen = try Self.withPort(address, port) }
        fd = try Socket.listen(on: chosen)
      } catch {
        close()
        throw FwdError(.forwarding, "-L \(spec.text): bind \(chosen) failed: \(error.reason); choose another port or stop what listens there")
      }
      sockets.append(fd)
      let bound = Socket.localAddress(fd) ?? chosen
      boundAddresses.append(bound)
      if port == 0 { port = bound.port }
    }
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
  }

  /// The ready line for scripts: `local <listen_address> <listen_port> <target_host> <target_port>`.
  var readyLine: String {
    let address = boundAddresses.first
    return "local \(address?.host ?? "-") \(address?.port ?? spec.listenPort) \(spec.targetHost) \(spec.targetPort)"
  }
}
