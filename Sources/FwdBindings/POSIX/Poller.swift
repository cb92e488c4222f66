import Glibc

/// Readiness interest and results for one descriptor in a `poll(2)` call.
public struct PollEntry {
  public var fd: Int32
  public var wantRead: Bool
  public var wantWrite: Bool

  public init(fd: Int32, read: Bool, write: Bool) {
    self.fd = fd
    self.wantRead = read
    self.wantWrite = write
  }
}

/// A reusable `poll(2)` set. Callers rebuild the entries before each wait.
public struct Poller {
  private var fds: [pollfd] = []

  public init() {}

  public mutating func reset() { fds.removeAll(keepingCapacity: true) }

  /// Adds a descriptor and returns its index for `readable(_:)`/`writable(_:)` after `wait`.
  @discardableResult
  public mutating func add(_ fd: Int32, read: Bool, write: Bool) -> Int {
    var events: Int16 = 0
    if read { events |= Int16(POLLIN) }
    if write { events |= Int16(POLLOUT) }
    fds.append(pollfd(fd: fd, events: events, revents: 0))
    return fds.count - 1
  }

  /// Waits until a descriptor is ready or `timeout` milliseconds pass (negative waits forever).
  public mutating func wait(timeout: Int32) throws(SystemError) {
    while true {
      let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
      if ready >= 0 { return }
      if errno != EINTR { throw SystemError("poll") }
    }
  }

  /// Whether the descriptor can be read, or has hung up or failed (a read then reports which).
  public func readable(_ index: Int) -> Bool {
    fds[index].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
  }

  public func writable(_ index: Int) -> Bool {
    fds[index].revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0
  }
}

/// A self-pipe that wakes a thread blocked in poll when another thread queues work for it.
public final class Wakeup {
  /// The read end, to poll for readability.
  public let fd: Int32
  private let writeEnd: Int32

  public init() throws(SystemError) {
    var fds: [Int32] = [0, 0]
    if pipe(&fds) != 0 { throw SystemError("pipe") }
    fd = fds[0]
    writeEnd = fds[1]
    for end in fds {
      Socket.setCloseOnExec(end)
      try Socket.setNonBlocking(end)
    }
  }

  deinit {
    Glibc.close(fd)
    Glibc.close(writeEnd)
  }

  /// Wakes the poller. A full pipe already guarantees a wake-up, so a failed write is fine.
  public func signal() {
    var one: UInt8 = 1
    _ = Glibc.write(writeEnd, &one, 1)
  }

  /// Clears pending wake-ups after poll reported the descriptor readable.
  public func drain() {
    var buffer = [UInt8](repeating: 0, count: 256)
    while Glibc.read(fd, &buffer, buffer.count) > 0 {}
  }
}
