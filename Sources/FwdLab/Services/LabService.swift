import Foundation
import Glibc

/// The behavior of a target service on each connection.
public enum LabServiceKind: Sendable, Equatable {
  /// Echoes every byte. After the client's EOF it finishes echoing, then shuts down its write
  /// side, so a half-close passes through.
  case echo
  /// Reads until EOF, then replies `<byte count> <sha256 hex>\n` and closes.
  case sink
  /// Reads a decimal byte count and `\n`, sends that many `TestPattern` bytes, then closes.
  case source
  /// Reads one line and replies with one greeting line that names host `servedBy` and repeats
  /// the request.
  case demo(servedBy: String)
}

/// A TCP target service on threads of this process: one accept thread, one thread per
/// connection, blocking I/O. It runs until `stop()`, because its accept thread keeps it alive.
public final class LabService: @unchecked Sendable {
  public let kind: LabServiceKind
  public let host: String
  public let port: Int

  private let listener: Int32
  private let wakeup: (read: Int32, write: Int32)
  private let acceptDone = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var connections: Set<Int32> = []
  private var accepted = 0
  private var stopped = false

  /// Starts listening on `host`:`port`, a numeric address; port 0 picks a free port. The
  /// kernel caps `backlog` at net.core.somaxconn.
  public init(
    _ kind: LabServiceKind, host: String = "127.0.0.1", port: Int = 0, backlog: Int32 = 512
  ) throws {
    self.kind = kind
    self.host = host
    (listener, self.port) = try Socket.listen(host: host, port: port, backlog: backlog)
    var fds: [Int32] = [0, 0]
    guard makePipe(&fds) else {
      close(listener)
      throw LabError("start \(kind) service: pipe failed: \(errnoText())")
    }
    wakeup = (fds[0], fds[1])
    let thread = Thread { [self] in acceptLoop() }
    thread.name = "fwd-lab \(kind) accept"
    thread.start()
  }

  deinit {
    stop()
  }

  /// Number of connections accepted so far.
  public var acceptedConnections: Int {
    lock.withLock { accepted }
  }

  /// Closes the listener and ends every open connection; idempotent.
  public func stop() {
    let wasStopped = lock.withLock {
      defer { stopped = true }
      return stopped
    }
    if wasStopped { return }
    var byte: UInt8 = 1
    _ = write(wakeup.write, &byte, 1)
    acceptDone.wait()
    close(listener)
    close(wakeup.read)
    close(wakeup.write)
    lock.withLock {
      // Wakes the handler threads; each closes its own descriptor.
      for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
    }
  }

  private func acceptLoop() {
    defer { acceptDone.signal() }
    var entries = [
      pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
      pollfd(fd: wakeup.read, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      let ready = poll(&entries, 2, -1)
      if ready < 0 && errno == EINTR { continue }
      if ready < 0 || entries[1].revents != 0 { return }
      let fd = accept(listener, nil, nil)
      if fd < 0 { continue }
      setCloseOnExec(fd)
      var yes: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
      let admitted = lock.withLock {
        if stopped { return false }
        connections.insert(fd)
        accepted += 1
        return true
      }
      guard admitted else {
        close(fd)
        return
      }
      let thread = Thread { [self] in serve(fd) }
      thread.name = "fwd-lab \(kind) connection"
      thread.start()
    }
  }

  private func serve(_ fd: Int32) {
    switch kind {
    case .echo: ServiceHandlers.echo(fd)
    case .sink: ServiceHandlers.sink(fd)
    case .source: ServiceHandlers.source(fd)
    case .demo(let servedBy): ServiceHandlers.demo(fd, servedBy: servedBy)
    }
    lock.withLock {
      connections.remove(fd)
      close(fd)
    }
  }
}
