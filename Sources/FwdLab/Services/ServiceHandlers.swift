import Glibc

/// The per-connection behavior of each `LabServiceKind`, on a blocking socket that the caller
/// closes afterwards.
enum ServiceHandlers {
  static let bufferSize = 65_536

  static func echo(_ fd: Int32) {
    withBuffer { buffer in
      while true {
        let count = receive(fd, buffer)
        if count <= 0 { break }
        if !Socket.sendAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { return }
      }
      shutdown(fd, Int32(SHUT_WR))
    }
  }

  static func sink(_ fd: Int32) {
    var hasher = PatternCheckingHasher()
    let completed = withBuffer { buffer in
      while true {
        let count = receive(fd, buffer)
        if count < 0 { return false }
        if count == 0 { return true }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
      }
    }
    guard completed else { return }
    let reply = Array("\(hasher.count) \(hasher.sha256)\n".utf8)
    _ = reply.withUnsafeBytes { Socket.sendAll(fd, $0) }
    shutdown(fd, Int32(SHUT_WR))
  }

  static func source(_ fd: Int32) {
    guard let line = readLine(fd, limit: 32), let count = Int(line), count >= 0 else {
      let reply = Array("error: expected a decimal byte count and a newline\n".utf8)
      _ = reply.withUnsafeBytes { Socket.sendAll(fd, $0) }
      return
    }
    var sent = 0
    while sent < count {
      let delivered = TestPattern.withBytes(offset: sent, count: count - sent) { chunk in
        Socket.sendAll(fd, chunk) ? chunk.count : -1
      }
      if delivered < 0 { return }
      sent += delivered
    }
    shutdown(fd, Int32(SHUT_WR))
    drainUntilEOF(fd)
  }

  static func demo(_ fd: Int32, servedBy host: String) {
    let request = readLine(fd, limit: 4096) ?? ""
    let reply = Array("hello from the demo service on \(host), you sent: \(request)\n".utf8)
    _ = reply.withUnsafeBytes { Socket.sendAll(fd, $0) }
    shutdown(fd, Int32(SHUT_WR))
    drainUntilEOF(fd)
  }

  /// Reads until the peer's EOF, so that closing afterwards sends FIN rather than a reset that
  /// could destroy data still in flight to the peer.
  private static func drainUntilEOF(_ fd: Int32) {
    withBuffer { buffer in
      while receive(fd, buffer) > 0 {}
    }
  }

  /// Reads one line byte by byte, so nothing after the newline is consumed; nil when the peer
  /// closes first or the line exceeds `limit` bytes. A trailing "\r" is dropped.
  private static func readLine(_ fd: Int32, limit: Int) -> String? {
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while line.count <= limit {
      let count = recv(fd, &byte, 1, 0)
      if count < 0 && errno == EINTR { continue }
      if count <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
      if byte == UInt8(ascii: "\n") {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
      }
      line.append(byte)
    }
    return nil
  }

  /// Returns the number of bytes read, 0 at EOF, -1 on error.
  private static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    while true {
      let count = recv(fd, buffer.baseAddress!, buffer.count, 0)
      if count < 0 && errno == EINTR { continue }
      return count
    }
  }

  private static func withBuffer<T>(_ body: (UnsafeMutableRawBufferPointer) -> T) -> T {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer { buffer.deallocate() }
    return body(buffer)
  }
}
