import Foundation
import Glibc

/// Byte count and SHA-256 of one direction of a transfer.
public struct TransferResult: Equatable, Sendable, CustomStringConvertible {
  public let count: Int
  /// Lowercase hex, as `sha256sum` prints it.
  public let sha256: String

  public init(count: Int, sha256: String) {
    self.count = count
    self.sha256 = sha256
  }

  public var description: String { "\(count) bytes, sha256 \(sha256)" }
}

/// The outcome of an upload: the bytes sent and the sink's report of the bytes it received.
public struct UploadResult: Equatable, Sendable {
  public let sent: TransferResult
  public let received: TransferResult

  /// Tells whether the sink received exactly what was sent.
  public var isIntact: Bool { sent == received }
}

/// The outcome of a download from a source.
public struct DownloadResult: Equatable, Sendable {
  public let received: TransferResult
  /// Offset of the first byte that differs from `TestPattern`, nil when all match.
  public let firstMismatch: Int?

  public var count: Int { received.count }
  public var sha256: String { received.sha256 }
}

/// Client helpers that drive the lab services, usually through a forward. They stream in
/// 64 KiB chunks, so hundreds of MiB need no memory, and fail with a `LabError` on timeout.
public enum LabClient {
  /// Sends `bytes` of `TestPattern` and checks that the same bytes come back; returns the
  /// number of bytes echoed. Does not half-close, so it works whether or not the path passes a
  /// half-close.
  @discardableResult
  public static func echo(
    host: String = "127.0.0.1", port: Int, bytes: Int, timeout: Duration = .seconds(120)
  ) throws -> Int {
    let connection = try LabConnection(host: host, port: port, timeout: timeout)
    var received = 0
    try pump(connection, sending: bytes, halfClose: false, timeout: timeout) { chunk in
      if let mismatch = TestPattern.firstMismatch(in: chunk, at: received) {
        throw LabError("echo on port \(port): byte \(mismatch) differs from the bytes sent")
      }
      received += chunk.count
      guard received <= bytes else {
        throw LabError("echo on port \(port): received \(received) bytes, sent only \(bytes)")
      }
      return received == bytes
    }
    guard received == bytes else {
      throw LabError("echo on port \(port): connection closed after \(received) of \(bytes) bytes")
    }
    return received
  }

  /// Sends `count` bytes of `TestPattern` to a sink, half-closes and returns the sink's reply
  /// with what was sent.
  public static func upload(
    host: String = "127.0.0.1", port: Int, count: Int, timeout: Duration = .seconds(120)
  ) throws -> UploadResult {
    // The pattern's hash takes time in an unoptimized build, so it runs during the upload.
    let sentHash = DispatchQueue.global().asyncResult { TestPattern.sha256(count: count) }
    let connection = try LabConnection(host: host, port: port, timeout: timeout)
    var reply: [UInt8] = []
    try pump(connection, sending: count, halfClose: true, timeout: timeout) { chunk in
      reply += chunk
      guard reply.count <= 200 else {
        throw LabError("upload to port \(port): sink reply longer than 200 bytes")
      }
      return false
    }
    let text = String(decoding: reply, as: UTF8.self)
    let fields = text.split(separator: " ")
    guard text.hasSuffix("\n"), fields.count == 2, let receivedCount = Int(fields[0]) else {
      throw LabError(
        "upload to port \(port): invalid sink reply '\(text)': expected '<count> <sha256>\\n'"
      )
    }
    let received = TransferResult(
      count: receivedCount, sha256: String(fields[1].dropLast()))
    return UploadResult(
      sent: TransferResult(count: count, sha256: sentHash.wait()), received: received)
  }

  /// Asks a source for `count` bytes and returns the count and SHA-256 of what arrived before
  /// the source closed.
  public static func download(
    host: String = "127.0.0.1", port: Int, count: Int, timeout: Duration = .seconds(120)
  ) throws -> DownloadResult {
    let connection = try LabConnection(host: host, port: port, timeout: timeout)
    try connection.write("\(count)\n", timeout: timeout)
    var hasher = PatternCheckingHasher()
    try pump(connection, sending: 0, halfClose: false, timeout: timeout) { chunk in
      hasher.update(chunk)
      return false
    }
    return DownloadResult(
      received: TransferResult(count: hasher.count, sha256: hasher.sha256),
      firstMismatch: hasher.firstMismatch)
  }

  /// Returns the SHA-256 a source sends for `count` bytes, and an upload of `count` sends.
  public static func expectedSourceSHA256(count: Int) -> String {
    TestPattern.sha256(count: count)
  }

  /// Sends `payload`, half-closes, and returns everything received until the peer's EOF. With
  /// an echo service behind the port, the result equals `payload` only if the half-close
  /// passed through and the echo's own EOF came back.
  public static func halfCloseExchange(
    host: String = "127.0.0.1", port: Int, payload: [UInt8], timeout: Duration = .seconds(30)
  ) throws -> [UInt8] {
    let connection = try LabConnection(host: host, port: port, timeout: timeout)
    try connection.write(payload, timeout: timeout)
    connection.shutdownWrite()
    return try connection.readToEOF(limit: payload.count + 65_536, timeout: timeout)
  }

  /// Sends `sending` pattern bytes (then half-closes when `halfClose`) while passing every
  /// received chunk to `receive`, until `receive` returns true or the peer's EOF.
  private static func pump(
    _ connection: LabConnection, sending total: Int, halfClose: Bool, timeout: Duration,
    receive: (UnsafeRawBufferPointer) throws -> Bool
  ) throws {
    let fd = connection.fileDescriptor
    let deadline = Deadline(after: timeout)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    defer { buffer.deallocate() }
    var sent = 0
    var writeOpen = true
    if total == 0 && halfClose {
      connection.shutdownWrite()
      writeOpen = false
    }

    while true {
      var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      if writeOpen && sent < total { entry.events |= Int16(POLLOUT) }
      let ready = poll(&entry, 1, deadline.remainingMilliseconds)
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else {
        throw LabError(
          "transfer on port \(connection.port): timed out after \(timeout) with \(sent) of "
            + "\(total) bytes sent")
      }

      if entry.revents & Int16(POLLOUT) != 0 && sent < total {
        let written = TestPattern.withBytes(offset: sent, count: total - sent) { chunk in
          send(fd, chunk.baseAddress!, chunk.count, Int32(MSG_NOSIGNAL))
        }
        if written > 0 {
          sent += written
          if sent == total && halfClose {
            connection.shutdownWrite()
            writeOpen = false
          }
        } else if written < 0 && errno != EAGAIN && errno != EINTR {
          throw LabError(
            "transfer on port \(connection.port): send failed after \(sent) bytes: \(errnoText())")
        }
      }

      if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
        let count = recv(fd, buffer.baseAddress!, buffer.count, 0)
        if count == 0 { return }
        if count < 0 {
          if errno == EAGAIN || errno == EINTR { continue }
          throw LabError(
            "transfer on port \(connection.port): recv failed after \(sent) bytes sent: "
              + errnoText())
        }
        if try receive(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { return }
      }
    }
  }
}

/// A value computed on a dispatch queue, collected with `wait()`.
final class AsyncResult<Value>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var value: Value?

  init(queue: DispatchQueue, _ body: @escaping () -> Value) {
    queue.async {
      self.value = body()
      self.done.signal()
    }
  }

  func wait() -> Value {
    done.wait()
    done.signal()
    return value!
  }
}

extension DispatchQueue {
  func asyncResult<Value>(_ body: @escaping () -> Value) -> AsyncResult<Value> {
    AsyncResult(queue: self, body)
  }
}
