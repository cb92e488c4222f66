/// Checks a keyword's arguments and turns them into the stored values, as OpenSSH checks
/// them: on every line, whether or not its Host or Match block applies.
enum ConfigValueParser {
  /// An invalid value, as the part of a message after `FILE:LINE: `.
  struct Failure: Error, Equatable {
    let reason: String
  }

  /// Returns the normalised values of `line` for `keyword`, or the reason they are invalid.
  static func values(for keyword: ConfigKeyword, line: ConfigLine) throws(Failure) -> [String] {
    let name = keyword.displayName
    let arguments = line.arguments
    switch keyword.syntax {
    case .command:
      let text = line.rawArguments.drop(while: { $0 == " " || $0 == "\t" || $0 == "=" })
      return [String(text)]
    case .proxyJump:
      return [try proxyJump(line.rawArguments)]
    case .pathList:
      return try pathList(arguments, name: name)
    case .environmentNames:
      return try environmentNames(arguments, name: name)
    case .forward(let kind):
      return [try forward(arguments, kind: kind, name: name)]
    case .unchecked:
      return arguments
    default:
      break
    }
    guard let argument = arguments.first else {
      throw Failure(reason: "missing argument for \(name)")
    }
    guard arguments.count == 1 else {
      throw Failure(reason: "unexpected argument '\(arguments[1])' after the \(name) value")
    }
    return [try single(argument, syntax: keyword.syntax, name: name)]
  }

  /// Checks the one argument of a single-argument keyword.
  private static func single(
    _ argument: String, syntax: ConfigKeyword.Syntax, name: String
  ) throws(Failure) -> String {
    switch syntax {
    case .flag:
      switch argument.lowercased() {
      case "yes", "true": return "yes"
      case "no", "false": return "no"
      default: throw Failure(reason: "invalid \(name) value '\(argument)': expected yes or no")
      }
    case .choice(let words):
      guard let value = words[argument.lowercased()] else {
        let expected = words.keys.sorted().joined(separator: ", ")
        throw Failure(reason: "invalid \(name) value '\(argument)': expected one of \(expected)")
      }
      return value
    case .port:
      guard let port = PortNumber.parse(argument) else {
        let expected = PortNumber.expectation(for: PortNumber.connectable)
        throw Failure(reason: "invalid \(name) '\(argument)': not \(expected)")
      }
      return String(port)
    case .integer:
      guard argument.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int32(argument) else {
        throw Failure(reason: "invalid \(name) '\(argument)': not a whole number 0-2147483647")
      }
      return String(value)
    case .time:
      if argument == "none" { return "none" }
      guard let seconds = OpenSSHTime.seconds(argument) else {
        throw Failure(
          reason: "invalid \(name) '\(argument)': expected seconds or a time such as 1m30s, "
            + "or none")
      }
      return String(seconds)
    case .agentPath:
      try checkEnvironmentReference(argument, name: name)
      return argument
    case .algorithms:
      return try algorithms(argument, name: name)
    case .string, .accumulatingPath:
      guard !argument.isEmpty else { throw Failure(reason: "empty argument for \(name)") }
      return argument
    case .command, .proxyJump, .pathList, .environmentNames, .forward, .unchecked:
      preconditionFailure("\(name) is handled before single-argument parsing")
    }
  }

  /// ProxyJump takes the rest of the line up to a `#`, as OpenSSH's parse_jump does.
  private static func proxyJump(_ raw: String) throws(Failure) -> String {
    var text = Substring(raw.drop(while: { $0 == " " || $0 == "\t" || $0 == "=" }))
    if let comment = text.firstIndex(of: "#") { text = text[..<comment] }
    while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
    let value = String(text)
    if value.lowercased() == "none" { return "none" }
    do {
      _ = try HopSpec.parseList(value, label: "ProxyJump hop")
    } catch {
      throw Failure(reason: error.message)
    }
    return value
  }

  private static func pathList(_ arguments: [String], name: String) throws(Failure) -> [String] {
    guard !arguments.isEmpty else { throw Failure(reason: "missing argument for \(name)") }
    if arguments.contains(where: \.isEmpty) {
      throw Failure(reason: "empty argument for \(name)")
    }
    if arguments.count > 1, arguments.contains(where: { $0.lowercased() == "none" }) {
      throw Failure(reason: "\(name) 'none' must appear alone")
    }
    return arguments
  }

  private static func environmentNames(
    _ arguments: [String], name: String
  ) throws(Failure) -> [String] {
    for argument in arguments where argument.isEmpty || argument.contains("=") {
      throw Failure(reason: "invalid \(name) name '\(argument)': names must not contain '='")
    }
    return arguments
  }

  /// Joins a forward's two arguments with `:` and checks the result, as OpenSSH does.
  private static func forward(
    _ arguments: [String], kind: ForwardSyntax.Kind, name: String
  ) throws(Failure) -> String {
    let maximum = kind == .dynamic ? 1 : 2
    let minimum = kind == .local ? 2 : 1
    guard arguments.count >= minimum, arguments.count <= maximum else {
      throw Failure(
        reason: "invalid \(name) '\(arguments.joined(separator: " "))': expected "
          + configForm(kind))
    }
    let text = arguments.joined(separator: ":")
    if case .failure(let failure) = ForwardSyntax.parse(text, kind: kind) {
      throw Failure(
        reason: "invalid \(name) '\(arguments.joined(separator: " "))': \(failure.reason)")
    }
    return text
  }

  private static func configForm(_ kind: ForwardSyntax.Kind) -> String {
    switch kind {
    case .local: "[bind_address:]port host:hostport"
    case .remote: "[bind_address:]port [host:hostport]"
    case .dynamic: "[bind_address:]port"
    }
  }

  /// Checks an algorithm list and drops empty elements, as ssh 9.2 does with `a,,b`.
  private static func algorithms(_ argument: String, name: String) throws(Failure) -> String {
    var list = Substring(argument)
    var prefix = ""
    if let first = list.first, "+-^".contains(first) {
      prefix = String(first)
      list = list.dropFirst()
    }
    let names = list.split(separator: ",")
    guard !names.isEmpty else {
      throw Failure(reason: "invalid \(name) '\(argument)': expected a comma-separated list")
    }
    return prefix + names.joined(separator: ",")
  }

  /// Rejects `$NAME` with an invalid name; `${NAME}` is checked when it is expanded.
  private static func checkEnvironmentReference(_ argument: String, name: String) throws(Failure) {
    guard argument.hasPrefix("$"), !argument.hasPrefix("${") else { return }
    let variable = argument.dropFirst()
    let valid =
      !variable.isEmpty
      && variable.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    if !valid {
      throw Failure(reason: "invalid environment variable name in \(name) '\(argument)'")
    }
  }
}

/// Durations in OpenSSH's time format (sshd_config(5) TIME FORMATS): a sequence of numbers,
/// each with an optional unit s, m, h, d or w in either case. A bare number is seconds.
enum OpenSSHTime {
  /// Returns the total in seconds, or nil when `text` is malformed or exceeds Int32.max.
  static func seconds(_ text: String) -> Int? {
    guard !text.isEmpty else { return nil }
    var total = 0
    var rest = Substring(text)
    while !rest.isEmpty {
      let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
      guard !digits.isEmpty, let value = Int(digits), value <= Int(Int32.max) else { return nil }
      rest = rest.dropFirst(digits.count)
      var multiplier = 1
      if let unit = rest.first {
        switch unit {
        case "s", "S": multiplier = 1
        case "m", "M": multiplier = 60
        case "h", "H": multiplier = 3600
        case "d", "D": multiplier = 86400
        case "w", "W": multiplier = 604800
        default: return nil
        }
        rest = rest.dropFirst()
      }
      total += value * multiplier
      guard total <= Int(Int32.max) else { return nil }
    }
    return total
  }
}
