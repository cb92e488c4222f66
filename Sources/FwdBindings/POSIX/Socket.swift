import Glibc

/// The result of a non-blocking read or write on a descriptor.
public enum IOResult: Equatable {
  case bytes(Int)
  /// The descriptor is not ready (EAGAIN); wait for poll.
  case wouldBlock
  /// The peer closed its write side (read only).
  case endOfFile
}

/// A resolved socket address that can be connected to or bound.
public struct SocketAddress: CustomStringConvertible, Sendable {
  public let family: Int32
  let storage: sockaddr_storage
  let length: socklen_t

  /// The numeric host, e.g. "127.0.0.1" or "::1".
  public var host: String {
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    var copy = storage
    _ = withUnsafePointer(to: &copy) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        getnameinfo($0, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
      }
    }
    return String(cString: buffer)
  }

  public var port: Int {
    var copy = storage
    return withUnsafePointer(to: &copy) { pointer in
      if family == AF_INET6 {
        return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
          Int(UInt16(bigEndian: $0.pointee.sin6_port))
        }
      }
      return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
        Int(UInt16(bigEndian: $0.pointee.sin_port))
      }
    }
  }

  /// "host:port", with IPv6 hosts in brackets, or the path of a Unix-domain socket.
  public var description: String {
    if family == AF_UNIX { return path ?? "?" }
    return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
  }

  /// The path of a Unix-domain socket address.
  public var path: String? {
    guard family == AF_UNIX else { return nil }
    var copy = storage
    return withUnsafePointer(to: &copy) {
      $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { address in
        withUnsafeBytes(of: address.pointee.sun_path) { bytes in
          String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
      }
    }
  }

  /// A Unix-domain socket address. Throws ENAMETOOLONG when the path does not fit
  /// sockaddr_un (107 bytes on Linux).
  public static func unix(path: String) throws(SystemError) -> SocketAddress {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { throw SystemError("bind", errno: ENAMETOOLONG) }
    withUnsafeMutableBytes(of: &address.sun_path) { target in
      target.copyBytes(from: bytes)
    }
    var storage = sockaddr_storage()
    withUnsafeMutableBytes(of: &storage) { target in
      withUnsafeBytes(of: address) { target.copyMemory(from: $0) }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
    return SocketAddress(family: AF_UNIX, storage: storage, length: length)
  }

  fileprivate func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var copy = storage
    return withUnsafePointer(to: &copy) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
    }
  }

  /// Returns a numeric address in getnameinfo's standard form (`127.1` gives `127.0.0.1`,
  /// `FE80::0001` gives `fe80::1`), or nil when `text` is not a numeric address. Makes no
  /// DNS query.
  public static func numericHost(_ text: String) -> String? {
    var hints = addrinfo()
    hints.ai_flags = AI_NUMERICHOST
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>? = nil
    guard getaddrinfo(text, nil, &hints, &result) == 0, let info = result else { return nil }
    defer { freeaddrinfo(result) }
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let status = getnameinfo(
      info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
      NI_NUMERICHOST)
    return status == 0 ? String(cString: buffer) : nil
  }

  /// Resolves `host` and `port` with getaddrinfo. `passive` asks for addresses to bind
  /// (a nil host then means every address).
  public static func resolve(host: String?, port: Int, family: Int32 = AF_UNSPEC, passive: Bool = false)
    throws(ResolveError) -> [SocketAddress]
  {
    var hints = addrinfo()
    hints.ai_family = family
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG
    if passive { hints.ai_flags |= 0 }
    var result: UnsafeMutablePointer<addrinfo>? = nil
    let status = getaddrinfo(host, String(port), &hints, &result)
    if status != 0 {
      throw ResolveError(host: host ?? "*", code: status)
    }
    defer { freeaddrinfo(result) }
    var addresses: [SocketAddress] = []
    var cursor = result
    while let info = cursor {
      var storage = sockaddr_storage()
      withUnsafeMutableBytes(of: &storage) { target in
        target.copyMemory(
          from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
      }
      let address = SocketAddress(family: info.pointee.ai_family, storage: storage, length: info.pointee.ai_addrlen)
      if !addresses.contains(where: { $0.description == address.description }) {
        addresses.append(address)
      }
      cursor = info.pointee.ai_next
    }
    return addresses
  }
}

/// Thin wrappers over socket calls. Each retries EINTR and reports EAGAIN as a value.
public enum Socket {
  /// Ignores SIGPIPE for the process: a peer that closes early must surface as EPIPE from
  /// write, not kill fwd.
  public static func ignoreSIGPIPE() {
    signal(SIGPIPE, SIG_IGN)
  }

  public static func setNonBlocking(_ fd: Int32) throws(SystemError) {
    let flags = fcntl(fd, F_GETFL)
    if flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 { throw SystemError("fcntl") }
  }

  public static func setCloseOnExec(_ fd: Int32) {
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
  }

  public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
    var value = value
    _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
  }

  /// Turns off Nagle's algorithm: measured with libssh2 1.10, it doubled download throughput.
  public static func setNoDelay(_ fd: Int32) {
    setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
  }

  public static func setKeepAlive(_ fd: Int32, _ on: Bool) {
    setOption(fd, SOL_SOCKET, SO_KEEPALIVE, on ? 1 : 0)
  }

  /// Requests a send buffer of `bytes` (SO_SNDBUF). Linux doubles the value for its own
  /// bookkeeping and caps the request at net.core.wmem_max without an error.
  public static func setSendBufferSize(_ fd: Int32, _ bytes: Int32) {
    setOption(fd, SOL_SOCKET, SO_SNDBUF, bytes)
  }

  /// Connects to one address, waiting at most `timeout` milliseconds (negative waits forever).
  /// With `local`, the socket is bound to that address first (its port may be 0).
  /// Returns a non-blocking, close-on-exec socket.
  public static func connect(
    to address: SocketAddress, timeout: Int32, from local: SocketAddress? = nil
  ) throws(SystemError) -> Int32 {
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw SystemError("socket") }
    do throws(SystemError) {
      if let local, local.withSockaddr({ bind(fd, $0, $1) }) != 0 { throw SystemError("bind") }
      try setNonBlocking(fd)
      let status = address.withSockaddr { Glibc.connect(fd, $0, $1) }
      if status != 0 {
        guard errno == EINPROGRESS else { throw SystemError("connect") }
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var ready: Int32
        repeat { ready = poll(&pollfd, 1, timeout) } while ready < 0 && errno == EINTR
        if ready == 0 { throw SystemError("connect", errno: ETIMEDOUT) }
        if ready < 0 { throw SystemError("poll") }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error != 0 { throw SystemError("connect", errno: error) }
      }
      return fd
    } catch {
      Glibc.close(fd)
      throw error
    }
  }

  /// Starts a non-blocking connect and returns the socket at once; the connection completes
  /// (or fails, reported by the first read or write) while the caller polls.
  public static func startConnect(to address: SocketAddress) throws(SystemError) -> Int32 {
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw SystemError("socket") }
    do throws(SystemError) {
      try setNonBlocking(fd)
      if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) != 0 && errno != EINPROGRESS {
        throw SystemError("connect")
      }
      if address.family != AF_UNIX { setNoDelay(fd) }
      return fd
    } catch {
      Glibc.close(fd)
      throw error
    }
  }

  /// Binds and listens on one address. Returns a non-blocking, close-on-exec socket.
  public static func listen(on address: SocketAddress, backlog: Int32 = 1024) throws(SystemError) -> Int32 {
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw SystemError("socket") }
    if address.family != AF_UNIX { setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
    if address.family == AF_INET6 {
      // Bind IPv6 addresses alone, so "::" and "0.0.0.0" can be bound side by side.
      setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
    }
    do throws(SystemError) {
      if address.withSockaddr({ bind(fd, $0, $1) }) != 0 { throw SystemError("bind") }
      if Glibc.listen(fd, backlog) != 0 { throw SystemError("listen") }
      try setNonBlocking(fd)
      return fd
    } catch {
      Glibc.close(fd)
      throw error
    }
  }

  /// Accepts one connection, or returns nil when none is waiting.
  public static func accept(_ listener: Int32) throws(SystemError) -> Int32? {
    while true {
      let fd = Glibc.accept(listener, nil, nil)
      if fd >= 0 {
        setCloseOnExec(fd)
        try setNonBlocking(fd)
        return fd
      }
      switch errno {
      case EINTR: continue
      case EAGAIN, ECONNABORTED: return nil
      default: throw SystemError("accept")
      }
    }
  }

  /// Returns a connected pair of non-blocking, close-on-exec stream sockets.
  public static func pair() throws(SystemError) -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    if socketpair(AF_UNIX, type, 0, &fds) != 0 { throw SystemError("socketpair") }
    return (fds[0], fds[1])
  }

  /// The local address a socket is bound to.
  public static func localAddress(_ fd: Int32) -> SocketAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    if status != 0 { return nil }
    return SocketAddress(family: Int32(storage.ss_family), storage: storage, length: length)
  }

  /// The address of the connected peer.
  public static func peerAddress(_ fd: Int32) -> SocketAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    if status != 0 { return nil }
    return SocketAddress(family: Int32(storage.ss_family), storage: storage, length: length)
  }

  public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws(SystemError)
    -> IOResult
  {
    while true {
      let n = Glibc.read(fd, buffer, count)
      if n > 0 { return .bytes(n) }
      if n == 0 { return .endOfFile }
      switch errno {
      case EINTR: continue
      case EAGAIN: return .wouldBlock
      default: throw SystemError("read")
      }
    }
  }

  public static func write(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int) throws(SystemError)
    -> IOResult
  {
    while true {
      let n = send(fd, buffer, count, Int32(MSG_NOSIGNAL))
      if n >= 0 { return .bytes(n) }
      switch errno {
      case EINTR: continue
      case EAGAIN: return .wouldBlock
      case ENOTSOCK: return try plainWrite(fd, buffer, count)
      default: throw SystemError("send")
      }
    }
  }

  private static func plainWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws(SystemError)
    -> IOResult
  {
    while true {
      let n = Glibc.write(fd, buffer, count)
      if n >= 0 { return .bytes(n) }
      if errno == EINTR { continue }
      if errno == EAGAIN { return .wouldBlock }
      throw SystemError("write")
    }
  }

  public static func shutdownWrite(_ fd: Int32) {
    _ = Glibc.shutdown(fd, Int32(SHUT_WR))
  }

  public static func close(_ fd: Int32) {
    _ = Glibc.close(fd)
  }
}
