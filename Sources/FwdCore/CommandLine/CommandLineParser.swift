// MARK: - Entry point

extension ParsedCommand {
  /// Parses fwd's arguments (without argv[0]) with getopt semantics, driven by `OptionTable`.
  ///
  /// Flags cluster (`-NvL 4444:h:p`), an argument may be attached (`-L4444:h:p`) or follow,
  /// and `--` ends the options. As in ssh, options may also follow the destination, where
  /// parsing stops at the next non-option (ssh restarts getopt after the host). That argument
  /// would be a remote command, which fwd rejects because it never runs one. `-h`, `--help`
  /// and `-V` return at once, ignoring the arguments after them, as ssh does for `-V`.
  ///
  /// - Throws: `FwdError` with status `.usage`, naming the option or value at fault.
  public static func parse(_ arguments: [String]) throws(FwdError) -> ParsedCommand {
    var parser = CommandLineParser()
    return try parser.parse(arguments)
  }
}

/// The state of one parse: the values seen so far.
private struct CommandLineParser {
  var destination: HopSpec?
  var invocation = Invocation(destination: HopSpec(host: ""))
  var sawJump = false
  var sawLoginName = false
  var sawPort = false

  /// The next step after an option has been applied.
  enum Outcome {
    case proceed
    case finish(ParsedCommand)
  }

  mutating func parse(_ arguments: [String]) throws(FwdError) -> ParsedCommand {
    var index = 0
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if !optionsEnded, argument == "--" {
        optionsEnded = true
        continue
      }
      if !optionsEnded, argument.hasPrefix("-"), argument.count > 1 {
        let outcome = try parseOptionArgument(argument, arguments: arguments, index: &index)
        if case .finish(let command) = outcome { return command }
        continue
      }
      guard let destination else {
        self.destination = try HopSpec.parse(argument, label: "destination")
        continue
      }
      throw .usage(
        "unexpected argument '\(argument)' after the destination '\(destination)': fwd "
          + "forwards ports and never runs a remote command")
    }
    guard let destination else {
      throw .usage(
        "missing destination: name the host to forward through, as in "
          + "'fwd -L 8080:localhost:80 host'")
    }
    if invocation.noRebuild, let attempts = invocation.rebuildAttempts {
      throw .usage(
        "--no-rebuild and --rebuild-attempts \(attempts) contradict each other: keep "
          + "--no-rebuild to exit when the chain is lost, or --rebuild-attempts to try that often")
    }
    invocation.destination = destination
    return .run(invocation)
  }

  /// Parses one argument starting with `-`: a long option or a cluster of flags.
  mutating func parseOptionArgument(
    _ argument: String, arguments: [String], index: inout Int
  ) throws(FwdError) -> Outcome {
    if argument.hasPrefix("--") {
      return try parseLongOption(argument, arguments: arguments, index: &index)
    }
    var letters = Substring(argument.dropFirst())
    while let flag = letters.first {
      letters = letters.dropFirst()
      guard let spec = OptionTable.option(flag: flag) else {
        throw .usage("unknown option '-\(flag)'; see fwd --help")
      }
      var value: String?
      if let argumentName = spec.argumentName {
        if !letters.isEmpty {
          value = String(letters)
          letters = ""
        } else if index < arguments.count {
          value = arguments[index]
          index += 1
        } else {
          throw .usage("option '-\(flag)' requires an argument: \(argumentName)")
        }
      }
      let outcome = try apply(spec, value: value, spelled: "-\(flag)")
      if case .finish = outcome { return outcome }
    }
    return .proceed
  }

  mutating func parseLongOption(
    _ argument: String, arguments: [String], index: inout Int
  ) throws(FwdError) -> Outcome {
    let body = argument.dropFirst(2)
    let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
    let attached = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
    guard let spec = OptionTable.option(longName: name) else {
      throw .usage("unknown option '--\(name)'; see fwd --help")
    }
    guard let argumentName = spec.argumentName else {
      if attached != nil { throw .usage("option '--\(name)' takes no argument") }
      return try apply(spec, value: nil, spelled: "--\(name)")
    }
    var value = attached
    if value == nil, index < arguments.count {
      value = arguments[index]
      index += 1
    }
    guard let value else {
      throw .usage("option '--\(name)' requires an argument: \(argumentName)")
    }
    return try apply(spec, value: value, spelled: "--\(name)")
  }
}

// MARK: - Applying options

extension CommandLineParser {
  /// Stores one option. `value` is non-nil exactly when the option takes an argument.
  mutating func apply(_ spec: OptionSpec, value: String?, spelled: String) throws(FwdError)
    -> Outcome
  {
    let text = value ?? ""
    switch spec.action {
    case .help: return .finish(.help(HelpText.render()))
    case .version: return .finish(.version)
    case .addressFamilyInet: invocation.addressFamily = .inet
    case .addressFamilyInet6: invocation.addressFamily = .inet6
    case .noCommand: break
    case .quiet: invocation.quiet = true
    case .verbose: invocation.verbosity = min(invocation.verbosity + 1, 3)
    case .configFile: invocation.configFile = text
    case .pkcs11Provider: invocation.pkcs11Provider = text
    case .identityFile: invocation.identityFiles.append(text)
    case .jumpHosts: try applyJumpHosts(text)
    case .localForward: try applyLocalForward(text)
    case .loginName: applyLoginName(text)
    case .configOption:
      invocation.options.append(
        try CommandLineConfigOption.parse(text, after: invocation.options))
    case .port: try applyPort(text, spelled: spelled)
    case .background: invocation.background = true
    case .logFile: invocation.logFile = text
    case .printConfig: invocation.printConfig = true
    case .pidFile: invocation.pidFile = text
    case .readyFD: invocation.readyFD = try descriptor(text, spelled: spelled)
    case .statusView: invocation.statusView = true
    case .pinFD: invocation.pinSource = .fileDescriptor(try descriptor(text, spelled: spelled))
    case .pinFile: invocation.pinSource = .file(text)
    case .pinAllowFinalTry: invocation.pinAllowFinalTry = true
    case .remoteForward: invocation.remoteForwards.append(try RemoteForwardSpec.parse(text))
    case .dynamicForward: invocation.dynamicForwards.append(try DynamicForwardSpec.parse(text))
    case .hopListener: invocation.hopListeners.append(try HopListenerSpec.parse(text))
    case .stdioForward: invocation.stdioForward = try StdioForward.parse(text)
    case .gatewayPorts: invocation.gatewayPorts = true
    case .noRebuild: invocation.noRebuild = true
    case .rebuildAttempts:
      guard let count = Int(text), count > 0 else {
        throw .usage("invalid \(spelled) '\(text)': expected a number of attempts, 1 or more")
      }
      invocation.rebuildAttempts = count
    }
    return .proceed
  }

  func descriptor(_ text: String, spelled: String) throws(FwdError) -> Int32 {
    guard let value = Int32(text), value >= 0 else {
      throw .usage("invalid \(spelled) '\(text)': expected a file descriptor number such as 3")
    }
    return value
  }

  mutating func applyJumpHosts(_ text: String) throws(FwdError) {
    guard !sawJump else {
      throw .usage(
        "only one -J option is allowed: list several jump hosts in one -J, separated by "
          + "commas, as in -J first,second")
    }
    sawJump = true
    if text.lowercased() == "none" {
      invocation.jumpHops = []
    } else {
      invocation.jumpHops = try HopSpec.parseList(text, label: "-J hop")
    }
  }

  mutating func applyLocalForward(_ text: String) throws(FwdError) {
    invocation.localForwards.append(try LocalForwardSpec.parse(text))
  }

  /// `-l` keeps its first value, as in ssh.
  mutating func applyLoginName(_ text: String) {
    guard !sawLoginName else { return }
    sawLoginName = true
    invocation.loginName = text
  }

  /// `-p` keeps its first value, as in ssh.
  mutating func applyPort(_ text: String, spelled: String) throws(FwdError) {
    guard let port = PortNumber.parse(text) else {
      let expected = PortNumber.expectation(for: PortNumber.connectable)
      throw .usage("invalid \(spelled) port '\(text)': not \(expected)")
    }
    guard !sawPort else { return }
    sawPort = true
    invocation.port = port
  }
}
