import Testing

@testable import FwdCore

@Suite struct CommandLineParserTests {
  func invocation(_ arguments: [String]) throws -> Invocation {
    guard case .run(let invocation) = try ParsedCommand.parse(arguments) else {
      Issue.record("expected .run for \(arguments)")
      throw FwdError(.software, "not a run command")
    }
    return invocation
  }

  func usageError(_ arguments: [String]) -> String? {
    do {
      _ = try ParsedCommand.parse(arguments)
      return nil
    } catch {
      #expect(error.status == .usage)
      return error.message
    }
  }

  @Test func noRebuildWithAttemptsIsRejected() {
    let message = usageError(["--no-rebuild", "--rebuild-attempts", "2", "host"])
    #expect(message?.hasPrefix("--no-rebuild and --rebuild-attempts 2 contradict each other") == true)
    #expect(usageError(["--rebuild-attempts", "2", "host"]) == nil)
    #expect(usageError(["--no-rebuild", "host"]) == nil)
  }

  @Test func destinationOnly() throws {
    let parsed = try invocation(["build"])
    #expect(parsed.destination == HopSpec(host: "build"))
    #expect(parsed.jumpHops == nil)
    #expect(parsed.localForwards.isEmpty)
    #expect(parsed.verbosity == 0)
    #expect(!parsed.quiet)
  }

  @Test func clusteredFlagsTakeNextArgument() throws {
    let parsed = try invocation(["-NvL", "4444:h:5555", "dest"])
    #expect(parsed.verbosity == 1)
    #expect(
      parsed.localForwards == [
        LocalForwardSpec(listenPort: 4444, targetHost: "h", targetPort: 5555)
      ])
  }

  @Test func attachedArgument() throws {
    let parsed = try invocation(["-L4444:h:5555", "-p2222", "-lbob", "dest"])
    #expect(parsed.localForwards.count == 1)
    #expect(parsed.port == 2222)
    #expect(parsed.loginName == "bob")
  }

  @Test func clusterEndingInArgumentOption() throws {
    let parsed = try invocation(["-qJjump", "dest"])
    #expect(parsed.quiet)
    #expect(parsed.jumpHops == [HopSpec(host: "jump")])
  }

  @Test(arguments: [
    (["-v"], 1), (["-vv"], 2), (["-vvv"], 3), (["-vvvv"], 3), (["-v", "-v", "-vv"], 3),
  ])
  func verbosityCountsToThree(_ flags: [String], _ expected: Int) throws {
    #expect(try invocation(flags + ["dest"]).verbosity == expected)
  }

  @Test func everyOption() throws {
    let parsed = try invocation([
      "-4", "-6", "-N", "-q", "-F", "cfg", "-I", "/p11.so", "-i", "k1", "-i", "k2", "-J",
      "a,u@b:2", "-L", "1:h:2", "-L", "3:h:4", "-l", "bob", "-o", "Port=2200", "-o",
      "User alice", "-p", "22", "alice@dest:2022",
    ])
    #expect(parsed.addressFamily == .inet6)
    #expect(parsed.quiet)
    #expect(parsed.configFile == "cfg")
    #expect(parsed.pkcs11Provider == "/p11.so")
    #expect(parsed.identityFiles == ["k1", "k2"])
    #expect(parsed.jumpHops == [HopSpec(host: "a"), HopSpec(user: "u", host: "b", port: 2)])
    #expect(parsed.localForwards.count == 2)
    #expect(parsed.loginName == "bob")
    #expect(parsed.port == 22)
    #expect(
      parsed.options == [
        ConfigOption(keyword: "Port", value: "2200"), ConfigOption(keyword: "User", value: "alice"),
      ])
    #expect(parsed.destination == HopSpec(user: "alice", host: "dest", port: 2022))
  }

  @Test func firstLoginNameAndPortWin() throws {
    let parsed = try invocation(["-l", "a", "-l", "b", "-p", "1", "-p", "2", "dest"])
    #expect(parsed.loginName == "a")
    #expect(parsed.port == 1)
  }

  @Test func lastConfigFileAndProviderWin() throws {
    let parsed = try invocation(["-F", "a", "-F", "b", "-I", "x", "-I", "y", "dest"])
    #expect(parsed.configFile == "b")
    #expect(parsed.pkcs11Provider == "y")
  }

  @Test func jumpNoneGivesEmptyList() throws {
    #expect(try invocation(["-J", "none", "dest"]).jumpHops == [])
    #expect(try invocation(["-J", "NONE", "dest"]).jumpHops == [])
  }

  @Test func secondJumpIsRejected() {
    #expect(
      usageError(["-J", "a", "-J", "b", "dest"])
        == "only one -J option is allowed: list several jump hosts in one -J, separated by "
        + "commas, as in -J first,second")
  }

  @Test func optionsAfterDestination() throws {
    let parsed = try invocation(["dest", "-L", "1:h:2", "-v"])
    #expect(parsed.localForwards.count == 1)
    #expect(parsed.verbosity == 1)
  }

  @Test func remoteCommandIsRejected() {
    #expect(
      usageError(["dest", "uptime"])
        == "unexpected argument 'uptime' after the destination 'dest': fwd forwards ports and "
        + "never runs a remote command")
    #expect(usageError(["-N", "dest", "-v", "ls", "-l"])?.contains("'ls'") == true)
  }

  @Test func doubleDashEndsOptions() throws {
    #expect(try invocation(["-v", "--", "dest"]).destination.host == "dest")
    #expect(usageError(["--", "dest", "-v"])?.hasPrefix("unexpected argument '-v'") == true)
    #expect(try invocation(["dest", "--"]).destination.host == "dest")
    #expect(usageError(["dest", "--", "cmd"])?.hasPrefix("unexpected argument 'cmd'") == true)
  }

  @Test func missingDestination() {
    #expect(
      usageError(["-v"])
        == "missing destination: name the host to forward through, as in "
        + "'fwd -L 8080:localhost:80 host'")
    #expect(usageError([])?.hasPrefix("missing destination") == true)
  }

  @Test(arguments: [
    (["-x", "dest"], "unknown option '-x'; see fwd --help"),
    (["-vx", "dest"], "unknown option '-x'; see fwd --help"),
    (["--frobnicate", "dest"], "unknown option '--frobnicate'; see fwd --help"),
    (["--help=yes"], "option '--help' takes no argument"),
    (["dest", "-L"], "option '-L' requires an argument: [bind_address:]port:host:hostport"),
    (["-p", "x", "dest"], "invalid -p port 'x': not a number 1-65535"),
    (["-p", "0", "dest"], "invalid -p port '0': not a number 1-65535"),
    (
      ["-L", "4444", "dest"],
      "invalid -L forward '4444': expected [bind_address:]port:host:hostport"
    ),
    (
      ["-L", "a:b:c", "dest"], "invalid -L forward 'a:b:c': listen port 'a' is not a number 0-65535"
    ),
    (
      ["-R", "8080", "dest"],
      "invalid -R forward '8080': remote SOCKS forwards (-R port alone) are not supported; give port:host:hostport"
    ),
    (["-H", "8080:h:1", "dest"], "invalid -H listener '8080:h:1': expected hop:[bind_address:]port:host:hostport"),
    (["-W", "host", "dest"], "invalid -W target 'host': expected host:port, with port 1-65535"),
    (
      ["-J", "a,,b", "dest"],
      "invalid -J hop list 'a,,b': hop 2 of 3 is empty; separate hops with single commas and no "
        + "comma at either end"
    ),
    (["-J", "a@", "dest"], "invalid -J hop 'a@': host is empty"),
    (["bob@", "-v"], "invalid destination 'bob@': host is empty"),
    (
      ["-o", "Port=x", "dest"], "invalid -o option 'Port=x': invalid Port 'x': not a number 1-65535"
    ),
    (
      ["-o", "Frobnicate=1", "dest"],
      "invalid -o option 'Frobnicate=1': unknown keyword 'Frobnicate'"
    ),
    (["-o", "Host=x", "dest"], "invalid -o option 'Host=x': Host is only allowed in config files"),
    (
      ["-o", "Include /x", "dest"],
      "invalid -o option 'Include /x': Include is only allowed in config files"
    ),
    (["-o", "Port", "dest"], "invalid -o option 'Port': no argument after keyword 'Port'"),
    (
      ["-o", "BatchMode=maybe", "dest"],
      "invalid -o option 'BatchMode=maybe': invalid BatchMode value 'maybe': expected yes or no"
    ),
  ])
  func usageErrors(_ arguments: [String], _ message: String) {
    #expect(usageError(arguments) == message)
  }

  @Test func ignoreUnknownAllowsLaterKeyword() throws {
    let parsed = try invocation(["-o", "IgnoreUnknown=Frob*", "-o", "Frobnicate=1", "dest"])
    #expect(parsed.options.count == 2)
  }

  @Test func ignoredKeywordIsAccepted() throws {
    let parsed = try invocation(["-o", "ForwardAgent=yes", "dest"])
    #expect(parsed.options == [ConfigOption(keyword: "ForwardAgent", value: "yes")])
  }

  @Test(arguments: [["-h"], ["--help"], ["-v", "-h", "dest"], ["-h", "--bogus"]])
  func helpReturnsGeneratedText(_ arguments: [String]) throws {
    guard case .help(let text) = try ParsedCommand.parse(arguments) else {
      Issue.record("expected help")
      return
    }
    #expect(text == HelpText.render())
  }

  @Test(arguments: [["-V"], ["--version"], ["-qV", "x", "y"]])
  func versionFlag(_ arguments: [String]) throws {
    #expect(try ParsedCommand.parse(arguments) == .version)
  }
}
