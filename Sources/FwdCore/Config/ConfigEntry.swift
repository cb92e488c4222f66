/// The origin of a config value: a file and line, or the command line.
struct ConfigSource: Hashable, Sendable, CustomStringConvertible {
  /// The file path, or nil for a command-line option.
  var file: String?
  var line: Int
  /// Whether the value comes from the user's config (`~/.ssh/config`, `-F`, files they
  /// include, or the command line) rather than the system config. OpenSSH keeps an
  /// IdentityFile named in both, so duplicates are only dropped within one of the two.
  var isUserConfig: Bool

  static let commandLine = ConfigSource(file: nil, line: 0, isUserConfig: true)

  /// `FILE:LINE`, or `command line`.
  var description: String {
    guard let file else { return "command line" }
    return "\(file):\(line)"
  }
}

/// One meaningful line of a config file.
enum ConfigEntry: Sendable {
  /// `Host` with its patterns.
  case host([String], ConfigSource)
  case match(MatchCondition, ConfigSource)
  /// `Include`, with the files it named, already read.
  case include([ConfigFile], ConfigSource)
  /// A keyword line, including OpenSSH keywords fwd does not use (`.unchecked` syntax).
  case setting(ConfigSetting)
  /// A keyword that neither fwd nor OpenSSH uses. It is an error unless IgnoreUnknown
  /// matches it when resolution reaches the line.
  case unknown(keyword: String, ConfigSource)
}

/// A keyword line with checked, normalised values.
struct ConfigSetting: Sendable {
  var keyword: ConfigKeyword
  var values: [String]
  var source: ConfigSource
}

/// A config file's path and its lines.
struct ConfigFile: Sendable {
  var path: String
  var entries: [ConfigEntry]
}
