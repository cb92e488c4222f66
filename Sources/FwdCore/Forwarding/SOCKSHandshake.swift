/// The server side of a SOCKS handshake up to the CONNECT request, fed with bytes as they
/// arrive. It does no I/O. Each step returns the bytes to send and whether to read on.
///
/// A SOCKS4 client sends its request at once. A SOCKS5 client sends a greeting, waits for
/// the method selection, then sends its request; a client that sends both at once is served
/// the same way.
public struct SOCKSHandshake: Sendable {
  public enum Step: Hashable, Sendable {
    /// Send `send` (possibly empty), then call `receive` with the next bytes.
    case needsMoreBytes(send: [UInt8])
    /// The request is complete. Send `send` (possibly empty), open the connection, then send
    /// `request.reply(...)` with the outcome. `remainder` is data the client sent after the
    /// request, which belongs to the connection.
    case complete(SOCKSRequest, send: [UInt8], remainder: [UInt8])
    /// Send `send` (which includes the failure's reply) and close the connection.
    case invalid(SOCKSFailure, send: [UInt8])
  }

  private enum Phase {
    case opening
    case socks5Request
    case finished
  }

  private var phase = Phase.opening
  /// The bytes of the current message received so far.
  private var buffer: [UInt8] = []

  public init() {}

  /// Adds bytes from the client and parses what has arrived.
  ///
  /// - Precondition: no earlier call returned `.complete` or `.invalid`.
  public mutating func receive(_ bytes: some Sequence<UInt8>) -> Step {
    precondition(phase != .finished, "SOCKSHandshake.receive called after the handshake ended")
    buffer.append(contentsOf: bytes)
    var send: [UInt8] = []
    if phase == .opening {
      switch SOCKSRequest.parseOpening(buffer) {
      case .needsMoreBytes:
        return .needsMoreBytes(send: [])
      case .invalid(let failure):
        phase = .finished
        return .invalid(failure, send: failure.reply)
      case .complete(.socks4(let request), let count):
        phase = .finished
        return .complete(request, send: [], remainder: Array(buffer[count...]))
      case .complete(.socks5Greeting, let count):
        phase = .socks5Request
        buffer.removeFirst(count)
        send = SOCKSReply.socks5NoAuthentication
      }
    }
    switch SOCKSRequest.parseSOCKS5Request(buffer) {
    case .needsMoreBytes:
      return .needsMoreBytes(send: send)
    case .invalid(let failure):
      phase = .finished
      return .invalid(failure, send: send + failure.reply)
    case .complete(let request, let count):
      phase = .finished
      return .complete(request, send: send, remainder: Array(buffer[count...]))
    }
  }
}
