/// Reads config files into `ConfigFile` trees, following Include, as OpenSSH 9.2 reads them:
/// every line is checked whether or not its block applies, and included files are read even
/// inside blocks that do not apply.
struct ConfigFileLoader {
  /// Include nesting OpenSSH allows (READCONF_MAX_DEPTH in readconf.c).
  static let maximumIncludeDepth = 16

  let environment: ConfigEnvironment
  /// Whether Include lines read the files they name. With false, Include lines are still
  /// checked (path present, depth, `~`) but open no file, so text from a fuzzer cannot make
  /// the loader read a device such as /dev/zero.
  var readsIncludedFiles = true

  /// Reads a file; nil when it does not exist.
  ///
  /// - Parameters:
  ///   - isUserConfig: whether relative Include paths resolve against ~/.ssh (user files)
  ///     or the system directory, and whether `~` is allowed in them.
  ///   - checkPermissions: reject the file unless root or the user owns it and neither group
  ///     nor others may write it. OpenSSH checks ~/.ssh/config and every included file,
  ///     but not a `-F` file or /etc/ssh/ssh_config.
  func load(
    _ path: String, isUserConfig: Bool, checkPermissions: Bool, depth: Int = 0
  ) throws(FwdError) -> ConfigFile? {
    let text: String
    switch SystemCalls.readFile(path) {
    case .missing:
      return nil
    case .failed(let reason):
      throw .configuration("cannot read config file \(path): \(reason)")
    case .contents(let contents, let status):
      if checkPermissions {
        try checkOwnerAndMode(status, path: path)
      }
      text = contents
    }
    logDebug("config", "reading \(path)")
    let entries = try parse(text, path: path, isUserConfig: isUserConfig, depth: depth)
    return ConfigFile(path: path, entries: entries)
  }

  private func checkOwnerAndMode(_ status: SystemCalls.FileStatus, path: String) throws(FwdError) {
    let ownerIsAllowed = status.ownerID == 0 || status.ownerID == environment.userID
    guard ownerIsAllowed, status.mode & 0o022 == 0 else {
      throw .configuration(
        "bad owner or permissions on \(path): it must be owned by you or root and not "
          + "writable by group or others (chmod go-w \(path))")
    }
  }

  /// Parses a file's text into entries; `path` names the file in messages.
  func parse(
    _ text: String, path: String, isUserConfig: Bool, depth: Int
  ) throws(FwdError) -> [ConfigEntry] {
    var entries: [ConfigEntry] = []
    var lineNumber = 0
    // Swift reads CR LF as one Character, so it is a separator of its own.
    let lines = text.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    for line in lines {
      lineNumber += 1
      let source = ConfigSource(file: path, line: lineNumber, isUserConfig: isUserConfig)
      let split: ConfigLine?
      switch ConfigLine.split(line) {
      case .success(let value): split = value
      case .failure(let failure): throw .configuration("\(source): \(failure.reason)")
      }
      guard let split else { continue }
      entries.append(try entry(for: split, source: source, depth: depth))
    }
    return entries
  }

  private func entry(
    for line: ConfigLine, source: ConfigSource, depth: Int
  ) throws(FwdError) -> ConfigEntry {
    let name = line.keyword.lowercased()
    if name == "include" {
      return .include(try include(line.arguments, source: source, depth: depth), source)
    }
    do throws(ConfigValueParser.Failure) {
      if let entry = try Self.structuralOrSetting(name, line: line, source: source) { return entry }
    } catch {
      throw .configuration("\(source): \(error.reason)")
    }
    if IgnoredKeywords.names.contains(name) {
      IgnoredKeywordNote.note(line.keyword, at: source.description)
      let keyword = ConfigKeyword.unused(line.keyword)
      return .setting(ConfigSetting(keyword: keyword, values: line.arguments, source: source))
    }
    return .unknown(keyword: line.keyword, source)
  }

  /// Parses Host, Match and the keywords fwd stores; nil for any other keyword.
  static func structuralOrSetting(
    _ name: String, line: ConfigLine, source: ConfigSource
  ) throws(ConfigValueParser.Failure) -> ConfigEntry? {
    switch name {
    case "host":
      guard !line.arguments.isEmpty, !line.arguments.contains(where: \.isEmpty) else {
        throw ConfigValueParser.Failure(reason: "empty pattern in Host")
      }
      return .host(line.arguments, source)
    case "match":
      return .match(try MatchCondition.parse(line.arguments), source)
    default:
      guard let keyword = ConfigKeyword.named(name) else { return nil }
      let values = try ConfigValueParser.values(for: keyword, line: line)
      return .setting(ConfigSetting(keyword: keyword, values: values, source: source))
    }
  }
}

// MARK: - Include

extension ConfigFileLoader {
  /// Reads the files an Include line names. Relative paths resolve against ~/.ssh in user
  /// files and against the system directory (/etc/ssh) in system files. Each path may be a
  /// glob, whose matches are read in sorted order.
  private func include(
    _ arguments: [String], source: ConfigSource, depth: Int
  ) throws(FwdError) -> [ConfigFile] {
    guard !arguments.isEmpty, !arguments.contains(where: \.isEmpty) else {
      throw .configuration("\(source): empty path in Include")
    }
    guard depth < Self.maximumIncludeDepth else {
      throw .configuration(
        "\(source): Include nested more than \(Self.maximumIncludeDepth) levels deep; "
          + "check for a file that includes itself")
    }
    var files: [ConfigFile] = []
    for argument in arguments {
      let pattern = try includePattern(argument, source: source)
      guard readsIncludedFiles else { continue }
      guard let paths = SystemCalls.glob(pattern) else {
        throw .configuration("\(source): cannot expand Include pattern \(pattern)")
      }
      if paths.isEmpty {
        logDebug("config", "\(source): Include \(pattern) matched no files")
      }
      for path in paths {
        let file = try load(
          path, isUserConfig: source.isUserConfig, checkPermissions: true, depth: depth + 1)
        if let file { files.append(file) }
      }
    }
    return files
  }

  private func includePattern(_ argument: String, source: ConfigSource) throws(FwdError) -> String {
    if argument.hasPrefix("~") {
      guard source.isUserConfig else {
        throw .configuration(
          "\(source): Include path '\(argument)' starts with '~', which only user config "
            + "files may use")
      }
      guard let expanded = TildeExpansion.expand(argument, environment: environment) else {
        throw .configuration("\(source): Include path '\(argument)' names an unknown user")
      }
      return expanded
    }
    if argument.hasPrefix("/") { return argument }
    let directory =
      source.isUserConfig ? environment.homeDirectory + "/.ssh" : environment.systemDirectory
    return directory + "/" + argument
  }
}
