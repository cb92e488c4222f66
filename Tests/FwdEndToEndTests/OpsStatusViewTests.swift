import Foundation
import FwdLab
import Glibc
import Testing

/// `--status` on a pseudo-terminal: both hops, the forward, counters that move, redrawn in place
/// and erased on exit.
@Suite struct OpsStatusViewTests {
  /// Returns the status rows on screen now: from the summary row to the last row.
  static func statusRows(_ terminal: OpsTerminal) -> [String] {
    let lines = ScreenModel(replaying: terminal.text).lines
    guard let start = lines.lastIndex(where: { $0.hasPrefix("fwd: ") && $0.contains(" hops up, ") })
    else { return [] }
    return Array(lines[start...])
  }

  /// Parses the bytes-up figure of the forward row, e.g. 1.5 for `... 1.5 MiB up ...`, in bytes.
  static func bytesUp(_ row: String) -> Double? {
    let words = row.split(separator: " ")
    guard let index = words.firstIndex(of: "up"), index >= 2, let value = Double(words[index - 2])
    else { return nil }
    let scale: [Substring: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824]
    return value * (scale[words[index - 1]] ?? 0)
  }

  @Test func statusViewRedrawsAndErases() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let terminal = try OpsTerminal(columns: 120, rows: 40)
    let fwd = try Ops.start(
      ["--status"] + Ops.echoForward(lab, through: ["build", "sign"]),
      standardError: terminal.secondary)
    terminal.closeSecondary()
    let ready = try fwd.waitForReadyLines()

    // Keep data moving through the forward while the view is sampled.
    let transfer = Transfer(port: ready[0].listenPort)
    defer { transfer.stop() }
    #expect(Ops.wait(until: { transfer.echoedBytes > 0 }), "no echo through the forward")

    // The first frame is drawn at ready time, before the connection; wait for a later one.
    let counted = Ops.wait { Self.statusRows(terminal).first?.hasSuffix(", 1 connection") == true }
    #expect(counted, "screen: \(terminal.text)")
    let first = Self.statusRows(terminal)
    try #require(first.count == 4, "\(first)")
    #expect(first[0] == "fwd: 2 of 2 hops up, 1 forward, 1 connection", "\(first)")
    #expect(first[1].hasPrefix("  hop 1  build (127.0.0.1:\(lab["build"].port))  up "))
    #expect(first[2].hasPrefix("  hop 2  sign (127.0.0.1:\(lab["sign"].port))   up "))
    #expect(first[3].hasPrefix("  \(ready[0].description)  1 active  "), "\(first)")

    usleep(2_500_000)
    let later = Self.statusRows(terminal)
    #expect(later.count == 4, "\(later)")
    // Each redraw moves the cursor up over the 4 rows and erases them first.
    #expect(terminal.text.components(separatedBy: "\r\u{1B}[4A\u{1B}[J").count >= 3)
    let before = try #require(Self.bytesUp(first[3]))
    let after = try #require(Self.bytesUp(later.last ?? ""))
    #expect(after > before, "\(first[3]) then \(later.last ?? "")")

    transfer.stop()
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
    #expect(terminal.waitForEnd())
    let screen = ScreenModel(replaying: terminal.text).lines
    #expect(!screen.contains { $0.contains("hops up") || $0.hasPrefix("  hop ") }, "\(screen)")
    #expect(screen.first?.hasPrefix("fwd: build: connected to build") == true, "\(screen)")
    #expect(screen.last == "fwd: stopping on SIGTERM", "\(screen)")
  }

  @Test func statusIgnoredWithoutTerminal() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let fwd = try Ops.start(["--status", "-v"] + Ops.echoForward(lab, through: ["build"]))
    _ = try fwd.waitForReadyLines()
    usleep(1_500_000)
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
    #expect(fwd.standardError.contains("fwd: debug1: --status ignored: standard error is not a terminal"))
    #expect(!fwd.standardError.contains("\u{1B}"))
  }
}

/// An echo exchange in 256 KiB rounds on its own thread until stopped.
private final class Transfer: @unchecked Sendable {
  private let lock = NSLock()
  private var stopped = false
  private var echoed = 0
  private let done = DispatchSemaphore(value: 0)

  init(port: Int) {
    Thread.detachNewThread { [self] in
      defer { done.signal() }
      guard let connection = try? LabConnection(port: port) else { return }
      let chunk = [UInt8](repeating: 0x61, count: 256 << 10)
      while !lock.withLock({ stopped }) {
        do {
          try connection.write(chunk)
          var received = 0
          while received < chunk.count {
            let part = try connection.read(timeout: .seconds(10))
            if part.isEmpty { return }
            received += part.count
          }
          lock.withLock { echoed += received }
        } catch {
          return
        }
      }
      connection.close()
    }
  }

  var echoedBytes: Int { lock.withLock { echoed } }

  func stop() {
    let first = lock.withLock {
      defer { stopped = true }
      return !stopped
    }
    if first { done.wait() }
  }
}
