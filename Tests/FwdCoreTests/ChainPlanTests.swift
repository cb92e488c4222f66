import Testing

@testable import FwdCore

@Suite struct ChainPlanTests {
  func plan(_ arguments: [String], userConfig: String) throws -> ChainPlan {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, userConfig)
    guard case .run(let invocation) = try ParsedCommand.parse(arguments) else {
      throw FwdError(.software, "not a run command")
    }
    return try ChainPlan.resolve(invocation, config: fixture.load())
  }

  func planError(_ arguments: [String], userConfig: String) throws -> String? {
    do {
      _ = try plan(arguments, userConfig: userConfig)
      return nil
    } catch let error as FwdError {
      #expect(error.status == .configuration)
      return error.message
    }
  }

  @Test func directConnectionIsOneHop() throws {
    let chain = try plan(["dest"], userConfig: "")
    #expect(chain.hops.map(\.name) == ["dest"])
    #expect(chain.destination.settings.hostName == "dest")
  }

  @Test func jumpListInConnectionOrder() throws {
    let chain = try plan(["-J", "a,u@b:2200", "dest"], userConfig: "")
    #expect(chain.hops.map(\.name) == ["a", "b", "dest"])
    #expect(chain.hops[1].settings.user == "u")
    #expect(chain.hops[1].settings.port == 2200)
  }

  @Test func configProxyJumpIsRecursive() throws {
    let chain = try plan(
      ["sign"],
      userConfig: """
        Host sign
          ProxyJump build
        Host build
          ProxyJump gateway
        Host gateway
          HostName gw.example.org
        """)
    #expect(chain.hops.map(\.name) == ["gateway", "build", "sign"])
    #expect(chain.hops[0].settings.hostName == "gw.example.org")
  }

  @Test func commandLineJumpReplacesProxyJump() throws {
    let chain = try plan(
      ["-J", "other", "sign"], userConfig: "Host sign\n  ProxyJump build\n")
    #expect(chain.hops.map(\.name) == ["other", "sign"])
  }

  @Test func jumpNoneConnectsDirectly() throws {
    let chain = try plan(["-J", "none", "sign"], userConfig: "Host sign\n  ProxyJump build\n")
    #expect(chain.hops.map(\.name) == ["sign"])
  }

  @Test func proxyJumpNoneStopsTheChain() throws {
    let chain = try plan(
      ["sign"],
      userConfig: """
        Host gateway
          ProxyJump none
        Host sign
          ProxyJump gateway
        Host *
          ProxyJump bastion
        """)
    #expect(chain.hops.map(\.name) == ["gateway", "sign"])
  }

  @Test func laterListHopsIgnoreOwnProxyJump() throws {
    let chain = try plan(
      ["dest"],
      userConfig: """
        Host dest
          ProxyJump a,b
        Host a
          ProxyJump first
        Host b
          ProxyJump ignored
        """)
    #expect(chain.hops.map(\.name) == ["first", "a", "b", "dest"])
  }

  @Test func proxyJumpLoopIsReported() throws {
    let message = try planError(
      ["a"], userConfig: "Host a\n  ProxyJump b\nHost b\n  ProxyJump c\nHost c\n  ProxyJump a\n")
    #expect(message?.hasPrefix("ProxyJump loop: a -> b -> c -> a (ProxyJump at ") == true)
    #expect(
      message?.hasSuffix(":6); remove one of the ProxyJump lines or use ProxyJump none") == true)
  }

  @Test func selfProxyJumpIsLoop() throws {
    let message = try planError(["a"], userConfig: "Host *\n  ProxyJump a\n")
    #expect(message?.hasPrefix("ProxyJump loop: a -> a") == true)
  }

  @Test func jumpThroughItselfIsRejected() throws {
    let message = try planError(["-J", "a", "a"], userConfig: "")
    #expect(message == "jump host loop: a (tester@a:22) would be reached through itself")
  }

  @Test func aliasesOfOneServerMayBeChained() throws {
    let chain = try plan(
      ["-J", "lab1", "lab2"],
      userConfig: "Host lab1 lab2\n  HostName 127.0.0.1\n  Port 2201\n")
    #expect(chain.hops.map(\.name) == ["lab1", "lab2"])
  }

  @Test func overlongChainIsReported() throws {
    let message = try planError(["h"], userConfig: "Host *\n  ProxyJump %h-x\n")
    #expect(message?.contains("is longer than 32 hops") == true)
  }

  @Test func doublingJumpNamesAreReported() throws {
    let message = try planError(["h"], userConfig: "Host *\n  ProxyJump %n%n\n")
    #expect(message?.hasSuffix("invalid ProxyJump '%n%n': host is longer than 1024 bytes") == true)
  }

  @Test func expandedJumpHostWithAtIsReported() throws {
    let message = try planError(
      ["h"], userConfig: "Host h\n  HostName a@b\n  ProxyJump %h\n")
    #expect(
      message?.hasSuffix(
        "invalid ProxyJump '%h': it expands to the host 'a@b', which no hop text can carry")
        == true)
  }

  @Test func loginNameAndPortOnDestinationOnly() throws {
    let chain = try plan(["-l", "bob", "-p", "2200", "-J", "jump", "dest"], userConfig: "")
    #expect(chain.hops[0].settings.user == "tester")
    #expect(chain.hops[0].settings.port == 22)
    #expect(chain.hops[1].settings.user == "bob")
    #expect(chain.hops[1].settings.port == 2200)
  }

  @Test func destinationUserAndPortPrecedence() throws {
    let config = "Host dest\n  User cfg\n  Port 1\n"
    let fromSpec = try plan(["alice@dest:2"], userConfig: config).destination.settings
    #expect(fromSpec.user == "alice")
    #expect(fromSpec.port == 2)
    let fromFlags = try plan(["-l", "bob", "-p", "3", "alice@dest:2"], userConfig: config)
      .destination.settings
    #expect(fromFlags.user == "bob")
    #expect(fromFlags.port == 3)
  }

  @Test func jumpElementUserAndPortWin() throws {
    let chain = try plan(
      ["-J", "u@jump:2", "dest"], userConfig: "Host jump\n  User cfg\n  Port 9\n")
    #expect(chain.hops[0].settings.user == "u")
    #expect(chain.hops[0].settings.port == 2)
  }

  @Test func identityFilesApplyUnlessConfigured() throws {
    let chain = try plan(
      ["-i", "/etc/hostname", "-J", "plain,keyed", "dest"],
      userConfig: "Host keyed\n  IdentityFile /cfg/keyed\nHost dest\n  IdentityFile /cfg/dest\n")
    #expect(chain.hops[0].settings.identityFiles == ["/etc/hostname"])
    #expect(chain.hops[1].settings.identityFiles == ["/cfg/keyed"])
    // On the destination ssh adds -i files first and keeps the config's as well.
    #expect(chain.hops[2].settings.identityFiles == ["/etc/hostname", "/cfg/dest"])
  }

  @Test func missingIdentityFilesAreDropped() throws {
    let chain = try plan(
      ["-i", "/nonexistent/fwd-key", "-i", "pkcs11:object=card", "-i", "/etc/hostname", "dest"],
      userConfig: "")
    #expect(chain.destination.settings.identityFiles == ["pkcs11:object=card", "/etc/hostname"])
  }

  @Test func optionsWinOnlyOnDestination() throws {
    let chain = try plan(
      ["-o", "ConnectTimeout=5", "-o", "BatchMode=yes", "-J", "jump", "dest"],
      userConfig: "Host jump dest\n  ConnectTimeout 9\n")
    #expect(chain.hops[0].settings.connectTimeout == 9)
    #expect(chain.hops[0].settings.batchMode)
    #expect(chain.hops[1].settings.connectTimeout == 5)
    #expect(chain.hops[1].settings.batchMode)
  }

  @Test func hopNamingOptionsOnDestinationOnly() throws {
    let chain = try plan(
      [
        "-o", "User=cli", "-o", "Port=2222", "-o", "HostName=10.9.9.9", "-o", "HostKeyAlias=a",
        "-o", "ProxyJump=jump", "-o", "ProxyCommand=nc %h %p", "-o", "LocalForward=1 h:2",
        "-o", "StrictHostKeyChecking=accept-new", "dest",
      ], userConfig: "")
    #expect(chain.hops.map(\.name) == ["jump", "dest"])
    let jump = chain.hops[0].settings
    #expect(jump.user == "tester")
    #expect(jump.port == 22)
    #expect(jump.hostName == "jump")
    #expect(jump.hostKeyAlias == nil)
    #expect(jump.proxyJump.isEmpty)
    #expect(jump.proxyCommand == nil)
    #expect(jump.localForwards.isEmpty)
    #expect(jump.strictHostKeyChecking == .acceptNew)
    let destination = chain.destination.settings
    #expect(destination.user == "cli")
    #expect(destination.port == 2222)
    #expect(destination.hostName == "10.9.9.9")
    #expect(destination.hostKeyAlias == "a")
    #expect(destination.localForwards.count == 1)
  }

  @Test func pkcs11AndAddressFamilyPrecedence() throws {
    let chain = try plan(
      ["-I", "/cli.so", "-4", "-J", "a,b", "dest"],
      userConfig:
        "Host b\n  PKCS11Provider /cfg.so\n  AddressFamily inet6\nHost dest\n  PKCS11Provider /d.so\n"
    )
    #expect(chain.hops[0].settings.pkcs11Provider == "/cli.so")
    #expect(chain.hops[0].settings.addressFamily == .inet)
    #expect(chain.hops[1].settings.pkcs11Provider == "/cfg.so")
    #expect(chain.hops[1].settings.addressFamily == .inet6)
    #expect(chain.hops[2].settings.pkcs11Provider == "/cli.so")
  }

  @Test func localForwardsOnDestinationOnly() throws {
    let chain = try plan(
      ["-L", "1:h:2", "-J", "jump", "dest"], userConfig: "Host dest\n  LocalForward 3 h:4\n")
    #expect(chain.hops[0].settings.localForwards.isEmpty)
    #expect(
      chain.destination.settings.localForwards == [
        LocalForwardSpec(listenPort: 1, targetHost: "h", targetPort: 2),
        LocalForwardSpec(listenPort: 3, targetHost: "h", targetPort: 4),
      ])
  }

  @Test func proxyJumpAndCommandShareSlot() throws {
    let jumpFirst = try plan(
      ["d"], userConfig: "Host d\n  ProxyJump j\n  ProxyCommand nc %h %p\n")
    #expect(jumpFirst.hops.map(\.name) == ["j", "d"])
    #expect(jumpFirst.destination.settings.proxyCommand == nil)
    let commandFirst = try plan(
      ["d"], userConfig: "Host d\n  ProxyCommand nc %h %p\n  ProxyJump j\n")
    #expect(commandFirst.hops.map(\.name) == ["d"])
    #expect(commandFirst.destination.settings.proxyCommand == "nc d 22")
  }

  @Test func jumpHostsUseOwnHostBlocks() throws {
    let chain = try plan(
      ["sign"],
      userConfig: """
        Host build
          HostName 127.0.0.1
          Port 2201
          User builder
        Host sign
          HostName 127.0.0.1
          Port 2202
          ProxyJump build
        """)
    #expect(chain.hops[0].settings.port == 2201)
    #expect(chain.hops[0].settings.user == "builder")
    #expect(chain.hops[1].settings.port == 2202)
    #expect(chain.hops[1].settings.user == "tester")
  }
}
