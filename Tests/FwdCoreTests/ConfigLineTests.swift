import Testing

@testable import FwdCore

@Suite struct ConfigLineTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let line: String
    let keyword: String?
    let arguments: [String]
    var testDescription: String { line.debugDescription }
  }

  static let cases: [Case] = [
    Case(line: "Port 22", keyword: "Port", arguments: ["22"]),
    Case(line: "Port=22", keyword: "Port", arguments: ["22"]),
    Case(line: "Port = 22", keyword: "Port", arguments: ["22"]),
    Case(line: "Port =22", keyword: "Port", arguments: ["22"]),
    Case(line: "Port= 22", keyword: "Port", arguments: ["22"]),
    Case(line: "  \tPort\t22  ", keyword: "Port", arguments: ["22"]),
    Case(line: "Port 22\r", keyword: "Port", arguments: ["22"]),
    Case(line: "Port 22 # comment", keyword: "Port", arguments: ["22"]),
    Case(line: "Port 22#not-a-comment", keyword: "Port", arguments: ["22#not-a-comment"]),
    Case(line: "# Port 22", keyword: nil, arguments: []),
    Case(line: "   ", keyword: nil, arguments: []),
    Case(line: "", keyword: nil, arguments: []),
    Case(line: "\r", keyword: nil, arguments: []),
    Case(line: #"IdentityFile "/a b/id""#, keyword: "IdentityFile", arguments: ["/a b/id"]),
    Case(line: "IdentityFile '/a b/id'", keyword: "IdentityFile", arguments: ["/a b/id"]),
    Case(line: #"User a"b c"d"#, keyword: "User", arguments: ["ab cd"]),
    Case(line: #"User a\ b"#, keyword: "User", arguments: ["a b"]),
    Case(line: #"User "a\"b""#, keyword: "User", arguments: [#"a"b"#]),
    Case(line: #"User a\qb"#, keyword: "User", arguments: [#"a\qb"#]),
    Case(line: #"Host "" x"#, keyword: "Host", arguments: ["", "x"]),
    Case(line: "Host a b\tc", keyword: "Host", arguments: ["a", "b", "c"]),
    Case(line: "Port==22", keyword: "Port", arguments: ["=22"]),
  ]

  @Test(arguments: cases)
  func splitsLikeOpenSSH(_ item: Case) throws {
    let line = try ConfigLine.split(Substring(item.line)).get()
    #expect(line?.keyword == item.keyword)
    #expect((line?.arguments ?? []) == item.arguments)
  }

  @Test func rawArgumentsKeepQuotes() throws {
    let line = try #require(try ConfigLine.split("ProxyCommand nc \"%h\" %p # c").get())
    #expect(line.rawArguments == "nc \"%h\" %p # c")
  }

  @Test func missingArgument() {
    #expect(
      ConfigLine.split("Port") == .failure(.init(reason: "no argument after keyword 'Port'")))
    #expect(
      ConfigLine.split("Port =  ") == .failure(.init(reason: "no argument after keyword 'Port'")))
  }

  @Test func unterminatedQuote() {
    #expect(
      ConfigLine.split(#"User "abc"#) == .failure(.init(reason: #"unterminated quote in '"abc'"#)))
  }
}

@Suite struct HostPatternTests {
  @Test(arguments: [
    ("build", "build", true), ("build", "Build", false), ("build", "b*", true),
    ("build", "*d", true), ("build", "b?ild", true), ("build", "b?d", false),
    ("build", "*", true), ("", "*", true), ("a.b.c", "*.c", true), ("a.b.c", "*.b", false),
    ("aXbXc", "a*b*c", true), ("abc", "a*b*c*", true), ("ab", "a*b*c", false),
    ("10.0.0.5", "10.0.0.?", true), ("10.0.0.55", "10.0.0.?", false),
  ])
  func wildcardPattern(_ text: String, _ pattern: String, _ expected: Bool) {
    #expect(HostPattern.matches(text, pattern: pattern) == expected)
  }

  @Test(arguments: [
    ("web1", "web*,db*", HostPattern.ListMatch.matched),
    ("db2", "web*,db*", .matched),
    ("mail", "web*,db*", .notMatched),
    ("web1", "*,!web1", .negated),
    ("web2", "*,!web1", .matched),
    ("web1", "!web1", .negated),
    ("web2", "!web1", .notMatched),
  ])
  func patternList(_ text: String, _ list: String, _ expected: HostPattern.ListMatch) {
    #expect(HostPattern.matchesList(text, list: list, lowercasePatterns: false) == expected)
  }

  @Test func hostLineNegationExcludes() {
    #expect(HostPattern.hostLineMatches("web", patterns: ["*", "!bastion"]))
    #expect(!HostPattern.hostLineMatches("bastion", patterns: ["*", "!bastion"]))
    #expect(!HostPattern.hostLineMatches("bastion", patterns: ["!bastion", "*"]))
    #expect(!HostPattern.hostLineMatches("web", patterns: ["!bastion"]))
  }
}
