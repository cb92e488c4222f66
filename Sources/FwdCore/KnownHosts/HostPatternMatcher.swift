import FwdBindings

/// Host-name matching as OpenSSH does it for known_hosts (`match.c`, `hostfile.c`).
enum HostPatternMatcher {
  /// Returns whether `name` matches the comma list: at least one positive pattern matches and no
  /// `!` pattern does. Patterns and name are compared without regard to ASCII case.
  static func matchesList(_ name: String, patterns: [String]) -> Bool {
    let nameBytes = Array(name.lowercased().utf8)
    var positiveMatch = false
    for pattern in patterns {
      var patternBytes = Array(pattern.lowercased().utf8)
      let negated = patternBytes.first == UInt8(ascii: "!")
      if negated { patternBytes.removeFirst() }
      guard matchesWildcard(nameBytes, pattern: patternBytes) else { continue }
      if negated { return false }
      positiveMatch = true
    }
    return positiveMatch
  }

  /// Returns whether `name` matches `pattern`, where `*` matches any run of bytes and `?` one byte.
  static func matchesWildcard(_ name: [UInt8], pattern: [UInt8]) -> Bool {
    let star = UInt8(ascii: "*")
    let question = UInt8(ascii: "?")
    var nameIndex = 0
    var patternIndex = 0
    // The last `*` seen and the name position where its match ends. On a mismatch, the star
    // takes one more byte and matching resumes after it.
    var starIndex: Int?
    var starNameIndex = 0
    while nameIndex < name.count {
      if patternIndex < pattern.count
        && (pattern[patternIndex] == question || pattern[patternIndex] == name[nameIndex])
      {
        nameIndex += 1
        patternIndex += 1
      } else if patternIndex < pattern.count && pattern[patternIndex] == star {
        starIndex = patternIndex
        starNameIndex = nameIndex
        patternIndex += 1
      } else if let star = starIndex {
        starNameIndex += 1
        nameIndex = starNameIndex
        patternIndex = star + 1
      } else {
        return false
      }
    }
    while patternIndex < pattern.count && pattern[patternIndex] == star {
      patternIndex += 1
    }
    return patternIndex == pattern.count
  }

  /// Returns HMAC-SHA1 of the lowercased name keyed by `salt`, the hash of a `|1|` host field.
  static func hashName(_ name: String, salt: [UInt8]) -> [UInt8] {
    Digest.hmacSHA1(key: salt, data: Array(name.lowercased().utf8))
  }

  /// Formats a hashed host field `|1|base64(salt)|base64(hash)` for the name, with a fresh salt.
  static func hashedHostField(_ name: String) -> String {
    let salt = Digest.randomBytes(hashedNameSaltLength)
    let hash = hashName(name, salt: salt)
    return "|1|" + Base64.encode(salt) + "|" + Base64.encode(hash)
  }

  /// The salt length OpenSSH requires in hashed names: the SHA-1 output size.
  static let hashedNameSaltLength = 20
}
