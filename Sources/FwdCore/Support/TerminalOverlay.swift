/// A block of lines kept at the bottom of a terminal, below the log lines, and redrawn in place
/// with ANSI escape sequences: the live status view.
///
/// Every line must fit the terminal's width, so that each takes one row and moving the cursor
/// up by the line count returns to the block's first row.
struct TerminalOverlay {
  /// The lines on screen now; empty when nothing is shown.
  private(set) var lines: [String] = []

  /// Text that erases the block: carriage return, cursor up to its first row, clear to the end
  /// of the screen. Empty when nothing is shown.
  var eraseSequence: String {
    guard !lines.isEmpty else { return "" }
    return "\r\u{1B}[\(lines.count)A\u{1B}[J"
  }

  /// Text that draws the block from the cursor's row; the cursor ends below the block.
  var drawSequence: String {
    lines.map { $0 + "\n" }.joined()
  }

  /// Replaces the block and returns the text that updates the screen.
  mutating func replace(with newLines: [String]) -> String {
    let erase = eraseSequence
    lines = newLines
    return erase + drawSequence
  }

  /// Returns the text that writes `text` (whole lines) above the block, keeping the block.
  func writeAbove(_ text: String) -> String {
    eraseSequence + text + drawSequence
  }

  /// Removes the block and returns the text that erases it.
  mutating func remove() -> String {
    let erase = eraseSequence
    lines = []
    return erase
  }
}
