import Glibc

/// Thin wrappers over the POSIX socket calls the lab uses; numeric loopback addresses only.
enum Socket {
  /// Returns the socket address of a numeric IPv4 or IPv6 `host`, e.g. "127.0.0.1" or "::1".
  static func address(host: String, port: Int) throws -> (
    storage: sockaddr_storage, length: socklen_t
  ) {
    var storage = sockaddr_storage()
    if host.contains(":") {
      var address = sockaddr_in6()
      address.sin6_family = sa_family_t(AF_INET6)
      address.sin6_port = in_port_t(UInt16(port)).bigEndian
      guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
        throw LabError("invalid address '\(host)': expected a numeric IPv4 or IPv6 address")
      }
      withUnsafeMutableBytes(of: &storage) { target in
        withUnsafeBytes(of: address) { target.copyMemory(from: $0) }
      }
      return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
      throw LabError("invalid address '\(host)': expected a numeric IPv4 or IPv6 address")
    }
    withUnsafeMutableBytes(of: &storage) { target in
      withUnsafeBytes(of: address) { target.copyMemory(from: $0) }
    }
    return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
  }

  static func family(of host: String) -> Int32 {
    host.contains(":") ? AF_INET6 : AF_INET
  }

  /// Opens a listening TCP socket on `host`:`port` (0 picks a free port); returns it and its port.
  static func listen(host: String, port: Int, backlog: Int32 = 512) throws -> (fd: Int32, port: Int) {
    let fd = socket(family(of: host), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      throw LabError("listen on \(host) port \(port): socket failed: \(errnoText())")
    }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var (storage, length) = try address(host: host, port: port)
    let bound = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else {
      let reason = errnoText()
      close(fd)
      throw LabError("listen on \(host) port \(port): bind failed: \(reason)")
    }
    guard Glibc.listen(fd, backlog) == 0 else {
      let reason = errnoText()
      close(fd)
      throw LabError("listen on \(host) port \(port): listen failed: \(reason)")
    }
    return (fd, try localPort(of: fd))
  }

  static func localPort(of fd: Int32) throws -> Int {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard result == 0 else { throw LabError("getsockname failed: \(errnoText())") }
    return withUnsafeBytes(of: storage) { raw in
      // sin_port and sin6_port sit at the same offset, right after the family.
      Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
    }
  }

  /// Connects to `host`:`port` within `timeout`; returns a non-blocking socket with TCP_NODELAY.
  static func connect(host: String, port: Int, timeout: Duration) throws -> Int32 {
    let (fd, inProgress) = try startConnect(host: host, port: port)
    if inProgress {
      guard waitFor(fd, events: POLLOUT, deadline: Deadline(after: timeout)) else {
        close(fd)
        throw LabError("connect to \(host) port \(port): timed out after \(timeout)")
      }
      var error: Int32 = 0
      var size = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
      guard error == 0 else {
        close(fd)
        throw LabError("connect to \(host) port \(port) failed: \(errnoText(error))")
      }
    }
    setNoDelay(fd)
    return fd
  }

  /// Starts a connect to `host`:`port` on a new non-blocking socket. Returns the socket and
  /// whether the connect is still in progress. Such a socket turns writable when the connect
  /// ends, and then SO_ERROR contains its error, or 0.
  static func startConnect(host: String, port: Int) throws -> (fd: Int32, inProgress: Bool) {
    var (storage, length) = try address(host: host, port: port)
    let fd = socket(
      family(of: host),
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else {
      throw LabError("connect to \(host) port \(port): socket failed: \(errnoText())")
    }
    let result = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
    }
    if result != 0 && errno != EINPROGRESS {
      let reason = errnoText()
      close(fd)
      throw LabError("connect to \(host) port \(port) failed: \(reason)")
    }
    return (fd, result != 0)
  }

  static func setNoDelay(_ fd: Int32) {
    var yes: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
  }

  /// Closes `fd` with SO_LINGER set to 0, so the kernel discards unsent bytes and sends the
  /// peer a RST in place of a FIN.
  static func closeWithReset(_ fd: Int32) {
    var option = linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    close(fd)
  }

  /// Waits until `fd` reports one of `events` (or an error or hang-up); false when the deadline
  /// passes first.
  static func waitFor(_ fd: Int32, events: Int32, deadline: Deadline) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
    while true {
      let result = poll(&entry, 1, deadline.remainingMilliseconds)
      if result > 0 { return true }
      if result == 0 { return false }
      if errno != EINTR { return true }
    }
  }

  static func setBlocking(_ fd: Int32, _ blocking: Bool) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK)
  }

  /// Sends all of `bytes` on a blocking socket; false when the peer is gone.
  static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
      if sent < 0 {
        if errno == EINTR { continue }
        return false
      }
      offset += sent
    }
    return true
  }
}

/// Returns a TCP port that is free on `host` now. Another process may take it before it is
/// used, so callers that bind it later must handle a failed bind.
public func freePort(host: String = "127.0.0.1") throws -> Int {
  let (fd, port) = try Socket.listen(host: host, port: 0, backlog: 1)
  close(fd)
  return port
}

/// Sets FD_CLOEXEC on `fd`. Swift's Glibc module lacks `pipe2` and `accept4`, so this follows
/// `pipe` and `accept`. A spawn in between still leaks nothing, because the spawner closes every
/// descriptor above 2 in its children.
func setCloseOnExec(_ fd: Int32) {
  _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
}

/// Creates a pipe whose two ends close on exec; false on failure, with `errno` set.
func makePipe(_ fds: inout [Int32]) -> Bool {
  guard pipe(&fds) == 0 else { return false }
  setCloseOnExec(fds[0])
  setCloseOnExec(fds[1])
  return true
}
