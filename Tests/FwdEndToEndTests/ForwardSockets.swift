import Foundation
import FwdLab
import Glibc

/// A TCP or Unix-domain socket address for the forwarding tests' own sockets.
enum ForwardEndpoint: CustomStringConvertible {
  /// A numeric IPv4 or IPv6 address and a port.
  case tcp(host: String, port: Int)
  case unix(path: String)

  var description: String {
    switch self {
    case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    case .unix(let path): path
    }
  }
}

/// Blocking socket calls on `ForwardEndpoint`s. FwdLab's own socket helpers are TCP only, and
/// the Unix-socket tests need both kinds.
enum ForwardSockets {
  static func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
  }

  /// Opens a listening socket; returns it and the bound port (0 for a Unix socket).
  static func listen(_ endpoint: ForwardEndpoint) throws -> (fd: Int32, port: Int) {
    let fd = try makeSocket(endpoint)
    var yes: Int32 = 1
    if case .tcp = endpoint {
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    }
    let bound = try withAddress(endpoint) { bind(fd, $0, $1) }
    guard bound == 0, Glibc.listen(fd, 128) == 0 else {
      let reason = errnoText()
      close(fd)
      throw LabError("listen on \(endpoint) failed: \(reason)")
    }
    guard case .tcp = endpoint else { return (fd, 0) }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let port = withUnsafeBytes(of: storage) { raw in
      // sin_port and sin6_port both follow the 2-byte family.
      Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
    }
    return (fd, port)
  }

  /// Connects a blocking socket to `endpoint`.
  static func connect(_ endpoint: ForwardEndpoint) throws -> Int32 {
    let fd = try makeSocket(endpoint)
    let result = try withAddress(endpoint) { Glibc.connect(fd, $0, $1) }
    guard result == 0 else {
      let reason = errnoText()
      close(fd)
      throw LabError("connect to \(endpoint) failed: \(reason)")
    }
    return fd
  }

  /// Sends all of `bytes` on a blocking socket; false when the peer is gone.
  static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
      if sent < 0 && errno == EINTR { continue }
      guard sent > 0 else { return false }
      offset += sent
    }
    return true
  }

  private static func makeSocket(_ endpoint: ForwardEndpoint) throws -> Int32 {
    let family: Int32
    switch endpoint {
    case .tcp(let host, _): family = host.contains(":") ? AF_INET6 : AF_INET
    case .unix: family = AF_UNIX
    }
    let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw LabError("socket for \(endpoint) failed: \(errnoText())") }
    return fd
  }

  private static func withAddress<T>(
    _ endpoint: ForwardEndpoint, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
  ) throws -> T {
    switch endpoint {
    case .tcp(let host, let port) where host.contains(":"):
      var address = sockaddr_in6()
      address.sin6_family = sa_family_t(AF_INET6)
      address.sin6_port = in_port_t(UInt16(port)).bigEndian
      guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
        throw LabError("invalid IPv6 address '\(host)'")
      }
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
      }
    case .tcp(let host, let port):
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port)).bigEndian
      guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
        throw LabError("invalid IPv4 address '\(host)'")
      }
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    case .unix(let path):
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      let bytes = Array(path.utf8)
      let capacity = MemoryLayout.size(ofValue: address.sun_path)
      guard bytes.count < capacity else {
        throw LabError("Unix socket path '\(path)' is longer than \(capacity - 1) bytes")
      }
      withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
      }
    }
  }
}

/// A relay from a listening socket to another endpoint, like `socat LISTEN CONNECT`, so the
/// lab's TCP services and clients can be used through Unix sockets. Each direction runs on
/// its own thread, and a half-close is passed on with shutdown(SHUT_WR).
final class ForwardBridge: @unchecked Sendable {
  let listenEndpoint: ForwardEndpoint
  let target: ForwardEndpoint
  /// The bound TCP port; 0 for a Unix-socket listener.
  let port: Int

  private let listener: Int32
  private let lock = NSLock()
  private var connections: Set<Int32> = []
  private var stopped = false
  private var acceptedCount = 0

  /// Listens on `listenEndpoint` (TCP port 0 picks a free port) and relays to `target`.
  init(listen listenEndpoint: ForwardEndpoint, to target: ForwardEndpoint) throws {
    self.listenEndpoint = listenEndpoint
    self.target = target
    (listener, port) = try ForwardSockets.listen(listenEndpoint)
    let thread = Thread { [self] in acceptLoop() }
    thread.name = "forward bridge accept"
    thread.start()
  }

  deinit {
    stop()
  }

  var acceptedConnections: Int { lock.withLock { acceptedCount } }

  /// Closes the listener and ends every relayed connection; idempotent. A Unix listener's
  /// socket file stays, as a crashed server would leave it.
  func stop() {
    let sockets: Set<Int32>? = lock.withLock {
      if stopped { return nil }
      stopped = true
      return connections
    }
    guard let sockets else { return }
    // shutdown wakes the accept call, which then returns an error and ends the loop.
    shutdown(listener, Int32(SHUT_RDWR))
    for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
  }

  private func acceptLoop() {
    defer { close(listener) }
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        return
      }
      let upstream: Int32
      do {
        upstream = try ForwardSockets.connect(target)
      } catch {
        close(client)
        continue
      }
      let admitted = lock.withLock {
        if stopped { return false }
        connections.formUnion([client, upstream])
        acceptedCount += 1
        return true
      }
      guard admitted else {
        close(client)
        close(upstream)
        return
      }
      relay(client, upstream)
    }
  }

  /// Copies both directions on two threads and closes both sockets once both have ended.
  private func relay(_ first: Int32, _ second: Int32) {
    let group = DispatchGroup()
    for (from, to) in [(first, second), (second, first)] {
      group.enter()
      let thread = Thread { [self] in
        copy(from: from, to: to)
        group.leave()
      }
      thread.name = "forward bridge copy"
      thread.start()
    }
    group.notify(queue: .global()) { [self] in
      lock.withLock {
        connections.subtract([first, second])
        close(first)
        close(second)
      }
    }
  }

  private func copy(from source: Int32, to destination: Int32) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let count = recv(source, buffer.baseAddress!, buffer.count, 0)
      if count < 0 && errno == EINTR { continue }
      if count <= 0 { break }
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
      if !ForwardSockets.sendAll(destination, chunk) {
        shutdown(source, Int32(SHUT_RD))
        return
      }
    }
    shutdown(destination, Int32(SHUT_WR))
  }
}
