import Foundation
import FwdLab
import Testing

/// A client's half-close through the chain: its EOF reaches the echo service, and the echo's
/// remaining reply and EOF come back.
@Suite struct ChainHalfCloseTests {
  @Test func shortReplyArrivesAfterHalfClose() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab, ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"], forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)

    let payload = Array("sent before the half-close\n".utf8)
    let reply = try LabClient.halfCloseExchange(
      host: echo.listenAddress, port: echo.listenPort, payload: payload,
      timeout: .seconds(60))
    #expect(reply == payload)
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  @Test func replyOver1MiBArrivesAfterHalfClose() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab, ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"], forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)

    // An odd size, so the last SSH packet and the last relay buffer are both partly filled.
    let payload = TestPattern.bytes(count: (2 << 20) + 4099)
    let reply = try ChainHarness.halfCloseExchangeWhileReading(
      host: echo.listenAddress, port: echo.listenPort, payload: payload)
    #expect(reply.count == payload.count)
    #expect(reply == payload)

    // The connection after it still works: the half-closed channel ended cleanly.
    let again = try LabClient.halfCloseExchange(
      host: echo.listenAddress, port: echo.listenPort, payload: Array("again\n".utf8),
      timeout: .seconds(60))
    #expect(again == Array("again\n".utf8))
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  /// Eight clients send and half-close at the same time, each with a payload of its own odd
  /// size: every EOF must travel behind its own channel's data, never another's.
  @Test func concurrentHalfClosesKeepEachReply() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab, ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"], forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)

    let payloads = (0..<8).map { TestPattern.bytes(count: (1 << 20) + 4099 * ($0 + 1)) }
    let results = ResultSlots(count: payloads.count)
    DispatchQueue.concurrentPerform(iterations: payloads.count) { index in
      results.set(
        index,
        Result {
          try ChainHarness.halfCloseExchangeWhileReading(
            host: echo.listenAddress, port: echo.listenPort, payload: payloads[index])
        })
    }
    for (index, payload) in payloads.enumerated() {
      let reply = try #require(results.get(index)).get()
      #expect(reply.count == payload.count, "client \(index)")
      #expect(reply == payload, "client \(index)")
    }
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }
}

/// One result per client, written from the clients' threads.
private final class ResultSlots: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [Result<[UInt8], Error>?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func set(_ index: Int, _ result: Result<[UInt8], Error>) {
    lock.lock()
    slots[index] = result
    lock.unlock()
  }

  func get(_ index: Int) -> Result<[UInt8], Error>? {
    lock.lock()
    defer { lock.unlock() }
    return slots[index]
  }
}
