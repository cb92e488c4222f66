import CLibSSH2

/// One channel of an `SSHSession`, used only on the session's thread.
public final class SSHChannel {
  private var raw: OpaquePointer?
  /// Keeps the session alive while the channel exists: libssh2 frees channels with their session.
  public let session: SSHSession

  init(raw: OpaquePointer, session: SSHSession) {
    self.raw = raw
    self.session = session
  }

  deinit {
    // A channel still open here is freed with the session's next free, so a non-blocking
    // free that returns EAGAIN leaks nothing.
    if let raw { _ = libssh2_channel_free(raw) }
  }

  private var handle: OpaquePointer {
    guard let raw else { preconditionFailure("channel used after free") }
    return raw
  }

  /// Reads up to `count` bytes of stream 0; `.done(0)` means no data right now or end of file
  /// (check `receivedEOF`).
  public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(SSHError) -> Attempt<Int> {
    let n = libssh2_channel_read_ex(handle, 0, buffer.assumingMemoryBound(to: CChar.self), count)
    if n >= 0 { return .done(n) }
    if n == Int(LIBSSH2_ERROR_EAGAIN) { return .wouldBlock }
    throw SSHError.last(session.raw, function: "libssh2_channel_read_ex", code: Int32(n))
  }

  /// Writes up to `count` bytes to stream 0 and returns how many were taken.
  ///
  /// After `.wouldBlock` part of a packet may already be on the wire: the next call that sends on
  /// this session must be this same write, with the same buffer and count.
  public func write(_ buffer: UnsafeRawPointer, count: Int) throws(SSHError) -> Attempt<Int> {
    let n = libssh2_channel_write_ex(handle, 0, buffer.assumingMemoryBound(to: CChar.self), count)
    if n >= 0 { return .done(n) }
    if n == Int(LIBSSH2_ERROR_EAGAIN) { return .wouldBlock }
    throw SSHError.last(session.raw, function: "libssh2_channel_write_ex", code: Int32(n))
  }

  /// The bytes the server lets us send now (its receive window for this channel).
  public var writeWindow: Int {
    Int(libssh2_channel_window_write_ex(handle, nil))
  }

  /// Whether the server has sent EOF on this channel.
  public var receivedEOF: Bool { libssh2_channel_eof(handle) != 0 }

  /// Sends EOF on the channel.
  ///
  /// After `.wouldBlock` part of the EOF packet may already be on the wire: the next call that
  /// sends on this session must be `sendEOF` on this channel again. That retry is valid from any
  /// call site because the call runs on `StableStackCaller`.
  public func sendEOF() throws(SSHError) -> Attempt<Void> {
    let status = StableStackCaller.shared.run(.channelSendEOF(handle))
    return try session.check(status, "libssh2_channel_send_eof")
  }

  public func close() throws(SSHError) -> Attempt<Void> {
    try session.check(libssh2_channel_close(handle), "libssh2_channel_close")
  }

  /// Releases the channel; after `.done` the channel must not be used again.
  public func free() -> Attempt<Void> {
    guard let raw else { return .done(()) }
    if libssh2_channel_free(raw) == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    self.raw = nil
    return .done(())
  }
}
