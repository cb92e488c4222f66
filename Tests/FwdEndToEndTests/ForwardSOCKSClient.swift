import FwdLab
import Glibc

/// A minimal SOCKS client for the -D tests (RFC 1928 for SOCKS5; SOCKS4 and 4a as OpenSSH
/// and curl speak them), so the test controls the address type and reads the raw reply code.
enum ForwardSOCKSClient {
  /// The target of a CONNECT request.
  enum Target {
    case ipv4(String)
    case ipv6(String)
    /// A name the proxy's far side resolves.
    case domain(String)
  }

  /// The outcome of a CONNECT request: the reply code and, on success, the connection that
  /// now carries the target's bytes.
  struct Reply {
    /// SOCKS5 REP (0 is success) or SOCKS4 CD (90 is success).
    let code: UInt8
    let connection: LabConnection
  }

  /// Sends a SOCKS5 greeting without authentication and a CONNECT request to the proxy on
  /// `proxyHost`:`proxyPort`, and reads the whole reply.
  static func connect5(
    proxyHost: String = "127.0.0.1", proxyPort: Int, to target: Target, port: Int
  ) throws -> Reply {
    let connection = try LabConnection(host: proxyHost, port: proxyPort)
    try connection.write([5, 1, 0])
    let method = try readExactly(connection, 2)
    guard method == [5, 0] else {
      throw LabError("SOCKS5 greeting: expected method reply [5, 0], got \(method)")
    }
    var request: [UInt8] = [5, 1, 0]
    switch target {
    case .ipv4(let address): request += [1] + (try addressBytes(address, family: AF_INET))
    case .ipv6(let address): request += [4] + (try addressBytes(address, family: AF_INET6))
    case .domain(let name): request += [3, UInt8(name.utf8.count)] + Array(name.utf8)
    }
    request += [UInt8(port >> 8), UInt8(port & 0xff)]
    try connection.write(request)

    let header = try readExactly(connection, 4)
    guard header[0] == 5 else {
      throw LabError("SOCKS5 reply: expected version 5, got \(header)")
    }
    let addressLength: Int
    switch header[3] {
    case 1: addressLength = 4
    case 4: addressLength = 16
    case 3: addressLength = Int(try readExactly(connection, 1)[0])
    default: throw LabError("SOCKS5 reply: unknown address type \(header[3])")
    }
    _ = try readExactly(connection, addressLength + 2)
    return Reply(code: header[1], connection: connection)
  }

  /// Sends a SOCKS4 CONNECT request, or SOCKS4a when `target` is a domain name, and reads the
  /// 8-byte reply.
  static func connect4(proxyPort: Int, to target: Target, port: Int) throws -> Reply {
    let connection = try LabConnection(port: proxyPort)
    var request: [UInt8] = [4, 1, UInt8(port >> 8), UInt8(port & 0xff)]
    switch target {
    case .ipv4(let address):
      request += try addressBytes(address, family: AF_INET)
      request += Array("fwd-test".utf8) + [0]
    case .domain(let name):
      request += [0, 0, 0, 1] + Array("fwd-test".utf8) + [0] + Array(name.utf8) + [0]
    case .ipv6:
      throw LabError("SOCKS4 request: SOCKS4 has no IPv6 address type")
    }
    try connection.write(request)
    let reply = try readExactly(connection, 8)
    guard reply[0] == 0 else {
      throw LabError("SOCKS4 reply: expected version byte 0, got \(reply)")
    }
    return Reply(code: reply[1], connection: connection)
  }

  /// Reads exactly `count` bytes; throws at EOF before them.
  static func readExactly(_ connection: LabConnection, _ count: Int) throws -> [UInt8] {
    var bytes: [UInt8] = []
    while bytes.count < count {
      let chunk = try connection.read(maxCount: count - bytes.count)
      guard !chunk.isEmpty else {
        throw LabError("SOCKS: connection closed after \(bytes.count) of \(count) bytes")
      }
      bytes += chunk
    }
    return bytes
  }

  private static func addressBytes(_ text: String, family: Int32) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: family == AF_INET6 ? 16 : 4)
    guard inet_pton(family, text, &bytes) == 1 else {
      throw LabError("SOCKS request: invalid address '\(text)'")
    }
    return bytes
  }
}
