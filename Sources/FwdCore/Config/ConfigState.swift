/// One stored value of a keyword and the line that set it.
public struct ConfigValue: Hashable, Sendable {
  /// The normalised arguments: one for most keywords, several for UserKnownHostsFile and
  /// GlobalKnownHostsFile.
  public var arguments: [String]
  /// `FILE:LINE` or `command line`.
  public var origin: String {
    source.description
  }

  var source: ConfigSource
}

/// The values gathered so far for one host, merged by OpenSSH's rules: for most keywords
/// the first value obtained wins, while IdentityFile, CertificateFile, the forwards and
/// SendEnv accumulate.
struct ConfigState: Sendable {
  private(set) var firstValues: [String: ConfigValue] = [:]
  private(set) var accumulated: [String: [ConfigValue]] = [:]

  func first(_ name: String) -> ConfigValue? {
    firstValues[name]
  }

  /// Returns the accumulated values of a keyword, one argument each, in the order added.
  func all(_ name: String) -> [ConfigValue] {
    accumulated[name] ?? []
  }

  /// Returns whether any line has set the keyword.
  func isSet(_ keyword: ConfigKeyword) -> Bool {
    keyword.accumulates ? !all(keyword.name).isEmpty : first(keyword.name) != nil
  }

  mutating func apply(_ setting: ConfigSetting) {
    let keyword = setting.keyword
    let name = keyword.name
    switch keyword.syntax {
    case .accumulatingPath:
      let value = ConfigValue(arguments: setting.values, source: setting.source)
      let duplicate = all(name).contains {
        $0.arguments == value.arguments && $0.source.isUserConfig == value.source.isUserConfig
      }
      if !duplicate { accumulated[name, default: []].append(value) }
    case .environmentNames:
      applySendEnv(setting)
    case .forward(let kind):
      let parsed = ForwardSyntax.parse(setting.values[0], kind: kind)
      let duplicate = all(name).contains {
        ForwardSyntax.parse($0.arguments[0], kind: kind) == parsed
      }
      if !duplicate {
        accumulated[name, default: []].append(
          ConfigValue(arguments: setting.values, source: setting.source))
      }
    case .time where setting.values == ["none"]:
      // OpenSSH stores `none` as its "unset" marker, so a later line may still set a time.
      break
    case .proxyJump, .command:
      // ProxyJump and ProxyCommand share one slot: whichever is set first wins. As measured
      // with ssh 9.2, `ProxyJump none` is the exception: it ends the chain's ProxyJump but
      // leaves the slot open for a later ProxyCommand, while `ProxyCommand none` fills it.
      let jump = first("proxyjump")?.arguments.first
      let blocked =
        first("proxycommand") != nil
        || (name == "proxyjump" ? jump != nil : jump != nil && jump != "none")
      guard !blocked else { return }
      firstValues[name] = ConfigValue(arguments: setting.values, source: setting.source)
    default:
      guard firstValues[name] == nil else { return }
      firstValues[name] = ConfigValue(arguments: setting.values, source: setting.source)
    }
  }

  /// Adds SendEnv names; `-pattern` removes the names added so far that match it.
  private mutating func applySendEnv(_ setting: ConfigSetting) {
    var names = accumulated["sendenv"] ?? []
    for argument in setting.values {
      if argument.hasPrefix("-") {
        let pattern = String(argument.dropFirst())
        names.removeAll { HostPattern.matches($0.arguments[0], pattern: pattern) }
      } else {
        names.append(ConfigValue(arguments: [argument], source: setting.source))
      }
    }
    accumulated["sendenv"] = names
  }

  /// Replaces the stored host name; the final pass does this before it re-reads the files.
  mutating func setHostName(_ hostName: String, source: ConfigSource) {
    firstValues["hostname"] = ConfigValue(arguments: [hostName], source: source)
  }
}
