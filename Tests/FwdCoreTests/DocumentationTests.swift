import Foundation
import Testing

@testable import FwdCore

/// The man page, --help and the shell completions against the option table and exit statuses.
@Suite struct DocumentationTests {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  static let manPage = root + "/docs/fwd.1"

  static func text(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
  }

  /// Returns the lines of one `.SH` section of the man page, with roff's `\-` turned into `-`.
  static func section(_ name: String) throws -> [String] {
    let lines = try text(manPage).replacingOccurrences(of: "\\-", with: "-")
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(of: ".SH \(name)") else { return [] }
    let rest = lines[(start + 1)...]
    let end = rest.firstIndex { $0.hasPrefix(".SH ") } ?? rest.endIndex
    return Array(rest[..<end])
  }

  /// Returns the words starting with `-` in the tag line after each `.TP` of OPTIONS, e.g. `-E`,
  /// `--pidfile`.
  static func manOptionSpellings() throws -> Set<String> {
    let lines = try section("OPTIONS")
    var spellings: Set<String> = []
    for (index, line) in lines.enumerated() where line.hasPrefix(".TP") && index + 1 < lines.count {
      let words = lines[index + 1].split(whereSeparator: { " \",".contains($0) })
      spellings.formUnion(words.filter { $0.hasPrefix("-") }.map(String.init))
    }
    return spellings
  }

  /// Valid values for options whose argument is not a number.
  static let sampleArguments = [
    "-L": "1:h:2", "-R": "1:h:2", "-H": "jump:1:h:2", "-W": "h:22", "-D": "1080", "-o": "Port=22",
  ]

  static func spellings(_ option: OptionSpec) -> [String] {
    var result: [String] = []
    if let flag = option.flag { result.append("-\(flag)") }
    if let longName = option.longName { result.append("--\(longName)") }
    return result
  }

  @Test(arguments: OptionTable.all.map(\.spelling))
  func optionInParserHelpAndManPage(_ spelling: String) throws {
    let option = try #require(OptionTable.all.first { $0.spelling == spelling })
    let help = HelpText.render()
    let manSpellings = try Self.manOptionSpellings()
    for form in Self.spellings(option) {
      var arguments = [form]
      if option.argumentName != nil { arguments.append(Self.sampleArguments[form] ?? "3") }
      let parsed = try? ParsedCommand.parse(arguments + ["dest"])
      #expect(parsed != nil, "parser rejects \(arguments)")
      #expect(help.contains(form), "--help lacks \(form)")
      #expect(manSpellings.contains(form), "man page OPTIONS lacks \(form)")
    }
  }

  @Test func manPageListsOnlyAcceptedOptions() throws {
    let known = Set(OptionTable.all.flatMap(Self.spellings))
    for spelling in try Self.manOptionSpellings() {
      #expect(known.contains(spelling), "man page documents unknown option \(spelling)")
    }
  }

  @Test(arguments: FwdCore.ExitStatus.allCases)
  func exitStatusInManPage(_ status: FwdCore.ExitStatus) throws {
    #expect(try Self.section("EXIT STATUS").contains(".B \(status.rawValue)"))
  }

  @Test(arguments: [
    "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FORWARDING", "PIN SOURCES", "EXIT STATUS",
    "ENVIRONMENT", "FILES", "EXAMPLES", "LIMITS",
  ])
  func manPageHasSection(_ name: String) throws {
    #expect(try !Self.section(name).isEmpty)
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff")))
  func manPageRendersWithoutWarnings() throws {
    let groff = Process()
    groff.executableURL = URL(fileURLWithPath: "/usr/bin/groff")
    groff.arguments = ["-man", "-Tutf8", "-ww", "-z", Self.manPage]
    let errors = Pipe()
    groff.standardError = errors
    try groff.run()
    let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    groff.waitUntilExit()
    #expect(groff.terminationStatus == 0)
    #expect(output.isEmpty, "groff warnings: \(output)")
  }

  @Test(arguments: OptionTable.all.flatMap(Self.spellings))
  func optionInCompletions(_ spelling: String) throws {
    let bash = try Self.text(Self.root + "/docs/completions/fwd.bash")
    let zsh = try Self.text(Self.root + "/docs/completions/_fwd")
    let bashWords = bash.split(whereSeparator: { " \n\"".contains($0) })
    #expect(bashWords.contains(Substring(spelling)), "fwd.bash lacks \(spelling)")
    // Specs look like '-q[...]', '-E+[...]', '*-L+[...]', '--pidfile=[...]' or {-V,--version}.
    let zshForms = [
      "'\(spelling)[", "'\(spelling)+[", "'*\(spelling)[", "'*\(spelling)+[", "'\(spelling)=[",
      "{\(spelling),", ",\(spelling)}",
    ]
    #expect(zshForms.contains { zsh.contains($0) }, "_fwd lacks \(spelling)")
  }

  @Test func bashCompletionOffersOptionsAndHosts() throws {
    let home = NSTemporaryDirectory() + "fwd-completion-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: home) }
    try "Host build sign\n  Port 22\nHost *.example\nhost deep\n".write(
      toFile: home + "/.ssh/config", atomically: true, encoding: .utf8)
    let script = """
      source "$1"
      for line in "fwd --pi" "fwd -J bu" "fwd -J build,s" "fwd -L 1:h:2 d" "fwd -E "; do
        read -ra COMP_WORDS <<< "$line"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _fwd
        echo "${COMPREPLY[*]}"
      done
      """
    let bash = Process()
    bash.executableURL = URL(fileURLWithPath: "/bin/bash")
    bash.arguments = ["-c", script, "bash", Self.root + "/docs/completions/fwd.bash"]
    bash.environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
    bash.currentDirectoryURL = URL(fileURLWithPath: home)
    let output = Pipe()
    bash.standardOutput = output
    try bash.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    bash.waitUntilExit()
    #expect(
      text.split(separator: "\n", omittingEmptySubsequences: false) == [
        "--pidfile --pin-fd --pin-file --pin-allow-final-try", "build", "build,sign", "deep",
        ".ssh", "",
      ])
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh")))
  func zshCompletionParses() throws {
    let zsh = Process()
    zsh.executableURL = URL(fileURLWithPath: "/usr/bin/zsh")
    zsh.arguments = ["-n", Self.root + "/docs/completions/_fwd"]
    try zsh.run()
    zsh.waitUntilExit()
    #expect(zsh.terminationStatus == 0)
  }
}
