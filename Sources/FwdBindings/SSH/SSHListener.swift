import CLibSSH2

/// A port the server listens on for us (an SSH "tcpip-forward" request); each connection to
/// it arrives as a forwarded-tcpip channel.
public final class SSHListener {
  private var raw: OpaquePointer?
  public let session: SSHSession
  /// The port the server bound, which differs from the requested one when 0 was requested.
  public let boundPort: Int

  init(raw: OpaquePointer, session: SSHSession, boundPort: Int) {
    self.raw = raw
    self.session = session
    self.boundPort = boundPort
  }

  deinit {
    if let raw { _ = libssh2_channel_forward_cancel(raw) }
  }

  /// Returns the next forwarded connection, or `.wouldBlock` when none is waiting.
  public func accept() throws(SSHError) -> Attempt<SSHChannel> {
    guard let raw else { return .wouldBlock }
    if let channel = libssh2_channel_forward_accept(raw) {
      return .done(SSHChannel(raw: channel, session: session))
    }
    let code = session.lastErrorCode
    if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    throw SSHError.last(session.raw, function: "libssh2_channel_forward_accept", code: code)
  }

  /// Asks the server to stop listening ("cancel-tcpip-forward").
  public func cancel() -> Attempt<Void> {
    guard let raw else { return .done(()) }
    if libssh2_channel_forward_cancel(raw) == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    self.raw = nil
    return .done(())
  }
}

extension SSHSession {
  /// Asks the server to listen on `host`:`port` (port 0: the server picks one). Call again
  /// with the same arguments after `.wouldBlock`.
  public func listen(host: String, port: Int, queueSize: Int = 128) throws(SSHError) -> Attempt<SSHListener> {
    var bound: Int32 = 0
    if let listener = libssh2_channel_forward_listen_ex(raw, host, Int32(port), &bound, Int32(queueSize)) {
      return .done(SSHListener(raw: listener, session: self, boundPort: port == 0 ? Int(bound) : port))
    }
    let code = libssh2_session_last_errno(raw)
    if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    throw SSHError.last(raw, function: "libssh2_channel_forward_listen_ex", code: code)
  }
}
