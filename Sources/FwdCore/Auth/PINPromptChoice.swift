/// The interactive way to ask for a PIN, chosen by the rules OpenSSH 9 applies to its own PIN
/// and passphrase prompts (readpass.c).
///
/// Askpass is allowed when `DISPLAY` or `WAYLAND_DISPLAY` is set and not empty. It is used
/// when no terminal can be opened, or always when `SSH_ASKPASS_REQUIRE` is `prefer` (and
/// askpass is allowed) or `force` (allowed or not). `SSH_ASKPASS_REQUIRE=never` forbids it.
/// The program is `SSH_ASKPASS`, else Debian's `/usr/bin/ssh-askpass`.
enum PINPromptChoice {
  case terminal(TerminalPINReader)
  case askpass(String)
  case none

  static let defaultAskpass = "/usr/bin/ssh-askpass"

  init(environment: PINEnvironment) {
    let variables = environment.variables
    func isSet(_ name: String) -> Bool { !(variables[name] ?? "").isEmpty }
    var allowAskpass = isSet("DISPLAY") || isSet("WAYLAND_DISPLAY")
    var useAskpass = false
    switch variables["SSH_ASKPASS_REQUIRE"]?.lowercased() {
    case "force":
      useAskpass = true
      allowAskpass = true
    case "prefer":
      useAskpass = allowAskpass
    case "never":
      allowAskpass = false
    default:
      break
    }
    let terminal = useAskpass ? nil : TerminalPINReader(path: environment.terminalPath)
    if terminal == nil { useAskpass = true }
    if useAskpass && allowAskpass {
      let program = variables["SSH_ASKPASS"].flatMap { $0.isEmpty ? nil : $0 }
      self = .askpass(program ?? PINPromptChoice.defaultAskpass)
    } else if let terminal {
      self = .terminal(terminal)
    } else {
      self = .none
    }
  }
}
