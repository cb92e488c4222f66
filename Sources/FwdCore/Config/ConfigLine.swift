/// One ssh_config line split into a keyword and arguments, the way OpenSSH 9.x does it
/// (readconf.c process_config_line, misc.c strdelim and argv_split).
///
/// - The keyword ends at whitespace or `=`; `Keyword value`, `Keyword=value` and
///   `Keyword = value` are the same.
/// - Arguments are separated by spaces or tabs. Double or single quotes group text with
///   spaces, and a backslash escapes a quote, a backslash, or (outside quotes) a space.
/// - An unquoted `#` at the start of an argument ends the line.
/// - Trailing whitespace, including the CR of a CRLF line end, is ignored.
struct ConfigLine: Equatable {
  /// The keyword as written; lookups lowercase it.
  var keyword: String
  /// The arguments with quotes and escapes removed.
  var arguments: [String]
  /// The text after the keyword and its separator, untouched. ProxyCommand and the other
  /// command keywords take this whole text, as in ssh.
  var rawArguments: String

  /// A line that cannot be split, with the reason.
  struct Failure: Error, Equatable {
    let reason: String
  }
}

extension ConfigLine {
  private static let trailingWhitespace: Set<Character> = [" ", "\t", "\r", "\n", "\u{0C}"]

  /// Splits `line`; returns nil for a blank or comment line.
  static func split(_ line: Substring) -> Result<ConfigLine?, Failure> {
    var text = line
    while let last = text.last, trailingWhitespace.contains(last) { text = text.dropLast() }
    text = text.drop(while: { $0 == " " || $0 == "\t" })
    guard let first = text.first, first != "#" else { return .success(nil) }

    let keywordEnd =
      text.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "=" }) ?? text.endIndex
    let keyword = String(text[..<keywordEnd])
    var rest = text[keywordEnd...]
    let delimiterWasEquals = rest.first == "="
    rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
    if !delimiterWasEquals, rest.first == "=" {
      rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
    }
    guard !rest.isEmpty else {
      return .failure(Failure(reason: "no argument after keyword '\(keyword)'"))
    }
    guard let arguments = splitArguments(rest) else {
      return .failure(Failure(reason: "unterminated quote in '\(rest)'"))
    }
    return .success(ConfigLine(keyword: keyword, arguments: arguments, rawArguments: String(rest)))
  }

  /// Splits arguments as OpenSSH's argv_split does; nil when a quote is not closed.
  static func splitArguments(_ text: Substring) -> [String]? {
    var arguments: [String] = []
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      if character == " " || character == "\t" {
        index = text.index(after: index)
        continue
      }
      if character == "#" { break }
      guard let (argument, next) = readArgument(text, from: index) else { return nil }
      arguments.append(argument)
      index = next
    }
    return arguments
  }

  /// Reads one argument starting at `start`; returns it and the index after it.
  private static func readArgument(
    _ text: Substring, from start: Substring.Index
  ) -> (String, Substring.Index)? {
    var argument = ""
    var quote: Character?
    var index = start
    while index < text.endIndex {
      let character = text[index]
      let next = text.index(after: index)
      if character == "\\", next < text.endIndex,
        ["'", "\"", "\\"].contains(text[next]) || (quote == nil && text[next] == " ")
      {
        argument.append(text[next])
        index = text.index(after: next)
        continue
      }
      if quote == nil, character == " " || character == "\t" { break }
      if quote == nil, character == "\"" || character == "'" {
        quote = character
      } else if character == quote {
        quote = nil
      } else {
        argument.append(character)
      }
      index = next
    }
    if quote != nil { return nil }
    return (argument, index)
  }
}
