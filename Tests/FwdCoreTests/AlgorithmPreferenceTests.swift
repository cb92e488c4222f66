import FwdBindings
import Testing

@testable import FwdCore

/// ssh_config algorithm lists applied to libssh2's supported list, which is also its default.
@Suite struct AlgorithmPreferenceTests {
  static let ciphers = ["aes128-ctr", "aes192-ctr", "aes256-ctr", "aes256-cbc", "3des-cbc"]

  struct Example: CustomTestStringConvertible, Sendable {
    let value: String
    let expected: [String]
    var testDescription: String { value }
  }

  @Test(arguments: [
    Example(value: "aes256-ctr,aes128-ctr", expected: ["aes256-ctr", "aes128-ctr"]),
    Example(
      value: "chacha20-poly1305@openssh.com,aes256-ctr,aes128-gcm@openssh.com",
      expected: ["aes256-ctr"]),
    Example(value: "aes*-ctr", expected: ["aes128-ctr", "aes192-ctr", "aes256-ctr"]),
    Example(value: "aes256-ctr,aes*", expected: ["aes256-ctr", "aes128-ctr", "aes192-ctr", "aes256-cbc"]),
    Example(value: "+3des-cbc,chacha20-poly1305@openssh.com", expected: ciphers),
    Example(value: "-*-cbc", expected: ["aes128-ctr", "aes192-ctr", "aes256-ctr"]),
    Example(value: "-aes192-ctr,3des-cbc", expected: ["aes128-ctr", "aes256-ctr", "aes256-cbc"]),
    Example(
      value: "^aes256-cbc,aes256-ctr",
      expected: ["aes256-cbc", "aes256-ctr", "aes128-ctr", "aes192-ctr", "3des-cbc"]),
    Example(value: "chacha20-poly1305@openssh.com", expected: []),
    Example(value: "-*", expected: []),
  ])
  func listAppliedToSupported(_ example: Example) {
    #expect(AlgorithmList.apply(example.value, defaults: Self.ciphers) == example.expected)
  }

  @Test func nothingSupportedIsConfigurationError() {
    let setting = AlgorithmSetting(
      keyword: .ciphers, value: "chacha20-poly1305@openssh.com", origin: "/cfg:4")
    #expect {
      try setting.resolve(supported: Self.ciphers)
    } throws: { error in
      guard let error = error as? FwdError else { return false }
      return error.status == .configuration
        && error.message
          == "/cfg:4: invalid Ciphers 'chacha20-poly1305@openssh.com': libssh2 "
          + "\(LibSSH2.version) supports none of these algorithms; it supports "
          + Self.ciphers.joined(separator: ",")
    }
  }

  @Test func libssh2ListsAreNotEmpty() {
    for keyword in AlgorithmSetting.Keyword.allCases {
      #expect(!SSHSession.supportedMethods(keyword.methodKinds[0]).isEmpty, "\(keyword)")
    }
    #expect(SSHSession.supportedMethods(.cipherClientToServer).contains("aes128-ctr"))
    #expect(SSHSession.supportedMethods(.hostKey).contains("ssh-ed25519"))
  }

  @Test func emptyListElementsAreDropped() throws {
    let settings = try ConfigFixture().resolve(
      "t", userConfig: "Ciphers aes128-ctr,,aes256-ctr,\nMACs ^,hmac-sha2-256\n")
    #expect(settings.ciphers == "aes128-ctr,aes256-ctr")
    #expect(settings.macs == "^hmac-sha2-256")
  }
}
