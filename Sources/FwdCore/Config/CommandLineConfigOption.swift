/// `-o` options: checked when the command line is parsed, turned into config lines when a
/// host is resolved.
enum CommandLineConfigOption {
  /// Checks one `-o` argument (`Keyword=value` or `Keyword value`) as OpenSSH checks it.
  /// An unknown keyword is accepted only when an earlier `-o IgnoreUnknown` matches it.
  ///
  /// - Throws: `FwdError` with status `.usage`, such as
  ///   `invalid -o option 'Port=x': invalid Port 'x': not a number 1-65535`.
  static func parse(_ text: String, after previous: [ConfigOption]) throws(FwdError)
    -> ConfigOption
  {
    let line = try split(text)
    let option = ConfigOption(keyword: line.keyword, value: line.rawArguments)
    switch try entry(for: option, text: text) {
    case .unknown(let keyword, _):
      let ignoring = previous.first { $0.keyword.lowercased() == "ignoreunknown" }
      let patterns = ignoring.flatMap { try? split("\($0.keyword) \($0.value)").arguments.first }
      let ignored =
        patterns.map {
          HostPattern.matchesList(keyword.lowercased(), list: $0, lowercasePatterns: true)
            == .matched
        } ?? false
      guard ignored else {
        throw .usage("invalid -o option '\(text)': unknown keyword '\(keyword)'")
      }
    default:
      break
    }
    return option
  }

  /// Turns a parsed option back into a config entry for resolution.
  static func entry(for option: ConfigOption) throws(FwdError) -> ConfigEntry {
    try entry(for: option, text: "\(option.keyword)=\(option.value)")
  }

  private static func entry(for option: ConfigOption, text: String) throws(FwdError) -> ConfigEntry {
    let line = try split("\(option.keyword) \(option.value)")
    let name = line.keyword.lowercased()
    guard !["host", "match", "include"].contains(name) else {
      throw .usage("invalid -o option '\(text)': \(line.keyword) is only allowed in config files")
    }
    do throws(ConfigValueParser.Failure) {
      let entry = try ConfigFileLoader.structuralOrSetting(name, line: line, source: .commandLine)
      if let entry { return entry }
    } catch {
      throw .usage("invalid -o option '\(text)': \(error.reason)")
    }
    if IgnoredKeywords.names.contains(name) {
      let keyword = ConfigKeyword.unused(line.keyword)
      return .setting(
        ConfigSetting(keyword: keyword, values: line.arguments, source: .commandLine))
    }
    return .unknown(keyword: line.keyword, .commandLine)
  }

  private static func split(_ text: String) throws(FwdError) -> ConfigLine {
    switch ConfigLine.split(Substring(text)) {
    case .success(let line?):
      return line
    case .success(nil):
      throw .usage("invalid -o option '\(text)': expected Keyword=value")
    case .failure(let failure):
      throw .usage("invalid -o option '\(text)': \(failure.reason)")
    }
  }
}
