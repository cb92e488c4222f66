import Glibc

/// A TCP client connection for tests, where every read and write takes a timeout.
public final class LabConnection {
  public let host: String
  public let port: Int
  private var fd: Int32

  /// Connects to `host`:`port`, a numeric address.
  public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(10)) throws {
    self.host = host
    self.port = port
    fd = try Socket.connect(host: host, port: port, timeout: timeout)
  }

  deinit {
    close()
  }

  /// The socket; -1 after `close()`.
  public var fileDescriptor: Int32 { fd }

  /// Sends all of `bytes`, or throws when the peer is gone or `timeout` passes.
  public func write(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws {
    let deadline = Deadline(after: timeout)
    try bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
        if sent >= 0 {
          offset += sent
        } else if errno == EAGAIN || errno == EINTR {
          guard Socket.waitFor(fd, events: POLLOUT, deadline: deadline) else {
            throw failure(
              "write", "timed out after \(timeout) with \(offset) of \(raw.count) bytes sent")
          }
        } else {
          throw failure("write", "send failed: \(errnoText())")
        }
      }
    }
  }

  public func write(_ text: String, timeout: Duration = .seconds(10)) throws {
    try write(Array(text.utf8), timeout: timeout)
  }

  /// Returns the next bytes, at most `maxCount`; an empty array means EOF. Throws on timeout and
  /// on a reset connection.
  public func read(maxCount: Int = 65_536, timeout: Duration = .seconds(10)) throws -> [UInt8] {
    let deadline = Deadline(after: timeout)
    var buffer = [UInt8](repeating: 0, count: maxCount)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
      if count >= 0 { return Array(buffer[0..<count]) }
      guard errno == EAGAIN || errno == EINTR else {
        throw failure("read", "recv failed: \(errnoText())")
      }
      guard Socket.waitFor(fd, events: POLLIN, deadline: deadline) else {
        throw failure("read", "timed out after \(timeout)")
      }
    }
  }

  /// Reads up to and including the next "\n" and returns the line without it; throws when EOF
  /// comes first or `timeout` passes.
  public func readLine(timeout: Duration = .seconds(10)) throws -> String {
    let deadline = Deadline(after: timeout)
    var line: [UInt8] = []
    while true {
      let byte = try read(maxCount: 1, timeout: .milliseconds(Int(deadline.remainingMilliseconds)))
      guard let first = byte.first else {
        throw failure("read line", "EOF after \(line.count) bytes without a newline")
      }
      if first == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
      line.append(first)
    }
  }

  /// Reads until EOF; throws when more than `limit` bytes arrive or `timeout` passes.
  public func readToEOF(limit: Int = 1 << 20, timeout: Duration = .seconds(10)) throws -> [UInt8] {
    let deadline = Deadline(after: timeout)
    var received: [UInt8] = []
    while true {
      let chunk = try read(timeout: .milliseconds(Int(deadline.remainingMilliseconds)))
      if chunk.isEmpty { return received }
      received += chunk
      guard received.count <= limit else {
        throw failure("read to EOF", "more than \(limit) bytes arrived")
      }
    }
  }

  /// Waits until the peer ends the connection (EOF or reset), discarding what arrives; returns
  /// false when `timeout` passes first.
  public func waitForClose(timeout: Duration) -> Bool {
    let deadline = Deadline(after: timeout)
    while !deadline.hasPassed {
      do {
        if try read(timeout: .milliseconds(Int(deadline.remainingMilliseconds))).isEmpty {
          return true
        }
      } catch {
        return !deadline.hasPassed
      }
    }
    return false
  }

  /// Sends EOF to the peer while the read side stays open (a half-close).
  public func shutdownWrite() {
    shutdown(fd, Int32(SHUT_WR))
  }

  /// Closes the connection; idempotent.
  public func close() {
    if fd >= 0 {
      Glibc.close(fd)
      fd = -1
    }
  }

  private func failure(_ operation: String, _ reason: String) -> LabError {
    LabError("\(operation) on connection to \(host) port \(port): \(reason)")
  }
}
