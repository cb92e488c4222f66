/// A SOCKS CONNECT request as a client of a dynamic (`-D`) forward sends it: SOCKS4, SOCKS4a
/// (a domain name after the user ID) or SOCKS5 (RFC 1928, without authentication).
///
/// The parse functions here are pure. Each reads the bytes received so far, from the first
/// byte of the message, and returns whether the message needs more bytes or is complete. An
/// invalid message comes back with the reply to send before closing. `SOCKSHandshake` drives
/// these functions over a connection.
public struct SOCKSRequest: Hashable, Sendable {
  public enum Version: Hashable, Sendable {
    case socks4
    case socks4a
    case socks5
  }

  public var version: Version
  public var address: SOCKSAddress
  /// The destination port, 1-65535.
  public var port: Int

  public init(version: Version, address: SOCKSAddress, port: Int) {
    self.version = version
    self.address = address
    self.port = port
  }

  /// The destination host as the last hop's direct-tcpip channel takes it.
  public var host: String { address.description }
}

/// The destination address of a SOCKS request.
public enum SOCKSAddress: Hashable, Sendable {
  /// Four bytes in network order.
  case ipv4([UInt8])
  /// Sixteen bytes in network order.
  case ipv6([UInt8])
  /// A name for the far side to resolve: 1-255 bytes of printable text without spaces.
  case domain(String)
}

/// The first message of a SOCKS connection, which also fixes the protocol version.
public enum SOCKSOpening: Hashable, Sendable {
  /// A complete SOCKS4 or SOCKS4a CONNECT request.
  case socks4(SOCKSRequest)
  /// A SOCKS5 greeting that offers "no authentication". The server sends
  /// `SOCKSReply.socks5NoAuthentication`, then reads the request with `parseSOCKS5Request`.
  case socks5Greeting
}

/// A message that cannot be served, with the reply the server sends before closing.
public struct SOCKSFailure: Error, Hashable, Sendable {
  /// The cause, for a log line, such as
  /// "SOCKS5 request: command 2 is not supported; fwd supports only 1 (CONNECT)".
  public let reason: String
  /// The reply bytes; empty when the client speaks no SOCKS version, so no reply fits.
  public let reply: [UInt8]

  public init(reason: String, reply: [UInt8]) {
    self.reason = reason
    self.reply = reply
  }
}

/// The state of a message after the bytes received so far.
public enum SOCKSParseResult<Value: Hashable & Sendable>: Hashable, Sendable {
  /// The bytes are a valid prefix of a message; read more and parse again from the start.
  case needsMoreBytes
  /// The message is complete and takes the first `byteCount` bytes. Any bytes after them
  /// belong to the next message or to the connection.
  case complete(Value, byteCount: Int)
  case invalid(SOCKSFailure)
}

// MARK: - Limits and codes

extension SOCKSRequest {
  /// The maximum SOCKS4 user ID length, in bytes. The protocol sets no limit, so a client
  /// that never sends the terminating NUL would otherwise be buffered without end. fwd
  /// ignores the user ID.
  public static let maximumUserIDLength = 255
  /// The maximum domain name length, in bytes. SOCKS5 sends the length in one byte, and
  /// SOCKS4a is held to the same limit.
  public static let maximumDomainLength = 255

  enum Command {
    static let connect: UInt8 = 1
  }

  enum AddressType {
    static let ipv4: UInt8 = 1
    static let domain: UInt8 = 3
    static let ipv6: UInt8 = 4
  }

  /// The SOCKS5 authentication method "no authentication required" (RFC 1928 section 3).
  static let noAuthenticationMethod: UInt8 = 0
}

// MARK: - First message

extension SOCKSRequest {
  /// Parses the first message a client sends: a SOCKS4 or SOCKS4a CONNECT request, or a
  /// SOCKS5 greeting (version, method count, methods).
  ///
  /// A first byte other than 4 or 5 is invalid with an empty reply. A SOCKS5 greeting that
  /// does not offer "no authentication" is invalid with the reply "no acceptable methods".
  public static func parseOpening(_ bytes: some Collection<UInt8>) -> SOCKSParseResult<
    SOCKSOpening
  > {
    let bytes = Array(bytes)
    guard let version = bytes.first else { return .needsMoreBytes }
    switch version {
    case 4:
      switch parseSOCKS4Request(bytes) {
      case .needsMoreBytes: return .needsMoreBytes
      case .complete(let request, let count): return .complete(.socks4(request), byteCount: count)
      case .invalid(let failure): return .invalid(failure)
      }
    case 5:
      return parseSOCKS5Greeting(bytes)
    default:
      return .invalid(
        SOCKSFailure(
          reason: "SOCKS: unknown protocol version \(version); expected 4 or 5", reply: []))
    }
  }

  private static func parseSOCKS5Greeting(_ bytes: [UInt8]) -> SOCKSParseResult<SOCKSOpening> {
    guard bytes.count >= 2 else { return .needsMoreBytes }
    let methodCount = Int(bytes[1])
    let end = 2 + methodCount
    guard bytes.count >= end else { return .needsMoreBytes }
    guard bytes[2..<end].contains(noAuthenticationMethod) else {
      let methods = bytes[2..<end].map { String($0) }.joined(separator: ", ")
      return .invalid(
        SOCKSFailure(
          reason: "SOCKS5 greeting: the client offers authentication methods [\(methods)] "
            + "but fwd accepts only 0 (no authentication)",
          reply: SOCKSReply.socks5NoAcceptableMethod))
    }
    return .complete(.socks5Greeting, byteCount: end)
  }
}

// MARK: - SOCKS4 and SOCKS4a

extension SOCKSRequest {
  /// Parses `VN=4 CD DSTPORT(2) DSTIP(4) USERID NUL`, followed for SOCKS4a (DSTIP 0.0.0.x
  /// with x nonzero) by `DOMAIN NUL`.
  static func parseSOCKS4Request(_ bytes: [UInt8]) -> SOCKSParseResult<SOCKSRequest> {
    func failure(_ reason: String) -> SOCKSParseResult<SOCKSRequest> {
      .invalid(SOCKSFailure(reason: "SOCKS4 request: " + reason, reply: SOCKSReply.socks4Rejected))
    }
    guard bytes.count >= 2 else { return .needsMoreBytes }
    guard bytes[1] == Command.connect else {
      return failure("command \(bytes[1]) is not supported; fwd supports only 1 (CONNECT)")
    }
    guard bytes.count >= 8 else { return .needsMoreBytes }
    let port = Int(bytes[2]) << 8 | Int(bytes[3])
    let addressBytes = Array(bytes[4..<8])

    let userIDStart = 8
    guard let userIDEnd = bytes[userIDStart...].firstIndex(of: 0) else {
      if bytes.count - userIDStart > maximumUserIDLength {
        return failure("user ID is longer than \(maximumUserIDLength) bytes")
      }
      return .needsMoreBytes
    }
    guard userIDEnd - userIDStart <= maximumUserIDLength else {
      return failure("user ID is longer than \(maximumUserIDLength) bytes")
    }
    guard port != 0 else { return failure("destination port is 0") }

    let isSOCKS4a = addressBytes[0..<3].allSatisfy { $0 == 0 } && addressBytes[3] != 0
    guard isSOCKS4a else {
      let request = SOCKSRequest(version: .socks4, address: .ipv4(addressBytes), port: port)
      return .complete(request, byteCount: userIDEnd + 1)
    }

    let domainStart = userIDEnd + 1
    guard let domainEnd = bytes[domainStart...].firstIndex(of: 0) else {
      if bytes.count - domainStart > maximumDomainLength {
        return failure("domain name is longer than \(maximumDomainLength) bytes")
      }
      return .needsMoreBytes
    }
    switch domainName(bytes[domainStart..<domainEnd]) {
    case .success(let name):
      let request = SOCKSRequest(version: .socks4a, address: .domain(name), port: port)
      return .complete(request, byteCount: domainEnd + 1)
    case .failure(let reason):
      return failure(reason.text)
    }
  }
}

// MARK: - SOCKS5

extension SOCKSRequest {
  /// Parses a SOCKS5 request, `VER=5 CMD RSV ATYP DST.ADDR DST.PORT(2)`, which the client
  /// sends after the server has selected "no authentication".
  ///
  /// Failures carry a SOCKS5 reply: "command not supported" for any command but CONNECT,
  /// "address type not supported" for an ATYP other than 1, 3 and 4, and "general failure"
  /// for a wrong version, an invalid domain name or port 0. The reserved byte is not checked.
  public static func parseSOCKS5Request(_ bytes: some Collection<UInt8>) -> SOCKSParseResult<
    SOCKSRequest
  > {
    let bytes = Array(bytes)
    func failure(_ code: SOCKSReplyCode, _ reason: String) -> SOCKSParseResult<SOCKSRequest> {
      .invalid(SOCKSFailure(reason: "SOCKS5 request: " + reason, reply: SOCKSReply.socks5(code)))
    }
    guard let version = bytes.first else { return .needsMoreBytes }
    guard version == 5 else {
      return failure(.generalFailure, "version is \(version); expected 5")
    }
    guard bytes.count >= 2 else { return .needsMoreBytes }
    guard bytes[1] == Command.connect else {
      return failure(
        .commandNotSupported, "command \(bytes[1]) is not supported; fwd supports only 1 (CONNECT)")
    }
    guard bytes.count >= 4 else { return .needsMoreBytes }

    let addressStart: Int
    let addressLength: Int
    switch bytes[3] {
    case AddressType.ipv4:
      (addressStart, addressLength) = (4, 4)
    case AddressType.ipv6:
      (addressStart, addressLength) = (4, 16)
    case AddressType.domain:
      guard bytes.count >= 5 else { return .needsMoreBytes }
      (addressStart, addressLength) = (5, Int(bytes[4]))
    default:
      return failure(
        .addressTypeNotSupported,
        "address type \(bytes[3]) is not supported; expected 1 (IPv4), 3 (domain) or 4 (IPv6)")
    }
    let portStart = addressStart + addressLength
    guard bytes.count >= portStart + 2 else { return .needsMoreBytes }

    let addressBytes = bytes[addressStart..<portStart]
    let address: SOCKSAddress
    switch bytes[3] {
    case AddressType.ipv4: address = .ipv4(Array(addressBytes))
    case AddressType.ipv6: address = .ipv6(Array(addressBytes))
    default:
      switch domainName(addressBytes) {
      case .success(let name): address = .domain(name)
      case .failure(let reason): return failure(.generalFailure, reason.text)
      }
    }
    let port = Int(bytes[portStart]) << 8 | Int(bytes[portStart + 1])
    guard port != 0 else { return failure(.generalFailure, "destination port is 0") }
    let request = SOCKSRequest(version: .socks5, address: address, port: port)
    return .complete(request, byteCount: portStart + 2)
  }
}

// MARK: - Domain names

extension SOCKSRequest {
  struct DomainNameFailure: Error {
    let text: String
  }

  /// Checks a domain name from a request. The name goes into an SSH channel request and into
  /// log lines, so it must be 1-255 bytes of UTF-8 without spaces, control characters or NUL.
  static func domainName(_ bytes: ArraySlice<UInt8>) -> Result<String, DomainNameFailure> {
    guard !bytes.isEmpty else { return .failure(DomainNameFailure(text: "domain name is empty")) }
    guard bytes.count <= maximumDomainLength else {
      return .failure(
        DomainNameFailure(text: "domain name is longer than \(maximumDomainLength) bytes"))
    }
    if let bad = bytes.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
      return .failure(
        DomainNameFailure(text: "domain name contains the byte 0x\(hexByte(bad))"))
    }
    guard let name = String(validating: bytes, as: UTF8.self) else {
      return .failure(DomainNameFailure(text: "domain name is not valid UTF-8"))
    }
    return .success(name)
  }

  static func hexByte(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return byte < 0x10 ? "0" + digits : digits
  }
}

// MARK: - Text forms

extension SOCKSAddress: CustomStringConvertible {
  /// The address as text: a dotted quad, an IPv6 address in the RFC 5952 form
  /// (`2001:db8::1`), or the domain name.
  public var description: String {
    switch self {
    case .ipv4(let bytes): bytes.map { String($0) }.joined(separator: ".")
    case .ipv6(let bytes): Self.ipv6Text(bytes)
    case .domain(let name): name
    }
  }

  /// Formats 16 bytes as RFC 5952 section 4 recommends: lowercase hex groups without leading
  /// zeros, and the longest run of two or more zero groups (the first, on a tie) as `::`.
  static func ipv6Text(_ bytes: [UInt8]) -> String {
    precondition(bytes.count == 16, "an IPv6 address has 16 bytes, not \(bytes.count)")
    let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    var bestStart = -1
    var bestLength = 0
    var index = 0
    while index < groups.count {
      guard groups[index] == 0 else {
        index += 1
        continue
      }
      let start = index
      while index < groups.count, groups[index] == 0 { index += 1 }
      if index - start > bestLength {
        (bestStart, bestLength) = (start, index - start)
      }
    }
    func hex(_ range: Range<Int>) -> String {
      groups[range].map { String($0, radix: 16) }.joined(separator: ":")
    }
    guard bestLength >= 2 else { return hex(0..<8) }
    return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
  }
}
