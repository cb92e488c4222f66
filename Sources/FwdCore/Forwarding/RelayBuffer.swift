/// Bytes waiting to move in one direction of a relay. The fixed capacity is the backpressure:
/// when it is full the relay stops reading from the sender.
final class RelayBuffer {
  let capacity: Int
  private let storage: UnsafeMutableRawPointer
  private var start = 0
  private var end = 0

  init(capacity: Int) {
    self.capacity = capacity
    storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
  }

  deinit { storage.deallocate() }

  var count: Int { end - start }
  var isEmpty: Bool { start == end }
  var hasSpace: Bool { count < capacity }

  /// The bytes to send next. The pointer stays valid until `consume` or `reserve`.
  var pending: (pointer: UnsafeMutableRawPointer, count: Int) { (storage + start, end - start) }

  /// Returns free space at the tail, moving pending bytes to the front first when that frees more.
  /// Callers must not reserve while a send of `pending` is still in progress (libssh2 may need the
  /// same pointer again).
  func reserve() -> (pointer: UnsafeMutableRawPointer, count: Int) {
    if start > 0 && end == capacity {
      storage.copyMemory(from: storage + start, byteCount: count)
      end -= start
      start = 0
    }
    return (storage + end, capacity - end)
  }

  func commit(_ n: Int) { end += n }

  func consume(_ n: Int) {
    start += n
    if start == end {
      start = 0
      end = 0
    }
  }
}
