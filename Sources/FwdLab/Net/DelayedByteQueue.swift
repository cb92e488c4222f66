import Glibc

/// The bytes of one direction of a `FaultRelay` connection that were read from the source
/// socket and not yet written to the destination, oldest first. Each chunk and the source's
/// EOF keep the time they were read, so each can be held back by the relay's delay while the
/// order stays the same. Times and delays are in nanoseconds on the monotonic clock
/// (`Deadline.now()`).
struct DelayedByteQueue {
  /// Bytes held before the relay stops reading the source, so a slow destination makes TCP
  /// push back on the source. With a delay this also caps the throughput at `capacity` per
  /// delay, e.g. 20 MiB/s at 50 ms.
  static let capacity = 1 << 20
  /// Bytes read with one recv call.
  static let readSize = 65_536

  private struct Chunk {
    var bytes: [UInt8]
    let readAt: UInt64
  }

  /// The chunks from `headIndex` on are waiting. Written chunks are dropped in batches, because
  /// removing the first element of an array copies all the others.
  private var chunks: [Chunk] = []
  private var headIndex = 0
  /// Bytes of the chunk at `headIndex` already written.
  private var headOffset = 0
  private(set) var byteCount = 0
  /// When the source's EOF was read; nil before.
  private(set) var endReadAt: UInt64?
  /// Whether the EOF was passed on with shutdown(SHUT_WR).
  private(set) var endForwarded = false

  /// The outcome of a read or write pass.
  enum Transfer: Equatable {
    /// Bytes moved, possibly 0 when the socket had nothing to give or take.
    case moved(Int)
    /// The socket failed, e.g. with ECONNRESET or EPIPE; the errno value.
    case failed(Int32)
  }

  var canRead: Bool { endReadAt == nil && byteCount < Self.capacity }

  /// Reads from the non-blocking `source` until it has nothing more, its EOF, or a full
  /// queue.
  mutating func read(from source: Int32, now: UInt64) -> Transfer {
    var total = 0
    var buffer = [UInt8](repeating: 0, count: Self.readSize)
    while canRead {
      let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress!, $0.count, 0) }
      if count > 0 {
        chunks.append(Chunk(bytes: Array(buffer[0..<count]), readAt: now))
        byteCount += count
        total += count
      } else if count == 0 {
        endReadAt = now
      } else if errno == EINTR {
        continue
      } else if errno == EAGAIN || errno == EWOULDBLOCK {
        break
      } else {
        return .failed(errno)
      }
    }
    return .moved(total)
  }

  /// Writes to the non-blocking `destination` every chunk read at least `delay` before `now`,
  /// until the socket takes no more. Passes on the EOF once every chunk before it is written
  /// and it is as old.
  mutating func write(to destination: Int32, now: UInt64, delay: UInt64) -> Transfer {
    var total = 0
    while let head = head, head.readAt + delay <= now {
      let remaining = head.bytes.count - headOffset
      let sent = head.bytes.withUnsafeBytes {
        send(destination, $0.baseAddress! + headOffset, remaining, Int32(MSG_NOSIGNAL))
      }
      if sent < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { return .moved(total) }
        return .failed(errno)
      }
      total += sent
      byteCount -= sent
      if sent < remaining {
        headOffset += sent
        return .moved(total)
      }
      dropHead()
    }
    if head == nil, !endForwarded, let endReadAt, endReadAt + delay <= now {
      shutdown(destination, Int32(SHUT_WR))
      endForwarded = true
    }
    return .moved(total)
  }

  /// Returns whether a chunk is due at `now`, so the relay waits for the destination to turn
  /// writable.
  func hasDueBytes(now: UInt64, delay: UInt64) -> Bool {
    guard let head else { return false }
    return head.readAt + delay <= now
  }

  /// Returns when the next held chunk or the EOF falls due; nil when
  /// nothing waits for time. A chunk already due waits for the destination to turn writable
  /// instead, so it has no due time here.
  func nextDueTime(now: UInt64, delay: UInt64) -> UInt64? {
    if let head {
      let due = head.readAt + delay
      return due > now ? due : nil
    }
    if !endForwarded, let endReadAt { return endReadAt + delay }
    return nil
  }

  private var head: Chunk? {
    headIndex < chunks.count ? chunks[headIndex] : nil
  }

  private mutating func dropHead() {
    headIndex += 1
    headOffset = 0
    if headIndex == chunks.count {
      chunks.removeAll(keepingCapacity: true)
      headIndex = 0
    } else if headIndex >= 64 && headIndex * 2 >= chunks.count {
      chunks.removeFirst(headIndex)
      headIndex = 0
    }
  }
}
