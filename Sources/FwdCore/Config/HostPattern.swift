/// ssh_config wildcard patterns, as OpenSSH's match.c matches them.
enum HostPattern {
  /// Matches `text` against `pattern`, where `*` matches any run of characters and `?` one
  /// character. The comparison is case-sensitive, as in OpenSSH's match_pattern.
  static func matches(_ text: String, pattern: String) -> Bool {
    let text = Array(text.unicodeScalars)
    let pattern = Array(pattern.unicodeScalars)
    var textIndex = 0
    var patternIndex = 0
    // Where to resume after the last `*`: the pattern position after it and the text
    // position it currently covers up to.
    var star: (pattern: Int, text: Int)?
    while textIndex < text.count {
      if patternIndex < pattern.count,
        pattern[patternIndex] == "?" || pattern[patternIndex] == text[textIndex]
      {
        textIndex += 1
        patternIndex += 1
      } else if patternIndex < pattern.count, pattern[patternIndex] == "*" {
        star = (patternIndex + 1, textIndex)
        patternIndex += 1
      } else if let resume = star {
        star = (resume.pattern, resume.text + 1)
        patternIndex = resume.pattern
        textIndex = resume.text + 1
      } else {
        return false
      }
    }
    while patternIndex < pattern.count, pattern[patternIndex] == "*" { patternIndex += 1 }
    return patternIndex == pattern.count
  }

  /// The result of matching a comma-separated pattern list.
  enum ListMatch: Equatable {
    case matched
    case notMatched
    /// A `!pattern` matched, which vetoes the list whatever else matches.
    case negated
  }

  /// Matches `text` against a comma-separated list in which `!` negates a pattern, as
  /// OpenSSH's match_pattern_list does. With `lowercasePatterns`, patterns are lowercased
  /// first (the caller lowercases `text` where OpenSSH does).
  static func matchesList(_ text: String, list: String, lowercasePatterns: Bool) -> ListMatch {
    var result = ListMatch.notMatched
    for element in list.split(separator: ",", omittingEmptySubsequences: false) {
      var pattern = String(element)
      let negated = pattern.hasPrefix("!")
      if negated { pattern.removeFirst() }
      if lowercasePatterns { pattern = pattern.lowercased() }
      guard matches(text, pattern: pattern) else { continue }
      if negated { return .negated }
      result = .matched
    }
    return result
  }

  /// Matches a `Host` line's patterns: the block applies when a pattern matches and no
  /// `!pattern` does.
  static func hostLineMatches(_ host: String, patterns: [String]) -> Bool {
    var matched = false
    for var pattern in patterns {
      let negated = pattern.hasPrefix("!")
      if negated { pattern.removeFirst() }
      guard matches(host, pattern: pattern) else { continue }
      if negated { return false }
      matched = true
    }
    return matched
  }
}
