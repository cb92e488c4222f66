import Foundation
import Glibc

/// A pseudo-terminal for fwd's stderr: fwd writes to the secondary side, a thread collects
/// what arrives on the primary side.
final class OpsTerminal: @unchecked Sendable {
  let primary: Int32
  /// The secondary side, to pass to fwd; `closeSecondary()` once fwd has it.
  private(set) var secondary: Int32
  private let lock = NSLock()
  private var bytes: [UInt8] = []
  private var ended = false

  init(columns: Int, rows: Int) throws {
    // posix_openpt and friends are not in Swift's Glibc module, so this uses Linux's ptmx
    // ioctls: TIOCSPTLCK (_IOW('T', 0x31, int)) and TIOCGPTN (_IOR('T', 0x30, unsigned int)).
    primary = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
    var unlock: Int32 = 0
    var number: UInt32 = 0
    guard primary >= 0, ioctl(primary, 0x4004_5431, &unlock) == 0,
      ioctl(primary, 0x8004_5430, &number) == 0
    else { throw OpsTerminalError("no pseudo-terminal available: \(String(cString: strerror(errno)))") }
    secondary = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard secondary >= 0 else { throw OpsTerminalError("cannot open /dev/pts/\(number)") }
    var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
    _ = ioctl(primary, UInt(TIOCSWINSZ), &size)
    let thread = Thread { [self] in readLoop() }
    thread.name = "fwd ops terminal"
    thread.start()
  }

  deinit {
    closeSecondary()
  }

  func closeSecondary() {
    if secondary >= 0 {
      close(secondary)
      secondary = -1
    }
  }

  /// Everything written to the terminal so far, with the terminal's CR LF line ends.
  var text: String {
    lock.withLock { String(decoding: bytes, as: UTF8.self) }
  }

  /// Waits until every writer has closed the terminal (at most `timeout` seconds).
  func waitForEnd(timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if lock.withLock({ ended }) { return true }
      usleep(20_000)
    }
    return false
  }

  private func readLoop() {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = read(primary, &buffer, buffer.count)
      if count < 0 && errno == EINTR { continue }
      // Once the last writer closes the secondary side, Linux reports EIO.
      if count <= 0 { break }
      lock.withLock { bytes += buffer[0..<count] }
    }
    lock.withLock { ended = true }
    close(primary)
  }
}

struct OpsTerminalError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The visible rows after replaying terminal output: printable text, CR, LF, and the two
/// sequences the status view uses, cursor up (ESC [ n A) and erase to the end of the screen
/// (ESC [ J). Lines longer than the screen do not wrap, which the view never needs.
struct ScreenModel {
  private(set) var rows: [[Character]] = [[]]
  private var row = 0
  private var column = 0

  init(replaying text: String) {
    var characters = Array(text)[...]
    while let character = characters.popFirst() {
      switch character {
      case "\r": column = 0
      case "\n": lineFeed()
      case "\r\n":
        column = 0
        lineFeed()
      case "\u{1B}":
        guard characters.first == "[" else { continue }
        characters.removeFirst()
        let digits = characters.prefix { $0.isNumber }
        characters.removeFirst(digits.count)
        let count = Int(String(digits)) ?? 1
        switch characters.popFirst() {
        case "A": row = max(0, row - count)
        case "J":
          rows[row].removeSubrange(min(column, rows[row].count)...)
          rows.removeSubrange((row + 1)...)
        default: break
        }
      default: put(character)
      }
    }
  }

  /// The rows as text, without trailing empty rows.
  var lines: [String] {
    var result = rows.map { String($0) }
    while result.last?.isEmpty == true { result.removeLast() }
    return result
  }

  private mutating func lineFeed() {
    row += 1
    if row == rows.count { rows.append([]) }
  }

  private mutating func put(_ character: Character) {
    while rows[row].count < column { rows[row].append(" ") }
    if column < rows[row].count {
      rows[row][column] = character
    } else {
      rows[row].append(character)
    }
    column += 1
  }
}
