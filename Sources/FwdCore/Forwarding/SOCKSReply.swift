/// The SOCKS5 reply field REP (RFC 1928 section 6). SOCKS4 has only "granted" (0x5A) and
/// "rejected or failed" (0x5B), so every code but `.succeeded` becomes 0x5B there.
public enum SOCKSReplyCode: UInt8, Hashable, Sendable, CaseIterable {
  case succeeded = 0x00
  case generalFailure = 0x01
  case connectionNotAllowed = 0x02
  case networkUnreachable = 0x03
  case hostUnreachable = 0x04
  case connectionRefused = 0x05
  case ttlExpired = 0x06
  case commandNotSupported = 0x07
  case addressTypeNotSupported = 0x08
}

/// The bytes a SOCKS server sends.
public enum SOCKSReply {
  /// The method selection that accepts a SOCKS5 greeting: version 5, method 0.
  public static let socks5NoAuthentication: [UInt8] = [5, SOCKSRequest.noAuthenticationMethod]
  /// The method selection that rejects a SOCKS5 greeting: version 5, method 0xFF.
  public static let socks5NoAcceptableMethod: [UInt8] = [5, 0xFF]

  /// The SOCKS4 reply "request rejected or failed", with a zero port and address.
  public static let socks4Rejected = socks4(.generalFailure)

  /// Builds a SOCKS4 reply, `VN=0 CD DSTPORT(2) DSTIP(4)`, in which CD is 0x5A for `.succeeded` and
  /// 0x5B for any other code. Clients ignore the port and address, which are sent as zeros.
  public static func socks4(_ code: SOCKSReplyCode) -> [UInt8] {
    [0, code == .succeeded ? 0x5A : 0x5B, 0, 0, 0, 0, 0, 0]
  }

  /// Builds a SOCKS5 reply, `VER=5 REP RSV=0 ATYP BND.ADDR BND.PORT(2)`.
  ///
  /// - Parameters:
  ///   - bound: the address the server connected from, which clients rarely use. fwd's
  ///     connections leave from the last hop, whose address it does not learn, so the
  ///     default is 0.0.0.0, as OpenSSH's `-D` sends (channels.c).
  ///   - boundPort: 0-65535.
  public static func socks5(
    _ code: SOCKSReplyCode, bound: SOCKSAddress = .ipv4([0, 0, 0, 0]), boundPort: Int = 0
  ) -> [UInt8] {
    precondition((0...65535).contains(boundPort), "SOCKS port \(boundPort) is out of range")
    var bytes: [UInt8] = [5, code.rawValue, 0]
    switch bound {
    case .ipv4(let address):
      precondition(address.count == 4, "an IPv4 address has 4 bytes, not \(address.count)")
      bytes += [SOCKSRequest.AddressType.ipv4] + address
    case .ipv6(let address):
      precondition(address.count == 16, "an IPv6 address has 16 bytes, not \(address.count)")
      bytes += [SOCKSRequest.AddressType.ipv6] + address
    case .domain(let name):
      let nameBytes = Array(name.utf8)
      precondition(
        nameBytes.count <= SOCKSRequest.maximumDomainLength,
        "a SOCKS5 domain name has at most 255 bytes, not \(nameBytes.count)")
      bytes += [SOCKSRequest.AddressType.domain, UInt8(nameBytes.count)] + nameBytes
    }
    bytes += [UInt8(boundPort >> 8), UInt8(boundPort & 0xFF)]
    return bytes
  }
}

extension SOCKSRequest {
  /// The reply to this request in its own protocol version, with a zero bound address.
  public func reply(_ code: SOCKSReplyCode) -> [UInt8] {
    switch version {
    case .socks4, .socks4a: SOCKSReply.socks4(code)
    case .socks5: SOCKSReply.socks5(code)
    }
  }
}
