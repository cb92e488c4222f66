import Foundation
import Testing

@testable import FwdCore

/// Precedence, defaults, syntax and accumulation in ssh_config resolution.
@Suite struct SSHConfigTests {
  @Test func defaultsMatchOpenSSH() throws {
    let fixture = try ConfigFixture()
    let settings = try fixture.load().resolve(host: "target")
    let home = fixture.home
    #expect(settings.hostName == "target")
    #expect(settings.port == 22)
    #expect(settings.user == "tester")
    #expect(
      settings.identityFiles
        == [
          "id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "id_xmss", "id_dsa",
        ]
        .map { "\(home)/.ssh/\($0)" })
    #expect(
      settings.userKnownHostsFiles == ["\(home)/.ssh/known_hosts", "\(home)/.ssh/known_hosts2"])
    #expect(
      settings.globalKnownHostsFiles
        == [
          "\(fixture.systemDirectory)/ssh_known_hosts",
          "\(fixture.systemDirectory)/ssh_known_hosts2",
        ])
    #expect(settings.strictHostKeyChecking == .ask)
    #expect(settings.connectTimeout == nil)
    #expect(settings.connectionAttempts == 1)
    #expect(settings.serverAliveInterval == 0)
    #expect(settings.serverAliveCountMax == 3)
    #expect(settings.tcpKeepAlive)
    #expect(!settings.identitiesOnly)
    #expect(!settings.exitOnForwardFailure)
    #expect(settings.addressFamily == .any)
    #expect(settings.logLevel == .info)
    #expect(settings.proxyJump.isEmpty)
    #expect(settings.proxyCommand == nil)
    #expect(settings.pkcs11Provider == nil)
    #expect(settings.identityAgent == nil)
  }

  @Test func firstObtainedValueWins() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        Host target
          Port 1111
          User first
        Host *
          Port 2222
          User second
          HostName fallback.example.org
        """)
    #expect(settings.port == 1111)
    #expect(settings.user == "first")
    #expect(settings.hostName == "fallback.example.org")
  }

  @Test func userConfigBeforeSystemConfig() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.systemConfigPath, "Host *\n  Port 2\n  User system\n")
    let settings = try fixture.resolve("target", userConfig: "Port 1\n")
    #expect(settings.port == 1)
    #expect(settings.user == "system")
  }

  @Test func dashFReplacesDefaultFiles() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "Port 1\n")
    try fixture.write(fixture.systemConfigPath, "User system\n")
    let custom = try fixture.write("custom.conf", "Port 3\n")
    let settings = try fixture.load(configFile: custom).resolve(host: "target")
    #expect(settings.port == 3)
    #expect(settings.user == "tester")
    #expect(try fixture.load(configFile: custom).filePaths == [custom])
  }

  @Test func configFileNoneReadsNothing() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "Port 1\n")
    let config = try fixture.load(configFile: "none")
    #expect(config.filePaths.isEmpty)
    #expect(try config.resolve(host: "target").port == 22)
  }

  @Test func missingDashFFileIsError() throws {
    let fixture = try ConfigFixture()
    let message = fixture.errorMessage { _ = try fixture.load(configFile: fixture.root + "/nope") }
    #expect(
      message == "cannot read config file \(fixture.root)/nope: No such file or directory")
  }

  @Test func missingDefaultFilesAreFine() throws {
    let fixture = try ConfigFixture()
    #expect(try fixture.load().filePaths.isEmpty)
  }

  @Test func keywordCaseAndEquals() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        PORT=2200
        user = bob
        HOSTNAME\treal.example.org
        identitiesonly=YES
        """)
    #expect(settings.port == 2200)
    #expect(settings.user == "bob")
    #expect(settings.hostName == "real.example.org")
    #expect(settings.identitiesOnly)
  }

  @Test func quotedArgumentsKeepSpaces() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        IdentityFile "/keys/with space/id"
        IdentityFile '/keys/single quoted'
        User "a user"
        """)
    #expect(settings.identityFiles == ["/keys/with space/id", "/keys/single quoted"])
    #expect(settings.user == "a user")
  }

  @Test func commentsAndBlankLinesAreSkipped() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        # leading comment

          # indented comment
        Port 2022 # trailing comment
        \t
        User bob
        """)
    #expect(settings.port == 2022)
    #expect(settings.user == "bob")
  }

  @Test func crlfLineEndingsAreAccepted() throws {
    let settings = try ConfigFixture().resolve(
      "target", userConfig: "Host target\r\n  Port 2022\r\n  User bob\r\n\r\nHost *\r\n  User x\r\n"
    )
    #expect(settings.port == 2022)
    #expect(settings.user == "bob")
  }

  @Test func identityFilesAccumulate() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        Host target
          IdentityFile /k/one
          IdentityFile /k/two
        Host *
          IdentityFile /k/one
          IdentityFile /k/three
        """)
    #expect(settings.identityFiles == ["/k/one", "/k/two", "/k/three"])
  }

  @Test func identityFileKeptPerConfigKind() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.systemConfigPath, "IdentityFile /k/one\n")
    let settings = try fixture.resolve("target", userConfig: "IdentityFile /k/one\n")
    #expect(settings.identityFiles == ["/k/one", "/k/one"])
  }

  @Test func forwardsAccumulate() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        Host target
          LocalForward 8080 localhost:80
          LocalForward [::1]:8081 [fe80::1]:81
          RemoteForward 9090 localhost:90
          DynamicForward 1080
        Host *
          LocalForward 8080 localhost:80
        """)
    #expect(
      settings.localForwards == [
        LocalForwardSpec(listenPort: 8080, targetHost: "localhost", targetPort: 80),
        LocalForwardSpec(
          bindAddress: "::1", listenPort: 8081, targetHost: "fe80::1", targetPort: 81),
      ])
    #expect(settings.remoteForwards == ["9090:localhost:90"])
    #expect(settings.dynamicForwards == ["1080"])
  }

  @Test func sendEnvAccumulatesAndRemoves() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        SendEnv LANG LC_ALL LC_CTYPE
        SendEnv -LC_*
        SendEnv EDITOR
        """)
    #expect(settings.sendEnv == ["LANG", "EDITOR"])
  }

  @Test func knownHostsFirstLineWins() throws {
    let fixture = try ConfigFixture()
    let settings = try fixture.resolve(
      "target",
      userConfig: """
        UserKnownHostsFile ~/kh1 /abs/kh2
        UserKnownHostsFile /ignored
        GlobalKnownHostsFile ~/global
        """)
    #expect(settings.userKnownHostsFiles == ["\(fixture.home)/kh1", "/abs/kh2"])
    #expect(settings.globalKnownHostsFiles == ["\(fixture.home)/global"])
  }

  @Test func knownHostsNoneIsEmpty() throws {
    let settings = try ConfigFixture().resolve(
      "target", userConfig: "UserKnownHostsFile none\nGlobalKnownHostsFile none\n")
    #expect(settings.userKnownHostsFiles.isEmpty)
    #expect(settings.globalKnownHostsFiles.isEmpty)
  }

  @Test(arguments: [
    ("yes", StrictHostKeyChecking.yes), ("true", .yes), ("accept-new", .acceptNew),
    ("no", .no), ("off", .no), ("false", .no), ("ask", .ask), ("Accept-New", .acceptNew),
  ])
  func strictHostKeyCheckingValues(_ word: String, _ expected: StrictHostKeyChecking) throws {
    let settings = try ConfigFixture().resolve("t", userConfig: "StrictHostKeyChecking \(word)\n")
    #expect(settings.strictHostKeyChecking == expected)
  }

  @Test(arguments: [("30", 30), ("1m30s", 90), ("2h", 7200), ("1w1d", 691200), ("5M", 300)])
  func timeValuesAreSeconds(_ text: String, _ seconds: Int) throws {
    let settings = try ConfigFixture().resolve("t", userConfig: "ConnectTimeout \(text)\n")
    #expect(settings.connectTimeout == seconds)
  }

  @Test func timeNoneLeavesUnset() throws {
    let settings = try ConfigFixture().resolve(
      "t", userConfig: "ServerAliveInterval none\nServerAliveInterval 7\nConnectTimeout none\n")
    #expect(settings.serverAliveInterval == 7)
    #expect(settings.connectTimeout == nil)
  }

  @Test func typedValuesOfSupportedKeywords() throws {
    let settings = try ConfigFixture().resolve(
      "target",
      userConfig: """
        IdentityAgent /run/agent.sock
        PKCS11Provider /usr/lib/p11.so
        HostKeyAlias MyAlias
        HashKnownHosts yes
        ConnectionAttempts 3
        ServerAliveCountMax 5
        TCPKeepAlive no
        ExitOnForwardFailure yes
        GatewayPorts yes
        BatchMode yes
        AddressFamily inet6
        BindAddress 127.0.0.2
        LogLevel DEBUG2
        Ciphers +aes128-cbc
        MACs hmac-sha2-256
        KexAlgorithms curve25519-sha256
        HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256
        CertificateFile ~/.ssh/id-cert.pub
        """)
    #expect(settings.identityAgent == "/run/agent.sock")
    #expect(settings.pkcs11Provider == "/usr/lib/p11.so")
    #expect(settings.hostKeyAlias == "myalias")
    #expect(settings.hashKnownHosts)
    #expect(settings.connectionAttempts == 3)
    #expect(settings.serverAliveCountMax == 5)
    #expect(!settings.tcpKeepAlive)
    #expect(settings.exitOnForwardFailure)
    #expect(settings.gatewayPorts)
    #expect(settings.batchMode)
    #expect(settings.addressFamily == .inet6)
    #expect(settings.bindAddress == "127.0.0.2")
    #expect(settings.logLevel == .debug2)
    #expect(settings.ciphers == "+aes128-cbc")
    #expect(settings.macs == "hmac-sha2-256")
    #expect(settings.kexAlgorithms == "curve25519-sha256")
    #expect(settings.hostKeyAlgorithms == "ssh-ed25519,ecdsa-sha2-nistp256")
    #expect(settings.certificateFiles.count == 1)
  }

  @Test func pkcs11ProviderNoneMeansUnset() throws {
    let settings = try ConfigFixture().resolve("t", userConfig: "PKCS11Provider none\n")
    #expect(settings.pkcs11Provider == nil)
  }

  @Test func aliasKeywordsMap() throws {
    let settings = try ConfigFixture().resolve(
      "t", userConfig: "KeepAlive no\nIdentityFile2 /k/two\nSmartcardDevice /p11.so\n")
    #expect(!settings.tcpKeepAlive)
    #expect(settings.identityFiles == ["/k/two"])
    #expect(settings.pkcs11Provider == "/p11.so")
  }

  @Test func rawValuesKeepOrigin() throws {
    let fixture = try ConfigFixture()
    let settings = try fixture.resolve("t", userConfig: "\nPort 2022\nIdentityFile /a\n")
    #expect(
      settings.values("port") == [
        ConfigValue(
          arguments: ["2022"],
          source: .init(file: fixture.userConfigPath, line: 2, isUserConfig: true))
      ])
    #expect(settings.values("Port").first?.origin == "\(fixture.userConfigPath):2")
    #expect(settings.values("IdentityFile").map(\.arguments) == [["/a"]])
    #expect(settings.values("User").isEmpty)
  }

  @Test func ignoredKeywordsLoad() throws {
    let settings = try ConfigFixture().resolve(
      "t",
      userConfig: """
        ForwardAgent yes
        ControlMaster auto
        ControlPath ~/.ssh/cm-%C
        GSSAPIAuthentication yes
        Protocol 2
        Port 2
        Host *
          ForwardAgent no
        """)
    #expect(settings.port == 2)
    #expect(settings.values("forwardagent").map(\.arguments) == [["yes"]])
    #expect(settings.values("ControlPath").map(\.arguments) == [["~/.ssh/cm-%C"]])
  }

  @Test func unusedKeywordFromCommandLineIsStored() throws {
    let fixture = try ConfigFixture()
    try fixture.write(fixture.userConfigPath, "ForwardAgent no\n")
    let commandLine = HostCommandLine(options: [ConfigOption(keyword: "ForwardAgent", value: "yes")]
    )
    let settings = try fixture.load().resolve(HopSpec(host: "t"), commandLine: commandLine)
    #expect(settings.values("ForwardAgent").first?.arguments == ["yes"])
    #expect(settings.values("ForwardAgent").first?.origin == "command line")
  }
}
