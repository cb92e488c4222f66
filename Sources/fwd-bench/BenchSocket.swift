import Glibc

/// A non-blocking TCP connection to 127.0.0.1 for the short exchanges of the benchmark, with
/// less overhead per call than the lab's `LabConnection`, because latency is measured in
/// microseconds here.
final class BenchSocket {
  let port: Int
  private(set) var fd: Int32

  /// Starts a connection to 127.0.0.1:`port` without waiting for it to complete.
  init(startingConnectionTo port: Int) throws {
    self.port = port
    fd = socket(
      AF_INET,
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else {
      throw BenchError("connect to 127.0.0.1 port \(port): socket failed: \(errnoText())")
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    address.sin_addr.s_addr = in_addr_t(INADDR_LOOPBACK).bigEndian
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    if result != 0 && errno != EINPROGRESS {
      let reason = errnoText()
      close()
      throw BenchError("connect to 127.0.0.1 port \(port) failed: \(reason)")
    }
    var yes: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
  }

  /// Connects to 127.0.0.1:`port` and waits until the connection is established.
  convenience init(connectingTo port: Int, timeout: Double) throws {
    try self.init(startingConnectionTo: port)
    guard wait(for: POLLOUT, timeout: timeout) else {
      close()
      throw BenchError("connect to 127.0.0.1 port \(port): timed out after \(timeout) s")
    }
    if let error = pendingError {
      close()
      throw BenchError("connect to 127.0.0.1 port \(port) failed: \(errnoText(error))")
    }
  }

  deinit {
    close()
  }

  /// The error of a connection attempt that has completed, from SO_ERROR; nil on success.
  var pendingError: Int32? {
    var error: Int32 = 0
    var size = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
    return error == 0 ? nil : error
  }

  /// Sends all of `bytes` and reads until as many bytes came back, which must be the same.
  /// Throws on a mismatch, EOF, error or timeout.
  func echo(_ bytes: [UInt8], timeout: Double) throws {
    let start = monotonicNanoseconds()
    try bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
        if sent > 0 {
          offset += sent
        } else if sent < 0 && errno != EAGAIN && errno != EINTR {
          throw failure("echo", "send failed: \(errnoText())")
        } else if !wait(for: POLLOUT, timeout: timeout - secondsSince(start)) {
          throw failure("echo", "send timed out after \(timeout) s")
        }
      }
    }
    var received = [UInt8](repeating: 0, count: bytes.count)
    var count = 0
    while count < bytes.count {
      let read = received.withUnsafeMutableBytes {
        recv(fd, $0.baseAddress! + count, bytes.count - count, 0)
      }
      if read > 0 {
        count += read
      } else if read == 0 {
        throw failure("echo", "EOF after \(count) of \(bytes.count) bytes")
      } else if errno != EAGAIN && errno != EINTR {
        throw failure("echo", "recv failed: \(errnoText())")
      } else if !wait(for: POLLIN, timeout: timeout - secondsSince(start)) {
        throw failure("echo", "no echo within \(timeout) s")
      }
    }
    guard received == bytes else {
      throw failure("echo", "the echo differs from the \(bytes.count) bytes sent")
    }
  }

  /// Waits for `events`, an error or a hang-up; false when `timeout` seconds pass first.
  func wait(for events: Int32, timeout: Double) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
    let start = monotonicNanoseconds()
    while true {
      let remaining = max(0, timeout - secondsSince(start))
      let result = poll(&entry, 1, Int32(min(remaining * 1000, 1e9).rounded(.up)))
      if result > 0 { return true }
      if result == 0 { return false }
      if errno != EINTR { return true }
    }
  }

  /// Closes the socket; idempotent.
  func close() {
    if fd >= 0 {
      Glibc.close(fd)
      fd = -1
    }
  }

  private func failure(_ operation: String, _ reason: String) -> BenchError {
    BenchError("\(operation) on 127.0.0.1 port \(port): \(reason)")
  }
}
