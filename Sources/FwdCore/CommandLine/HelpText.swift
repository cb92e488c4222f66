/// The usage line and `fwd --help`, generated from `OptionTable` and `ExitStatus`.
public enum HelpText {
  /// Maximum line width of the help text, in columns.
  static let width = 80

  /// The synopsis on one line: `fwd [-46NqvV] [-F configfile] ... destination`.
  public static var synopsis: String {
    let options = OptionTable.all.filter(\.inSynopsis)
    let flags = String(options.filter { $0.argumentName == nil }.compactMap(\.flag))
    var words = ["fwd"]
    if !flags.isEmpty { words.append("[-\(flags)]") }
    for option in options {
      guard let argument = option.argumentName, let flag = option.flag else { continue }
      words.append("[-\(flag) \(argument)]")
    }
    words.append("destination")
    return words.joined(separator: " ")
  }

  /// The usage block that follows a command-line error: the synopsis wrapped to 80 columns.
  public static var usage: String {
    let prefix = "usage: "
    let words = splitKeepingBrackets(synopsis)
    return wrap(words, firstPrefix: prefix, prefix: String(repeating: " ", count: prefix.count + 4))
  }

  /// Generates the full `--help` text, ending with a newline.
  public static func render() -> String {
    var lines: [String] = [usage, ""]
    lines.append(
      contentsOf: wrapText(
        "Forward local ports through a chain of SSH jump hosts to a destination. Hosts, "
          + "users, ports, keys and jump hosts resolve through ssh_config as in OpenSSH.",
        prefix: ""))
    lines.append("")
    lines.append("Options:")
    for option in OptionTable.all {
      lines.append(contentsOf: optionLines(option))
    }
    lines.append("")
    lines.append("Exit status:")
    for status in ExitStatus.allCases {
      let value = String(status.rawValue)
      let padding = String(repeating: " ", count: max(0, 5 - value.count))
      lines.append(padding + value + "  " + status.meaning)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Formats one option: its spellings on the first line, the help indented below it.
  static func optionLines(_ option: OptionSpec) -> [String] {
    var spellings: [String] = []
    if let flag = option.flag { spellings.append("-\(flag)") }
    if let longName = option.longName { spellings.append("--\(longName)") }
    var heading = "  " + spellings.joined(separator: ", ")
    if let argument = option.argumentName { heading += " \(argument)" }
    return [heading] + wrapText(option.help, prefix: "        ")
  }

  static func wrapText(_ text: String, prefix: String) -> [String] {
    let words = text.split(separator: " ").map(String.init)
    let wrapped = wrap(words, firstPrefix: prefix, prefix: prefix)
    return wrapped.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  /// Joins words into lines of at most `width` columns. A longer word gets a line to itself.
  static func wrap(_ words: [String], firstPrefix: String, prefix: String) -> String {
    var lines: [String] = []
    var line = firstPrefix
    var lineHasWord = false
    for word in words {
      if lineHasWord, line.count + 1 + word.count > width {
        lines.append(line)
        line = prefix
        lineHasWord = false
      }
      line += (lineHasWord ? " " : "") + word
      lineHasWord = true
    }
    lines.append(line)
    return lines.joined(separator: "\n")
  }

  /// Splits the synopsis at spaces outside brackets, so `[-F configfile]` stays whole.
  static func splitKeepingBrackets(_ text: String) -> [String] {
    var words: [String] = []
    var current = ""
    var depth = 0
    for character in text {
      if character == "[" { depth += 1 }
      if character == "]" { depth -= 1 }
      if character == " ", depth == 0 {
        words.append(current)
        current = ""
      } else {
        current.append(character)
      }
    }
    words.append(current)
    return words
  }
}
