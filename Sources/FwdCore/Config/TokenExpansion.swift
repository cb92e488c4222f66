/// `~` at the start of a path, as OpenSSH's tilde_expand_filename expands it.
enum TildeExpansion {
  /// Expands `~` and `~/...` to the user's home and `~name/...` to that user's home.
  /// Returns nil when `~name` names an unknown user; other paths come back unchanged.
  static func expand(_ path: String, environment: ConfigEnvironment) -> String? {
    guard path.hasPrefix("~") else { return path }
    let afterTilde = path.dropFirst()
    let userName = afterTilde.prefix(while: { $0 != "/" })
    let rest = afterTilde.dropFirst(userName.count).drop(while: { $0 == "/" })
    let home: String
    if userName.isEmpty {
      home = environment.homeDirectory
    } else {
      guard let other = environment.homeDirectoryOfUser(String(userName)) else { return nil }
      home = other
    }
    if rest.isEmpty && !path.hasSuffix("/") { return home }
    return home.hasSuffix("/") ? home + rest : home + "/" + rest
  }
}

/// `%x` tokens and `${NAME}` environment references, expanded in one pass as OpenSSH's
/// percent_dollar_expand does, so text produced by one expansion is not expanded again.
struct TokenExpansion {
  /// The value of each token the keyword accepts; `%%` is always accepted.
  var tokens: [Character: String]
  /// Whether `${NAME}` is expanded from `variables`.
  var expandsVariables: Bool
  var variables: [String: String]

  /// The reason an expansion failed, for a message naming the keyword and value.
  struct Failure: Error, Equatable {
    let reason: String
  }

  func expand(_ text: String) throws(Failure) -> String {
    var output = ""
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      let next = text.index(after: index)
      if expandsVariables, character == "$", next < text.endIndex, text[next] == "{" {
        let nameStart = text.index(after: next)
        guard let close = text[nameStart...].firstIndex(of: "}") else {
          throw Failure(reason: "'${' without a closing '}'")
        }
        let name = String(text[nameStart..<close])
        guard let value = variables[name] else {
          throw Failure(reason: "environment variable '\(name)' is not set")
        }
        output += value
        index = text.index(after: close)
        continue
      }
      guard character == "%" else {
        output.append(character)
        index = next
        continue
      }
      guard next < text.endIndex else { throw Failure(reason: "'%' at the end of the value") }
      let key = text[next]
      if key == "%" {
        output.append("%")
      } else if let value = tokens[key] {
        output += value
      } else {
        throw Failure(reason: "unknown token %\(key)")
      }
      index = text.index(after: next)
    }
    return output
  }
}
