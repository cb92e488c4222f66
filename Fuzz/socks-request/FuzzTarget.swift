@testable import FwdCore

/// Fuzzes the SOCKS4, SOCKS4a and SOCKS5 handshake.
///
/// The first input byte chooses how the rest is cut into reads; the other bytes are the
/// client's. Feeding the bytes in those pieces must give the same outcome and the same bytes
/// to send as feeding them at once, which holds only if every decision the parser makes
/// on a prefix still holds once more bytes arrive.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSOCKSRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzInput.silenceLog()
  let input = FuzzInput.bytes(data, size)
  guard let seed = input.first else { return 0 }
  let client = Array(input.dropFirst())

  var whole = SOCKSHandshake()
  let expected = whole.receive(client)

  var pieces = SOCKSHandshake()
  var sent: [UInt8] = []
  var outcome: SOCKSHandshake.Step?
  var offset = 0
  var pieceSize = Int(seed % 7) + 1
  while outcome == nil {
    let end = min(offset + pieceSize, client.count)
    let step = pieces.receive(client[offset..<end])
    offset = end
    pieceSize = pieceSize % 5 + 1
    switch step {
    case .needsMoreBytes(let send):
      sent += send
      if offset == client.count { outcome = .needsMoreBytes(send: sent) }
    case .complete(let request, let send, let remainder):
      checkRequest(request)
      outcome = .complete(request, send: sent + send, remainder: remainder + client[offset...])
    case .invalid(let failure, let send):
      fuzzCheck(send.suffix(failure.reply.count) == failure.reply[...], "reply not sent")
      outcome = .invalid(failure, send: sent + send)
    }
  }
  fuzzCheck(outcome == expected, "pieces of \(client) give \(outcome!), at once \(expected)")
  return 0
}

private func checkRequest(_ request: SOCKSRequest) {
  fuzzCheck((1...65535).contains(request.port), "port \(request.port)")
  switch request.address {
  case .ipv4(let bytes): fuzzCheck(bytes.count == 4, "IPv4 address of \(bytes.count) bytes")
  case .ipv6(let bytes): fuzzCheck(bytes.count == 16, "IPv6 address of \(bytes.count) bytes")
  case .domain(let name):
    fuzzCheck(!name.isEmpty && name.utf8.count <= 255, "domain '\(name)'")
    fuzzCheck(!name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }), "domain '\(name)'")
  }
  _ = request.host
  for code in SOCKSReplyCode.allCases {
    _ = request.reply(code)
  }
}
