import Testing

@testable import FwdCore

@Suite struct SOCKSRequestTests {
  // MARK: - SOCKS4 and SOCKS4a

  /// `CONNECT 10.1.2.3:443` from user "bob".
  static let socks4Connect: [UInt8] = [4, 1, 0x01, 0xBB, 10, 1, 2, 3] + Array("bob".utf8) + [0]
  /// SOCKS4a `CONNECT example.org:80` with an empty user ID.
  static let socks4aConnect: [UInt8] =
    [4, 1, 0, 80, 0, 0, 0, 1, 0] + Array("example.org".utf8) + [0]

  @Test func socks4ConnectParses() {
    let expected = SOCKSRequest(version: .socks4, address: .ipv4([10, 1, 2, 3]), port: 443)
    let result = SOCKSRequest.parseOpening(Self.socks4Connect)
    #expect(result == .complete(.socks4(expected), byteCount: Self.socks4Connect.count))
    #expect(expected.host == "10.1.2.3")
  }

  @Test func socks4aDomainParses() {
    let expected = SOCKSRequest(version: .socks4a, address: .domain("example.org"), port: 80)
    let result = SOCKSRequest.parseOpening(Self.socks4aConnect)
    #expect(result == .complete(.socks4(expected), byteCount: Self.socks4aConnect.count))
    #expect(expected.host == "example.org")
  }

  @Test func socks4PrefixesNeedMoreBytes() {
    for message in [Self.socks4Connect, Self.socks4aConnect] {
      for length in 0..<message.count {
        let result = SOCKSRequest.parseOpening(message[..<length])
        #expect(result == .needsMoreBytes, "prefix of \(length) bytes of \(message)")
      }
    }
  }

  @Test func socks4TrailingBytesAreNotConsumed() {
    let message = Self.socks4Connect + Array("GET /".utf8)
    guard case .complete(_, let count) = SOCKSRequest.parseOpening(message) else {
      Issue.record("expected a complete request")
      return
    }
    #expect(count == Self.socks4Connect.count)
  }

  struct Rejected: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let reason: String
    var testDescription: String { name }
  }

  static let socks4Rejected: [Rejected] = [
    Rejected(
      name: "BIND", bytes: [4, 2, 0, 80, 10, 0, 0, 1, 0],
      reason: "SOCKS4 request: command 2 is not supported; fwd supports only 1 (CONNECT)"),
    Rejected(
      name: "port 0", bytes: [4, 1, 0, 0, 10, 0, 0, 1, 0],
      reason: "SOCKS4 request: destination port is 0"),
    Rejected(
      name: "user ID without end", bytes: [4, 1, 0, 80, 10, 0, 0, 1] + Array(repeating: 65, count: 256),
      reason: "SOCKS4 request: user ID is longer than 255 bytes"),
    Rejected(
      name: "long user ID", bytes: [4, 1, 0, 80, 10, 0, 0, 1] + Array(repeating: 65, count: 256) + [0],
      reason: "SOCKS4 request: user ID is longer than 255 bytes"),
    Rejected(
      name: "empty SOCKS4a domain", bytes: [4, 1, 0, 80, 0, 0, 0, 9, 0, 0],
      reason: "SOCKS4 request: domain name is empty"),
    Rejected(
      name: "SOCKS4a domain with a space", bytes: [4, 1, 0, 80, 0, 0, 0, 9, 0] + Array("a b".utf8) + [0],
      reason: "SOCKS4 request: domain name contains the byte 0x20"),
    Rejected(
      name: "SOCKS4a domain without end",
      bytes: [4, 1, 0, 80, 0, 0, 0, 9, 0] + Array(repeating: 97, count: 256),
      reason: "SOCKS4 request: domain name is longer than 255 bytes"),
    Rejected(
      name: "SOCKS4a domain not UTF-8", bytes: [4, 1, 0, 80, 0, 0, 0, 9, 0, 0xC3, 0x28, 0],
      reason: "SOCKS4 request: domain name is not valid UTF-8"),
  ]

  @Test(arguments: socks4Rejected)
  func socks4RequestIsRejected(_ item: Rejected) {
    let expected = SOCKSFailure(reason: item.reason, reply: [0, 0x5B, 0, 0, 0, 0, 0, 0])
    #expect(SOCKSRequest.parseOpening(item.bytes) == .invalid(expected))
  }

  @Test func unknownVersionGetsNoReply() {
    let result = SOCKSRequest.parseOpening(Array("GET / HTTP/1.1\r\n".utf8))
    let expected = SOCKSFailure(
      reason: "SOCKS: unknown protocol version 71; expected 4 or 5", reply: [])
    #expect(result == .invalid(expected))
  }

  // MARK: - SOCKS5 greeting

  @Test func socks5GreetingWithNoAuthentication() {
    #expect(SOCKSRequest.parseOpening([5, 2, 2, 0]) == .complete(.socks5Greeting, byteCount: 4))
    #expect(SOCKSRequest.parseOpening([5]) == .needsMoreBytes)
    #expect(SOCKSRequest.parseOpening([5, 2, 2]) == .needsMoreBytes)
  }

  @Test func socks5GreetingWithoutNoAuthentication() {
    let expected = SOCKSFailure(
      reason: "SOCKS5 greeting: the client offers authentication methods [2] but fwd accepts "
        + "only 0 (no authentication)",
      reply: [5, 0xFF])
    #expect(SOCKSRequest.parseOpening([5, 1, 2]) == .invalid(expected))
  }

  @Test func socks5GreetingWithoutMethods() {
    guard case .invalid(let failure) = SOCKSRequest.parseOpening([5, 0]) else {
      Issue.record("expected an invalid greeting")
      return
    }
    #expect(failure.reply == [5, 0xFF])
  }

  // MARK: - SOCKS5 request

  static let ipv6Loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]

  struct Accepted: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let address: SOCKSAddress
    let host: String
    let port: Int
    var testDescription: String { name }
  }

  static let socks5Accepted: [Accepted] = [
    Accepted(
      name: "IPv4", bytes: [5, 1, 0, 1, 127, 0, 0, 1, 0x1F, 0x90],
      address: .ipv4([127, 0, 0, 1]), host: "127.0.0.1", port: 8080),
    Accepted(
      name: "IPv6", bytes: [5, 1, 0, 4] + ipv6Loopback + [0, 22],
      address: .ipv6(ipv6Loopback), host: "::1", port: 22),
    Accepted(
      name: "domain", bytes: [5, 1, 0, 3, 11] + Array("example.org".utf8) + [0x01, 0xBB],
      address: .domain("example.org"), host: "example.org", port: 443),
    Accepted(
      name: "nonzero reserved byte", bytes: [5, 1, 7, 1, 10, 0, 0, 2, 0xFF, 0xFF],
      address: .ipv4([10, 0, 0, 2]), host: "10.0.0.2", port: 65535),
    Accepted(
      name: "UTF-8 domain", bytes: [5, 1, 0, 3, 8] + Array("bü.test".utf8) + [0, 80],
      address: .domain("bü.test"), host: "bü.test", port: 80),
  ]

  @Test(arguments: socks5Accepted)
  func socks5RequestParses(_ item: Accepted) {
    let expected = SOCKSRequest(version: .socks5, address: item.address, port: item.port)
    let result = SOCKSRequest.parseSOCKS5Request(item.bytes)
    #expect(result == .complete(expected, byteCount: item.bytes.count))
    #expect(expected.host == item.host)
    for length in 0..<item.bytes.count {
      let prefix = SOCKSRequest.parseSOCKS5Request(item.bytes[..<length])
      #expect(prefix == .needsMoreBytes, "prefix of \(length) bytes")
    }
  }

  struct RejectedSOCKS5: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let code: SOCKSReplyCode
    let reason: String
    var testDescription: String { name }
  }

  static let socks5Rejected: [RejectedSOCKS5] = [
    RejectedSOCKS5(
      name: "wrong version", bytes: [4, 1, 0, 1], code: .generalFailure,
      reason: "SOCKS5 request: version is 4; expected 5"),
    RejectedSOCKS5(
      name: "BIND", bytes: [5, 2], code: .commandNotSupported,
      reason: "SOCKS5 request: command 2 is not supported; fwd supports only 1 (CONNECT)"),
    RejectedSOCKS5(
      name: "UDP ASSOCIATE", bytes: [5, 3, 0, 1, 0, 0, 0, 0, 0, 0], code: .commandNotSupported,
      reason: "SOCKS5 request: command 3 is not supported; fwd supports only 1 (CONNECT)"),
    RejectedSOCKS5(
      name: "address type 2", bytes: [5, 1, 0, 2], code: .addressTypeNotSupported,
      reason: "SOCKS5 request: address type 2 is not supported; expected 1 (IPv4), 3 (domain) "
        + "or 4 (IPv6)"),
    RejectedSOCKS5(
      name: "empty domain", bytes: [5, 1, 0, 3, 0, 0, 80], code: .generalFailure,
      reason: "SOCKS5 request: domain name is empty"),
    RejectedSOCKS5(
      name: "domain with NUL", bytes: [5, 1, 0, 3, 3, 97, 0, 98, 0, 80], code: .generalFailure,
      reason: "SOCKS5 request: domain name contains the byte 0x00"),
    RejectedSOCKS5(
      name: "domain with DEL", bytes: [5, 1, 0, 3, 1, 0x7F, 0, 80], code: .generalFailure,
      reason: "SOCKS5 request: domain name contains the byte 0x7F"),
    RejectedSOCKS5(
      name: "port 0", bytes: [5, 1, 0, 1, 10, 0, 0, 1, 0, 0], code: .generalFailure,
      reason: "SOCKS5 request: destination port is 0"),
  ]

  @Test(arguments: socks5Rejected)
  func socks5RequestIsRejected(_ item: RejectedSOCKS5) {
    let expected = SOCKSFailure(reason: item.reason, reply: SOCKSReply.socks5(item.code))
    #expect(SOCKSRequest.parseSOCKS5Request(item.bytes) == .invalid(expected))
  }

  // MARK: - Replies

  @Test(arguments: SOCKSReplyCode.allCases)
  func socks5ReplyCarriesCode(_ code: SOCKSReplyCode) {
    #expect(SOCKSReply.socks5(code) == [5, code.rawValue, 0, 1, 0, 0, 0, 0, 0, 0])
  }

  @Test func socks5ReplyCodeValues() {
    #expect(SOCKSReplyCode.generalFailure.rawValue == 0x01)
    #expect(SOCKSReplyCode.networkUnreachable.rawValue == 0x03)
    #expect(SOCKSReplyCode.hostUnreachable.rawValue == 0x04)
    #expect(SOCKSReplyCode.connectionRefused.rawValue == 0x05)
    #expect(SOCKSReplyCode.commandNotSupported.rawValue == 0x07)
    #expect(SOCKSReplyCode.addressTypeNotSupported.rawValue == 0x08)
  }

  @Test func socks5ReplyWithBoundAddress() {
    let ipv6 = SOCKSReply.socks5(.succeeded, bound: .ipv6(Self.ipv6Loopback), boundPort: 0x1234)
    #expect(ipv6 == [5, 0, 0, 4] + Self.ipv6Loopback + [0x12, 0x34])
    let domain = SOCKSReply.socks5(.hostUnreachable, bound: .domain("ab"), boundPort: 1)
    #expect(domain == [5, 4, 0, 3, 2, 97, 98, 0, 1])
  }

  @Test func socks4Replies() {
    #expect(SOCKSReply.socks4(.succeeded) == [0, 0x5A, 0, 0, 0, 0, 0, 0])
    for code in SOCKSReplyCode.allCases where code != .succeeded {
      #expect(SOCKSReply.socks4(code) == [0, 0x5B, 0, 0, 0, 0, 0, 0], "code \(code)")
    }
  }

  @Test func requestReplyFollowsVersion() {
    let socks4a = SOCKSRequest(version: .socks4a, address: .domain("h"), port: 1)
    let socks5 = SOCKSRequest(version: .socks5, address: .domain("h"), port: 1)
    #expect(socks4a.reply(.connectionRefused) == [0, 0x5B, 0, 0, 0, 0, 0, 0])
    #expect(socks5.reply(.connectionRefused) == [5, 5, 0, 1, 0, 0, 0, 0, 0, 0])
  }

  // MARK: - IPv6 text

  @Test(arguments: [
    ("0000:0000:0000:0000:0000:0000:0000:0000", "::"),
    ("0000:0000:0000:0000:0000:0000:0000:0001", "::1"),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("2001:0db8:0000:0001:0001:0001:0001:0001", "2001:db8:0:1:1:1:1:1"),
    ("2001:0000:0000:0001:0000:0000:0000:0001", "2001:0:0:1::1"),
    ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
    ("fe80:0000:0000:0000:0000:0000:0000:0000", "fe80::"),
    ("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"),
  ])
  func ipv6TextIsCanonical(_ full: String, _ expected: String) {
    let bytes = full.split(separator: ":").flatMap { group -> [UInt8] in
      let value = UInt16(group, radix: 16)!
      return [UInt8(value >> 8), UInt8(value & 0xFF)]
    }
    #expect(SOCKSAddress.ipv6(bytes).description == expected)
  }

  // MARK: - Handshake

  static let socks5Greeting: [UInt8] = [5, 1, 0]
  static let socks5Connect: [UInt8] = [5, 1, 0, 3, 4] + Array("host".utf8) + [0, 80]

  @Test func handshakeSOCKS5ByteByByte() {
    var handshake = SOCKSHandshake()
    var sent: [UInt8] = []
    var final: SOCKSHandshake.Step?
    for byte in Self.socks5Greeting + Self.socks5Connect {
      let step = handshake.receive([byte])
      switch step {
      case .needsMoreBytes(let send): sent += send
      default: final = step
      }
    }
    let request = SOCKSRequest(version: .socks5, address: .domain("host"), port: 80)
    #expect(sent == [5, 0])
    #expect(final == .complete(request, send: [], remainder: []))
  }

  @Test func handshakeSOCKS5AllAtOnce() {
    var handshake = SOCKSHandshake()
    let data = Array("hello".utf8)
    let step = handshake.receive(Self.socks5Greeting + Self.socks5Connect + data)
    let request = SOCKSRequest(version: .socks5, address: .domain("host"), port: 80)
    #expect(step == .complete(request, send: [5, 0], remainder: data))
  }

  @Test func handshakeSOCKS5BadRequestAfterGreeting() {
    var handshake = SOCKSHandshake()
    #expect(handshake.receive(Self.socks5Greeting) == .needsMoreBytes(send: [5, 0]))
    guard case .invalid(let failure, let send) = handshake.receive([5, 2, 0, 1]) else {
      Issue.record("expected an invalid request")
      return
    }
    #expect(failure.reply == SOCKSReply.socks5(.commandNotSupported))
    #expect(send == SOCKSReply.socks5(.commandNotSupported))
  }

  @Test func handshakeSOCKS5PipelinedBadRequest() {
    var handshake = SOCKSHandshake()
    guard case .invalid(_, let send) = handshake.receive(Self.socks5Greeting + [5, 1, 0, 9])
    else {
      Issue.record("expected an invalid request")
      return
    }
    #expect(send == [5, 0] + SOCKSReply.socks5(.addressTypeNotSupported))
  }

  @Test func handshakeSOCKS4WithData() {
    var handshake = SOCKSHandshake()
    #expect(handshake.receive(Self.socks4Connect.prefix(5)) == .needsMoreBytes(send: []))
    let step = handshake.receive(Self.socks4Connect.dropFirst(5) + [1, 2])
    let request = SOCKSRequest(version: .socks4, address: .ipv4([10, 1, 2, 3]), port: 443)
    #expect(step == .complete(request, send: [], remainder: [1, 2]))
  }

  @Test func handshakeRejectsGreetingWithoutNoAuthentication() {
    var handshake = SOCKSHandshake()
    guard case .invalid(_, let send) = handshake.receive([5, 1, 2]) else {
      Issue.record("expected an invalid greeting")
      return
    }
    #expect(send == [5, 0xFF])
  }
}
