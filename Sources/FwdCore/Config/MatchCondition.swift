/// The criteria of a `Match` line, as OpenSSH 9.2 accepts them (readconf.c match_cfg_line).
struct MatchCondition: Equatable, Sendable {
  enum Criterion: Equatable, Sendable {
    case all
    case canonical
    case final
    case exec(String)
    case host(String)
    case originalHost(String)
    case user(String)
    case localUser(String)
  }

  struct Term: Equatable, Sendable {
    var negated: Bool
    var criterion: Criterion
  }

  var terms: [Term]

  /// Whether the line requests the final pass. `Match final` does so even when the line is
  /// in a block or file that does not apply.
  var requestsFinalPass: Bool {
    terms.contains { $0.criterion == .final }
  }
}

// MARK: - Parsing

extension MatchCondition {
  /// Parses the arguments after `Match`; the error is the reason for a `FILE:LINE:` message.
  static func parse(_ arguments: [String]) throws(ConfigValueParser.Failure) -> MatchCondition {
    var terms: [Term] = []
    var index = 0
    while index < arguments.count {
      var word = arguments[index]
      index += 1
      let negated = word.hasPrefix("!")
      if negated { word.removeFirst() }
      let attribute = word.lowercased()
      switch attribute {
      case "all":
        // `all` takes no argument, ends the line, and may follow at most one other term.
        guard terms.count <= 1, index == arguments.count else {
          throw .init(reason: "Match 'all' cannot be combined with other criteria")
        }
        terms.append(Term(negated: negated, criterion: .all))
      case "canonical":
        terms.append(Term(negated: negated, criterion: .canonical))
      case "final":
        terms.append(Term(negated: negated, criterion: .final))
      case "exec", "host", "originalhost", "user", "localuser":
        guard index < arguments.count, !arguments[index].isEmpty else {
          throw .init(reason: "missing argument for Match \(attribute)")
        }
        let argument = arguments[index]
        index += 1
        terms.append(Term(negated: negated, criterion: criterion(attribute, argument)))
      default:
        throw .init(reason: "unsupported Match criterion '\(word)'")
      }
    }
    guard !terms.isEmpty else { throw .init(reason: "Match needs at least one criterion") }
    return MatchCondition(terms: terms)
  }

  private static func criterion(_ attribute: String, _ argument: String) -> Criterion {
    switch attribute {
    case "exec": .exec(argument)
    case "host": .host(argument)
    case "originalhost": .originalHost(argument)
    case "user": .user(argument)
    default: .localUser(argument)
    }
  }
}

// MARK: - Evaluation

extension MatchCondition {
  /// The values a Match line is tested against.
  struct Subject {
    /// The host for `Match host`: HostName with `%h` expanded when set, else the name given.
    var host: String
    /// The name as given on the command line or in the jump list.
    var originalHost: String
    /// The remote user so far: User if set, else the local user.
    var remoteUser: String
    var localUser: String
    var isFinalPass: Bool
    /// Expands tokens in an exec command and runs it; returns whether it exited with 0.
    var runExec: (String) throws(FwdError) -> Bool
  }

  /// Evaluates the terms in order. An exec command runs only while every earlier term has
  /// matched, as in ssh.
  func evaluate(_ subject: Subject) throws(FwdError) -> Bool {
    var result = true
    for term in terms {
      let matched: Bool
      switch term.criterion {
      case .all:
        return result && !term.negated
      case .canonical, .final:
        matched = subject.isFinalPass
      case .host(let patterns):
        matched = Self.matchesHost(subject.host, patterns)
      case .originalHost(let patterns):
        matched = Self.matchesHost(subject.originalHost, patterns)
      case .user(let patterns):
        matched =
          HostPattern.matchesList(subject.remoteUser, list: patterns, lowercasePatterns: false)
          == .matched
      case .localUser(let patterns):
        matched =
          HostPattern.matchesList(subject.localUser, list: patterns, lowercasePatterns: false)
          == .matched
      case .exec(let command):
        guard result else { continue }
        matched = try subject.runExec(command)
      }
      if matched == term.negated { result = false }
    }
    return result
  }

  /// Host names in Match compare case-insensitively (OpenSSH's match_hostname).
  private static func matchesHost(_ host: String, _ patterns: String) -> Bool {
    HostPattern.matchesList(host.lowercased(), list: patterns, lowercasePatterns: true) == .matched
  }
}
