import CLibSSH2

/// A failed libssh2 call: the function, libssh2's error code and its message.
public struct SSHError: Error, CustomStringConvertible, Sendable {
  /// libssh2's error code (a negative `LIBSSH2_ERROR_*` value).
  public let code: Int32
  /// The text libssh2 stored for the error, or a description of the code when it stored none.
  public let message: String
  /// The libssh2 function that failed.
  public let function: String

  public init(code: Int32, message: String, function: String) {
    self.code = code
    self.message = message
    self.function = function
  }

  public var description: String { message.isEmpty ? "\(function) failed (\(code))" : message }

  public var isAuthenticationFailure: Bool {
    code == LIBSSH2_ERROR_AUTHENTICATION_FAILED || code == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
      || code == LIBSSH2_ERROR_PUBLICKEY_UNRECOGNIZED
  }

  public var isChannelOpenFailure: Bool { code == LIBSSH2_ERROR_CHANNEL_FAILURE }

  public var isSocketFailure: Bool {
    code == LIBSSH2_ERROR_SOCKET_DISCONNECT || code == LIBSSH2_ERROR_SOCKET_RECV
      || code == LIBSSH2_ERROR_SOCKET_SEND || code == LIBSSH2_ERROR_SOCKET_TIMEOUT
  }

  public var isKeyExchangeFailure: Bool {
    code == LIBSSH2_ERROR_KEX_FAILURE || code == LIBSSH2_ERROR_BANNER_RECV
      || code == LIBSSH2_ERROR_BANNER_SEND || code == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED
  }

  /// Whether the error breaks the whole session (transport, crypto or protocol), not one channel.
  public var endsSession: Bool {
    switch code {
    case LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
      LIBSSH2_ERROR_INVALID_MAC, LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_SOCKET_SEND,
      LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE, LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_DECRYPT,
      LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_PROTO, LIBSSH2_ERROR_SOCKET_TIMEOUT,
      LIBSSH2_ERROR_BAD_USE, LIBSSH2_ERROR_OUT_OF_BOUNDARY, LIBSSH2_ERROR_SOCKET_RECV,
      LIBSSH2_ERROR_ENCRYPT, LIBSSH2_ERROR_BAD_SOCKET:
      true
    default:
      false
    }
  }

  /// Builds the error from the session's last error, which libssh2 keeps per session.
  static func last(_ session: OpaquePointer, function: String, code: Int32? = nil) -> SSHError {
    var text: UnsafeMutablePointer<CChar>? = nil
    var length: Int32 = 0
    let lastCode = libssh2_session_last_error(session, &text, &length, 0)
    let message = text.map { String(cString: $0) } ?? ""
    return SSHError(code: code ?? lastCode, message: message, function: function)
  }
}

/// The outcome of a non-blocking libssh2 call.
public enum Attempt<Value> {
  case done(Value)
  /// libssh2 returned `LIBSSH2_ERROR_EAGAIN`: call again with the same arguments when the socket is ready.
  case wouldBlock
}
