import CLibSSH2
import Glibc
import Synchronization

/// One libssh2 session over a connected socket, always non-blocking.
///
/// A session is not thread-safe: one thread owns it and every channel opened on it.
public final class SSHSession {
  let raw: OpaquePointer
  /// The socket the session reads and writes. The session does not close it.
  public let socket: Int32
  private let traffic = SessionTraffic()

  public init(socket: Int32) throws(SSHError) {
    LibSSH2.initialize()
    let abstract = Unmanaged.passUnretained(traffic).toOpaque()
    guard let raw = libssh2_session_init_ex(nil, nil, nil, abstract) else {
      throw SSHError(code: LIBSSH2_ERROR_ALLOC, message: "out of memory", function: "libssh2_session_init_ex")
    }
    self.raw = raw
    self.socket = socket
    libssh2_session_set_blocking(raw, 0)
    let receive: ReceiveFunction = receiveAndCount
    libssh2_session_callback_set(
      raw, LIBSSH2_CALLBACK_RECV, unsafeBitCast(receive, to: UnsafeMutableRawPointer.self))
    let send: SendFunction = sendUnlessDetached
    libssh2_session_callback_set(
      raw, LIBSSH2_CALLBACK_SEND, unsafeBitCast(send, to: UnsafeMutableRawPointer.self))
    let disconnect:
      @convention(c) (
        OpaquePointer?, Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Int32,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?
      ) -> Void = recordDisconnect
    libssh2_session_callback_set(
      raw, LIBSSH2_CALLBACK_DISCONNECT, unsafeBitCast(disconnect, to: UnsafeMutableRawPointer.self))
  }

  /// Monotonic time of the last bytes received from the server, in milliseconds
  /// (see `Clock.monotonicMilliseconds`). Safe to read from any thread.
  public var lastReceiveTime: UInt64 { traffic.lastReceive.load(ordering: .relaxed) }

  /// Bytes read from the socket so far, encrypted SSH packets included.
  public var bytesReceived: UInt64 { traffic.bytesReceived }

  /// Whether libssh2's reads skip recv(2) once the socket was found empty, until
  /// `resumeReading()`. Every libssh2 channel read or write reads the socket until EAGAIN, so
  /// a pass over several channels otherwise spends one empty recv per call.
  ///
  /// A recv that returns EAGAIN, or fewer bytes than asked for, finds the socket empty. The
  /// owner calls `resumeReading()` before it expects new data, and polls the socket for
  /// reading before it sleeps, so data that arrives meanwhile is only read later, never lost.
  public var skipsReadsWhenDrained: Bool {
    get { traffic.skipsReadsWhenDrained }
    set {
      traffic.skipsReadsWhenDrained = newValue
      traffic.drained = false
    }
  }

  /// Lets the next libssh2 read call recv(2) again (see `skipsReadsWhenDrained`).
  public func resumeReading() { traffic.drained = false }

  /// The description from the server's SSH_MSG_DISCONNECT, if it sent one.
  public var disconnectMessage: String? { traffic.disconnectMessage }

  /// Ends the session's use of its socket: every later libssh2 read and write fails with
  /// ENOTCONN without calling recv(2) or send(2). Call it once nothing more is to be sent, so
  /// that freeing the channels and the session sends nothing to a socket that may be closed
  /// and its number reused.
  public func detachSocket() { traffic.detached = true }

  deinit {
    // libssh2_session_free closes each open channel first: it sends CHANNEL_CLOSE and waits for
    // the server's reply. A non-blocking session would return EAGAIN there and free nothing, so
    // the socket is detached and the free completes at once.
    traffic.detached = true
    libssh2_session_free(raw)
  }

  /// Sets the comma-separated preference list for one method kind.
  public func setMethodPreference(_ kind: SSHMethodKind, _ list: String) throws(SSHError) {
    let status = libssh2_session_method_pref(raw, kind.rawValue, list)
    if status != 0 { throw SSHError.last(raw, function: "libssh2_session_method_pref", code: status) }
  }

  /// Returns the algorithms libssh2 supports for one method kind.
  public func supportedMethods(_ kind: SSHMethodKind) -> [String] {
    var list: UnsafeMutablePointer<UnsafePointer<CChar>?>? = nil
    let count = libssh2_session_supported_algs(raw, kind.rawValue, &list)
    guard count > 0, let list else { return [] }
    defer { libssh2_free(raw, list) }
    return (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
  }

  /// Returns the algorithms libssh2 supports for one method kind, without a connection.
  public static func supportedMethods(_ kind: SSHMethodKind) -> [String] {
    guard let session = try? SSHSession(socket: -1) else { return [] }
    return session.supportedMethods(kind)
  }

  /// Returns the algorithm negotiated for one method kind, once the handshake is done.
  public func negotiatedMethod(_ kind: SSHMethodKind) -> String? {
    libssh2_session_methods(raw, kind.rawValue).map { String(cString: $0) }
  }

  public func handshake() throws(SSHError) -> Attempt<Void> {
    try check(libssh2_session_handshake(raw, socket), "libssh2_session_handshake")
  }

  /// The server's host key blob (as in known_hosts, before base64) and libssh2's type code.
  public func hostKey() -> (blob: [UInt8], type: Int32)? {
    var length = 0
    var type: Int32 = 0
    guard let bytes = libssh2_session_hostkey(raw, &length, &type) else { return nil }
    let blob = bytes.withMemoryRebound(to: UInt8.self, capacity: length) {
      Array(UnsafeBufferPointer(start: $0, count: length))
    }
    return (blob, type)
  }

  /// Whether libssh2 waits for the socket to become readable (`inbound`) or writable (`outbound`).
  public var blockDirections: (inbound: Bool, outbound: Bool) {
    let directions = libssh2_session_block_directions(raw)
    return (
      directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0,
      directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
    )
  }

  public var isAuthenticated: Bool { libssh2_userauth_authenticated(raw) != 0 }

  /// Returns the authentication methods the server offers `user`, or an empty list when the
  /// server accepted the "none" method.
  public func authenticationMethods(user: String) throws(SSHError) -> Attempt<[String]> {
    let list = user.withCString { libssh2_userauth_list(raw, $0, UInt32(strlen($0))) }
    if let list { return .done(String(cString: list).split(separator: ",").map(String.init)) }
    if isAuthenticated { return .done([]) }
    let code = libssh2_session_last_errno(raw)
    if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    throw SSHError.last(raw, function: "libssh2_userauth_list", code: code)
  }

  /// Authenticates with an OpenSSH private key file; the public key is derived from it.
  /// The passphrase is a C string the caller owns and zeroes.
  public func authenticate(user: String, privateKeyFile: String, passphrase: UnsafePointer<CChar>?)
    throws(SSHError)
    -> Attempt<Void>
  {
    let status = user.withCString { userC in
      libssh2_userauth_publickey_fromfile_ex(
        raw, userC, UInt32(strlen(userC)), nil, privateKeyFile, passphrase)
    }
    return try check(status, "libssh2_userauth_publickey_fromfile_ex")
  }

  /// Authenticates with a key whose signatures come from `key` (a token, an agent, a file).
  ///
  /// libssh2 first asks the server whether it accepts the public key, and calls `key.sign` only
  /// when it does. Call again with the same key after `.wouldBlock`.
  public func authenticate(user: String, key: SSHUserKey) throws(SSHError) -> Attempt<Void> {
    let context = SignContext(key: key)
    let box = Unmanaged.passRetained(context)
    defer { box.release() }
    var abstract: UnsafeMutableRawPointer? = box.toOpaque()
    let blob = key.publicKeyBlob
    let status = user.withCString { userC in
      blob.withUnsafeBufferPointer { blobBytes in
        libssh2_userauth_publickey(
          raw, userC, blobBytes.baseAddress, blobBytes.count, signWithUserKey, &abstract)
      }
    }
    if let failure = context.failure {
      throw SSHError(code: LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, message: "\(failure)", function: "sign")
    }
    return try check(status, "libssh2_userauth_publickey")
  }

  /// Configures keepalive@openssh.com requests every `interval` seconds (0 turns them off).
  public func configureKeepalive(interval: Int, wantReply: Bool = true) {
    libssh2_keepalive_config(raw, wantReply ? 1 : 0, UInt32(interval))
  }

  /// Sends a keepalive if one is due and returns the seconds until the next one.
  public func sendKeepalive() throws(SSHError) -> Attempt<Int> {
    var next: Int32 = 0
    let status = libssh2_keepalive_send(raw, &next)
    if status == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    if status != 0 { throw SSHError.last(raw, function: "libssh2_keepalive_send", code: status) }
    return .done(Int(next))
  }

  /// Opens a direct-tcpip channel: the server connects to `host`:`port` for us.
  ///
  /// Only one channel open may be in progress per session; call again with the same arguments
  /// after `.wouldBlock`.
  public func openDirectTCPIP(host: String, port: Int, originHost: String, originPort: Int)
    throws(SSHError) -> Attempt<SSHChannel>
  {
    let channel = libssh2_channel_direct_tcpip_ex(raw, host, Int32(port), originHost, Int32(originPort))
    return try channelProgress(channel, "libssh2_channel_direct_tcpip_ex")
  }

  /// Opens a channel of any type with a type-specific payload (for example
  /// `direct-streamlocal@openssh.com`), using libssh2's default window and packet sizes.
  public func openChannel(type: String, payload: [UInt8]) throws(SSHError) -> Attempt<SSHChannel> {
    let channel = type.withCString { typeC in
      payload.withUnsafeBufferPointer { bytes in
        bytes.withMemoryRebound(to: CChar.self) { message in
          libssh2_channel_open_ex(
            raw, typeC, UInt32(strlen(typeC)), 2 * 1024 * 1024,
            32768, message.baseAddress, UInt32(message.count))
        }
      }
    }
    return try channelProgress(channel, "libssh2_channel_open_ex")
  }

  /// Sends SSH_MSG_DISCONNECT with `reason` as the description.
  public func disconnect(reason: String) -> Attempt<Void> {
    let status = libssh2_session_disconnect_ex(raw, SSH_DISCONNECT_BY_APPLICATION, reason, "")
    return status == LIBSSH2_ERROR_EAGAIN ? .wouldBlock : .done(())
  }

  public var lastErrorCode: Int32 { libssh2_session_last_errno(raw) }

  public func lastError(function: String) -> SSHError { SSHError.last(raw, function: function) }

  private func channelProgress(_ channel: OpaquePointer?, _ function: String) throws(SSHError)
    -> Attempt<SSHChannel>
  {
    if let channel { return .done(SSHChannel(raw: channel, session: self)) }
    let code = libssh2_session_last_errno(raw)
    if code == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    throw SSHError.last(raw, function: function, code: code)
  }

  func check(_ status: Int32, _ function: String) throws(SSHError) -> Attempt<Void> {
    if status == 0 { return .done(()) }
    if status == LIBSSH2_ERROR_EAGAIN { return .wouldBlock }
    throw SSHError.last(raw, function: function, code: status)
  }
}

/// Counters the libssh2 I/O callbacks update; reached through the session's abstract pointer.
private final class SessionTraffic {
  /// Atomic because other threads read it to see which hop of a chain went silent.
  let lastReceive = Atomic<UInt64>(Clock.monotonicMilliseconds())
  var bytesReceived: UInt64 = 0
  var skipsReadsWhenDrained = false
  /// Whether a recv since the last `resumeReading()` found the socket empty.
  var drained = false
  var disconnectMessage: String?
  /// Whether reads and writes fail without using the socket (see `SSHSession.detachSocket()`).
  var detached = false
}

/// libssh2's LIBSSH2_RECV_FUNC and LIBSSH2_SEND_FUNC: socket, buffer, length, flags and the
/// session's abstract pointer. They return the byte count, or -errno on failure.
private typealias ReceiveFunction =
  @convention(c) (
    Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
  ) -> Int
private typealias SendFunction =
  @convention(c) (
    Int32, UnsafeRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
  ) -> Int

/// libssh2's receive callback: recv(2) plus a timestamp, so keepalives can tell whether the
/// server has sent anything. libssh2 expects -errno, not -1, on failure.
private func receiveAndCount(
  socket: Int32, buffer: UnsafeMutableRawPointer?, length: Int, flags: Int32,
  abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int {
  guard let pointer = abstract?.pointee else { return -Int(EINVAL) }
  let traffic = Unmanaged<SessionTraffic>.fromOpaque(pointer).takeUnretainedValue()
  if traffic.detached { return -Int(ENOTCONN) }
  if traffic.skipsReadsWhenDrained && traffic.drained { return -Int(EAGAIN) }
  let n = recv(socket, buffer, length, flags)
  if n < 0 {
    let code = errno
    if code == EAGAIN { traffic.drained = true }
    return -Int(code)
  }
  if n > 0 {
    traffic.lastReceive.store(Clock.monotonicMilliseconds(), ordering: .relaxed)
    traffic.bytesReceived += UInt64(n)
  }
  // A stream socket returns less than asked for only when its queue ran empty. End of file is
  // not empty: every later recv must see it again, because a libssh2 call that swallows the
  // error (forward_accept reports CHANNEL_UNKNOWN) may be the one that read it.
  if n > 0 && n < length { traffic.drained = true }
  return n
}

/// libssh2's send callback: send(2), or ENOTCONN once the session is detached from its socket.
private func sendUnlessDetached(
  socket: Int32, buffer: UnsafeRawPointer?, length: Int, flags: Int32,
  abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int {
  guard let pointer = abstract?.pointee else { return -Int(EINVAL) }
  let traffic = Unmanaged<SessionTraffic>.fromOpaque(pointer).takeUnretainedValue()
  if traffic.detached { return -Int(ENOTCONN) }
  let n = send(socket, buffer, length, flags)
  return n < 0 ? -Int(errno) : n
}

private func recordDisconnect(
  session: OpaquePointer?, reason: Int32, message: UnsafePointer<CChar>?, messageLength: Int32,
  language: UnsafePointer<CChar>?, languageLength: Int32, abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) {
  guard let pointer = abstract?.pointee, let message, messageLength > 0 else { return }
  let text = message.withMemoryRebound(to: UInt8.self, capacity: Int(messageLength)) {
    String(decoding: UnsafeBufferPointer(start: $0, count: Int(messageLength)), as: UTF8.self)
  }
  Unmanaged<SessionTraffic>.fromOpaque(pointer).takeUnretainedValue().disconnectMessage = text
}

/// A source of SSH user-key signatures for `SSHSession.authenticate(user:key:)`.
public protocol SSHUserKey: AnyObject {
  /// The public key blob as sent on the wire: the key type string, then the key's fields.
  var publicKeyBlob: [UInt8] { get }
  /// A short name for logs: the file, the token object or the agent comment.
  var label: String { get }
  /// Signs `data` and returns the inner signature that libssh2 expects from a sign callback:
  /// `mpint r || mpint s` for ECDSA, the raw modulus-sized signature for RSA, 64 bytes for Ed25519.
  func sign(_ data: [UInt8]) throws -> [UInt8]
}

private final class SignContext {
  let key: SSHUserKey
  var failure: Error?
  init(key: SSHUserKey) { self.key = key }
}

/// The sign callback handed to libssh2. The signature buffer is released by libssh2 with
/// free(), so it is allocated with malloc.
private func signWithUserKey(
  session: OpaquePointer?, signature: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
  signatureLength: UnsafeMutablePointer<Int>?, data: UnsafePointer<UInt8>?, dataLength: Int,
  abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
  guard let abstract, let pointer = abstract.pointee, let signature, let signatureLength else {
    return -1
  }
  let context = Unmanaged<SignContext>.fromOpaque(pointer).takeUnretainedValue()
  let input = data.map { Array(UnsafeBufferPointer(start: $0, count: dataLength)) } ?? []
  do {
    let bytes = try context.key.sign(input)
    guard let buffer = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: UInt8.self) else { return -1 }
    bytes.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: bytes.count) }
    signature.pointee = buffer
    signatureLength.pointee = bytes.count
    return 0
  } catch {
    context.failure = error
    return -1
  }
}
