import Foundation
import Testing

@testable import FwdCore

/// A logger whose clock and output the test controls.
private final class CapturedLog: @unchecked Sendable {
  let log = Log()
  var now: UInt64 = 1_000
  var written: [(fd: Int32, text: String)] = []

  init() {
    log.clock = { [unowned self] in now }
    log.sink = { [unowned self] fd, text in written.append((fd, text)) }
  }

  var text: String { written.map(\.text).joined() }
}

@Suite struct LogTests {
  @Test func formatsSubjectAndLevel() {
    let captured = CapturedLog()
    captured.log.level = .debug2
    captured.log.write(.info, "build", "connected")
    captured.log.write(.debug2, "conn 3", "closed")
    captured.log.write(.debug3, "conn 3", "hidden")
    #expect(captured.text == "fwd: build: connected\nfwd: debug2: conn 3: closed\n")
  }

  @Test func repeatedErrorsAreSuppressedAndSummarized() {
    let captured = CapturedLog()
    for id in 1...12 {
      captured.log.write(.error, "conn \(id)", "channel to db:5432 via sign failed: refused")
    }
    let lines = captured.text.split(separator: "\n")
    #expect(lines.count == 5)
    #expect(lines.last == "fwd: conn 5: channel to db:5432 via sign failed: refused")
    #expect(captured.log.nextSummaryDue == 11_000)

    captured.now = 11_000
    captured.log.flushSuppressed()
    #expect(
      captured.text.split(separator: "\n").last
        == "fwd: channel to db:5432 via sign failed: refused (7 more suppressed, from conn 6 to conn 12)"
    )
  }

  @Test func laterLineTriggersSummary() {
    let captured = CapturedLog()
    for _ in 1...6 { captured.log.write(.error, nil, "accept failed") }
    captured.now = 20_000
    captured.log.write(.info, nil, "next")
    #expect(captured.text.hasSuffix("fwd: accept failed (1 more suppressed)\nfwd: next\n"))
  }

  @Test func infoLinesAreNotLimited() {
    let captured = CapturedLog()
    for _ in 1...20 { captured.log.write(.info, nil, "same") }
    #expect(captured.text.split(separator: "\n").count == 20)
  }

  @Test func repeatedKindGroupsDifferentTexts() {
    let captured = CapturedLog()
    for port in 1...7 {
      captured.log.writeRepeated(kind: "open via sign", .error, "conn \(port)", "to h:\(port) failed")
    }
    #expect(captured.text.split(separator: "\n").count == 5)
    captured.now = 11_000
    captured.log.flushSuppressed()
    #expect(captured.text.hasSuffix("fwd: to h:7 failed (2 more suppressed, from conn 6 to conn 7)\n"))
  }

  @Test func requestedLinesIgnoreQuiet() {
    let captured = CapturedLog()
    captured.log.level = .error
    captured.log.write(.info, nil, "hidden")
    captured.log.writeRequested("status", "hop 1 build: up")
    #expect(captured.text == "fwd: status: hop 1 build: up\n")
  }

  @Test func linesGoAboveTheOverlay() {
    let captured = CapturedLog()
    captured.log.showOverlay(["status a", "status b"])
    captured.log.write(.info, nil, "event")
    captured.log.removeOverlay()
    let erase = "\r\u{1B}[2A\u{1B}[J"
    #expect(captured.written.allSatisfy { $0.fd == 2 })
    #expect(
      captured.text
        == "status a\nstatus b\n" + erase + "fwd: event\nstatus a\nstatus b\n" + erase)
  }

  @Test func fileOutputLeavesOverlayAlone() {
    let captured = CapturedLog()
    captured.log.redirect(to: 9)
    captured.log.showOverlay(["status"])
    captured.log.write(.info, nil, "event")
    #expect(captured.written.map(\.fd) == [2, 9])
    #expect(captured.written.last?.text == "fwd: event\n")
  }
}
