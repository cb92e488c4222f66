import Testing

@testable import FwdCore

@Suite struct HopSpecTests {
  struct Valid: CustomTestStringConvertible, Sendable {
    let text: String
    let user: String?
    let host: String
    let port: Int?
    var testDescription: String { text }
  }

  static let valid: [Valid] = [
    Valid(text: "build", user: nil, host: "build", port: nil),
    Valid(text: "alice@build", user: "alice", host: "build", port: nil),
    Valid(text: "build:2222", user: nil, host: "build", port: 2222),
    Valid(text: "alice@build.example.org:22", user: "alice", host: "build.example.org", port: 22),
    Valid(text: "ssh://build", user: nil, host: "build", port: nil),
    Valid(text: "ssh://alice@build:2200", user: "alice", host: "build", port: 2200),
    Valid(text: "ssh://al%40ice@build", user: "al@ice", host: "build", port: nil),
    Valid(text: "ssh://alice;fingerprint=SHA256:x@build", user: "alice", host: "build", port: nil),
    Valid(text: "[::1]", user: nil, host: "::1", port: nil),
    Valid(text: "[::1]:2222", user: nil, host: "::1", port: 2222),
    Valid(text: "user@[::1]", user: "user", host: "::1", port: nil),
    Valid(text: "user@[fe80::1%eth0]:65535", user: "user", host: "fe80::1%eth0", port: 65535),
    Valid(text: "ssh://u@[2001:db8::2]:10022", user: "u", host: "2001:db8::2", port: 10022),
    Valid(text: "fe80::1", user: nil, host: "fe80::1", port: nil),
    Valid(text: "a@b@host", user: "a@b", host: "host", port: nil),
    Valid(text: "127.0.0.1:1", user: nil, host: "127.0.0.1", port: 1),
  ]

  @Test(arguments: valid)
  func parsesValidSpec(_ item: Valid) throws {
    let hop = try HopSpec.parse(item.text)
    #expect(hop.user == item.user)
    #expect(hop.host == item.host)
    #expect(hop.port == item.port)
  }

  struct Invalid: CustomTestStringConvertible, Sendable {
    let text: String
    let message: String
    var testDescription: String { text.isEmpty ? "(empty)" : text }
  }

  static let invalid: [Invalid] = [
    Invalid(text: "", message: "invalid host '': the value is empty"),
    Invalid(text: "@build", message: "invalid host '@build': user name is empty"),
    Invalid(text: "alice@", message: "invalid host 'alice@': host is empty"),
    Invalid(text: ":22", message: "invalid host ':22': host is empty"),
    Invalid(text: "build:0", message: "invalid host 'build:0': port '0' is not a number 1-65535"),
    Invalid(
      text: "build:65536",
      message: "invalid host 'build:65536': port '65536' is not a number 1-65535"),
    Invalid(
      text: "build:ssh", message: "invalid host 'build:ssh': port 'ssh' is not a number 1-65535"),
    Invalid(text: "build:", message: "invalid host 'build:': port '' is not a number 1-65535"),
    Invalid(text: "[::1", message: "invalid host '[::1': missing ']' after the IPv6 address"),
    Invalid(
      text: "[::1]x", message: "invalid host '[::1]x': unexpected 'x' after ']'; expected ':port'"),
    Invalid(
      text: "-oProxyCommand=x",
      message: "invalid host '-oProxyCommand=x': host must not start with '-'"),
    Invalid(text: "bu ild", message: "invalid host 'bu ild': contains a space"),
    Invalid(
      text: "ssh://build/path",
      message: "invalid host 'ssh://build/path': an ssh:// destination takes no path"),
    Invalid(
      text: "ssh://%zz@build",
      message: "invalid host 'ssh://%zz@build': invalid %-escape in the user name"),
    Invalid(text: "ssh://a@b@c", message: "invalid host 'ssh://a@b@c': host 'b@c' contains '@'"),
    Invalid(text: "[a[b]", message: "invalid host '[a[b]': host 'a[b' contains '['"),
    Invalid(text: "a]b", message: "invalid host 'a]b': host 'a]b' contains ']'"),
    Invalid(
      text: "ssh://a%2Cb@h",
      message: "invalid host 'ssh://a%2Cb@h': the decoded user name contains character U+2C"),
    Invalid(
      text: "ssh://a%20b@h",
      message: "invalid host 'ssh://a%20b@h': the decoded user name contains character U+20"),
    Invalid(
      text: "-\u{301}x", message: "invalid host '-\u{301}x': host must not start with '-'"),
  ]

  @Test(arguments: invalid)
  func rejectsInvalidSpec(_ item: Invalid) {
    #expect(throws: FwdError.self) { try HopSpec.parse(item.text) }
    do {
      _ = try HopSpec.parse(item.text)
    } catch {
      #expect(error.message == item.message)
      #expect(error.status == .usage)
    }
  }

  @Test func labelNamesTheValue() {
    do {
      _ = try HopSpec.parse("x@", label: "-J hop")
      Issue.record("expected an error")
    } catch {
      #expect(error.message == "invalid -J hop 'x@': host is empty")
    }
  }

  @Test(arguments: [
    ("build", "build"), ("a@b:2", "a@b:2"), ("[::1]:22", "[::1]:22"), ("::1", "[::1]"),
    ("ssh://u@h:3", "u@h:3"), ("[a:b,c]", "[a:b,c]"), ("ssh://a%40b@h", "a@b@h"),
  ])
  func descriptionRoundTrips(_ text: String, _ expected: String) throws {
    let hop = try HopSpec.parse(text)
    #expect(hop.description == expected)
    #expect(try HopSpec.parse(hop.description) == hop)
  }

  @Test func namesLimitedTo1024Bytes() throws {
    let longest = String(repeating: "h", count: 1024)
    #expect(try HopSpec.parse("u@" + longest).host == longest)
    #expect(try HopSpec.parse(longest + "@h").user == longest)
    do {
      _ = try HopSpec.parse(longest + "h")
      Issue.record("expected an error for a 1025-byte host")
    } catch {
      #expect(error.message.hasSuffix(": host is longer than 1024 bytes"))
    }
    do {
      _ = try HopSpec.parse(longest + "u@h")
      Issue.record("expected an error for a 1025-byte user")
    } catch {
      #expect(error.message.hasSuffix(": user name is longer than 1024 bytes"))
    }
  }

  @Test func separatorsFoundByScalar() throws {
    // A combining acute accent joins the `@` before it into one Character.
    let hop = try HopSpec.parse("u@\u{301}h:2")
    #expect(hop.user == "u")
    #expect(hop.host == "\u{301}h")
    #expect(hop.port == 2)
    let hops = try HopSpec.parseList("a,\u{301}b", label: "-J hop")
    #expect(hops.map(\.host) == ["a", "\u{301}b"])
  }

  @Test func listKeepsConnectionOrder() throws {
    let hops = try HopSpec.parseList("a,u@b:2,[::1]:3", label: "-J hop")
    #expect(hops.map(\.host) == ["a", "b", "::1"])
    #expect(hops[1].user == "u")
    #expect(hops[2].port == 3)
  }

  @Test func listRejectsEmptyElement() {
    #expect(throws: FwdError.self) { try HopSpec.parseList("a,,b", label: "-J hop") }
  }
}
