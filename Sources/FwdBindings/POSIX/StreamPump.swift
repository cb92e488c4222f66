import Glibc

/// Copies one descriptor to another on its own thread until end of file, for `-W`, where
/// fwd's stdin and stdout are the two ends of the forwarded connection.
public final class StreamPump: @unchecked Sendable {
  private let source: Int32
  private let destination: Int32
  private let onEnd: @Sendable () -> Void

  /// `onEnd` runs on the pump's thread after the source reached end of file (or failed) and
  /// everything read was written.
  public init(from source: Int32, to destination: Int32, onEnd: @escaping @Sendable () -> Void) {
    self.source = source
    self.destination = destination
    self.onEnd = onEnd
  }

  public func start() {
    DetachedThread.start(stackSize: 1 << 18) { [self] in
      copy()
      onEnd()
    }
  }

  private func copy() {
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var poller = Poller()
    while true {
      let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 && errno == EAGAIN {
        poller.reset()
        poller.add(source, read: true, write: false)
        try? poller.wait(timeout: -1)
        continue
      }
      if n <= 0 { return }
      var offset = 0
      while offset < n {
        let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + offset, n - offset) }
        if written < 0 && errno == EINTR { continue }
        if written < 0 && errno == EAGAIN {
          poller.reset()
          poller.add(destination, read: false, write: true)
          try? poller.wait(timeout: -1)
          continue
        }
        if written <= 0 { return }
        offset += written
      }
    }
  }
}
