import Testing

@testable import FwdCore

@Suite struct HelpTextTests {
  @Test func synopsisMatchesDocumentedForm() {
    #expect(
      HelpText.synopsis
        == "fwd [-46NfGgqvV] [-D [bind_address:]port] [-E log_file] [-F configfile] "
        + "[-I pkcs11_module] [-i identity_file] [-J destination] "
        + "[-L [bind_address:]port:host:hostport] [-H hop:[bind_address:]port:host:hostport] "
        + "[-l login_name] [-o option] [-R [bind_address:]port:host:hostport] [-W host:port] "
        + "[-p port] destination"
    )
  }

  @Test func usageWrapsAt80Columns() {
    let lines = HelpText.usage.split(separator: "\n")
    #expect(lines.count > 1)
    #expect(lines.allSatisfy { $0.count <= 80 })
    #expect(lines[0].hasPrefix("usage: fwd [-46NfGgqvV]"))
    let rejoined = lines.map { $0.trimmingPrefix(while: \.isWhitespace) }.joined(separator: " ")
    #expect(rejoined == "usage: " + HelpText.synopsis)
  }

  @Test(arguments: OptionTable.all.map(\.spelling))
  func everyOptionInHelp(_ spelling: String) throws {
    let text = HelpText.render()
    let option = try #require(OptionTable.all.first { $0.spelling == spelling })
    #expect(text.contains("\n  \(spelling)"))
    if let longName = option.longName { #expect(text.contains("--\(longName)")) }
    if let argument = option.argumentName { #expect(text.contains("\(spelling) \(argument)")) }
    let firstWords = option.help.split(separator: " ").prefix(3).joined(separator: " ")
    #expect(text.contains(firstWords))
  }

  @Test(arguments: FwdCore.ExitStatus.allCases)
  func everyExitStatusInHelp(_ status: FwdCore.ExitStatus) {
    let text = HelpText.render()
    let line = text.split(separator: "\n").first { $0.hasSuffix("  " + status.meaning) }
    #expect(line?.trimmingPrefix(while: \.isWhitespace).hasPrefix("\(status.rawValue) ") == true)
  }

  @Test func helpLinesFitTheWidth() {
    for line in HelpText.render().split(separator: "\n") {
      #expect(line.count <= 80, "too long: \(line)")
    }
  }

  @Test func parserAcceptsEveryOption() throws {
    for option in OptionTable.all where option.action != .help && option.action != .version {
      var arguments = [option.spelling]
      if option.argumentName != nil { arguments.append(sampleArgument(option.spelling)) }
      arguments.append("dest")
      guard case .run = try ParsedCommand.parse(arguments) else {
        Issue.record("\(option.spelling) did not parse to .run")
        continue
      }
    }
  }

  private func sampleArgument(_ spelling: String) -> String {
    switch spelling {
    case "-L", "-R": "1:h:2"
    case "-H": "jump:1:h:2"
    case "-D": "1080"
    case "-W": "h:22"
    case "-p": "22"
    case "-o": "Port=22"
    case "-J": "jump"
    case "--ready-fd", "--pin-fd", "--rebuild-attempts": "3"
    default: "value"
    }
  }
}
