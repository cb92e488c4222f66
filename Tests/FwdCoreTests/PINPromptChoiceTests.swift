import FwdBindings
import Testing

@testable import FwdCore

@Suite struct PINPromptChoiceTests {
  /// Describes the choice for `variables` in a process without a terminal.
  private func choice(_ variables: [String: String]) -> String {
    let environment = PINEnvironment(variables: variables, terminalPath: "/nonexistent/tty")
    switch PINPromptChoice(environment: environment) {
    case .terminal: return "terminal"
    case .askpass(let program): return "askpass \(program)"
    case .none: return "none"
    }
  }

  @Test func noTerminalNoDisplayGivesNothing() {
    #expect(choice([:]) == "none")
    #expect(choice(["SSH_ASKPASS": "/bin/pin"]) == "none")
    #expect(choice(["DISPLAY": "", "SSH_ASKPASS": "/bin/pin"]) == "none")
  }

  @Test func displayAllowsAskpassWithoutTerminal() {
    #expect(choice(["DISPLAY": ":0", "SSH_ASKPASS": "/bin/pin"]) == "askpass /bin/pin")
    #expect(
      choice(["WAYLAND_DISPLAY": "wayland-0", "SSH_ASKPASS": "/bin/pin"]) == "askpass /bin/pin")
    #expect(choice(["DISPLAY": ":0"]) == "askpass /usr/bin/ssh-askpass")
  }

  @Test func askpassRequireRules() {
    #expect(choice(["DISPLAY": ":0", "SSH_ASKPASS_REQUIRE": "never"]) == "none")
    #expect(
      choice(["SSH_ASKPASS_REQUIRE": "force", "SSH_ASKPASS": "/bin/pin"]) == "askpass /bin/pin")
    #expect(choice(["SSH_ASKPASS_REQUIRE": "prefer", "SSH_ASKPASS": "/bin/pin"]) == "none")
    #expect(
      choice(["DISPLAY": ":0", "SSH_ASKPASS_REQUIRE": "PREFER", "SSH_ASKPASS": "/bin/pin"])
        == "askpass /bin/pin")
  }

  @Test func batchModeAllowsOnlyNonInteractiveSources() {
    let environment = PINEnvironment(variables: ["DISPLAY": ":0"], terminalPath: "/nonexistent")
    #expect(PINSource.interactive.makeReader(batchMode: true, environment: environment) == nil)
    let file = PINSource.file("/run/pin").makeReader(batchMode: true, environment: environment)
    #expect(file?.sourceName == "--pin-file /run/pin")
    let descriptor = PINSource.fileDescriptor(3).makeReader(
      batchMode: true, environment: environment)
    #expect(descriptor?.isInteractive == false)
  }

  @Test(
    arguments: [
      (0, nil),
      (
        PKCS11TokenInfo.Flag.userPINCountLow,
        "a wrong PIN was entered since the last successful login"
      ),
      (
        PKCS11TokenInfo.Flag.userPINCountLow | PKCS11TokenInfo.Flag.userPINFinalTry,
        "one attempt left before the PIN locks"
      ),
    ] as [(UInt, String?)])
  func retryWarningFollowsFlags(_ flags: UInt, _ expected: String?) {
    let token = PKCS11TokenInfo(slot: 0, label: "card", flags: flags)
    #expect(SmartcardLogin.retryWarning(token) == expected)
  }
}
