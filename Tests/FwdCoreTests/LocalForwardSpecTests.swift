import Testing

@testable import FwdCore

@Suite struct LocalForwardSpecTests {
  struct Valid: CustomTestStringConvertible, Sendable {
    let text: String
    let expected: LocalForwardSpec
    var testDescription: String { text }
  }

  static let valid: [Valid] = [
    Valid(
      text: "4444:localhost:4444",
      expected: .init(listenPort: 4444, targetHost: "localhost", targetPort: 4444)),
    Valid(text: "0:db:5432", expected: .init(listenPort: 0, targetHost: "db", targetPort: 5432)),
    Valid(
      text: "127.0.0.1:8080:web:80",
      expected: .init(bindAddress: "127.0.0.1", listenPort: 8080, targetHost: "web", targetPort: 80)
    ),
    Valid(
      text: "*:8080:web:80",
      expected: .init(bindAddress: "*", listenPort: 8080, targetHost: "web", targetPort: 80)),
    Valid(
      text: ":8080:web:80",
      expected: .init(bindAddress: "", listenPort: 8080, targetHost: "web", targetPort: 80)),
    Valid(
      text: "[::1]:8080:[fe80::1]:80",
      expected: .init(bindAddress: "::1", listenPort: 8080, targetHost: "fe80::1", targetPort: 80)),
    Valid(
      text: "8080:[::1]:22", expected: .init(listenPort: 8080, targetHost: "::1", targetPort: 22)),
    Valid(
      text: "localhost:65535:h:65535",
      expected: .init(
        bindAddress: "localhost", listenPort: 65535, targetHost: "h", targetPort: 65535)),
    Valid(text: "  5000:h:1", expected: .init(listenPort: 5000, targetHost: "h", targetPort: 1)),
    Valid(
      text: "/tmp/fwd.sock:db:5432",
      expected: .init(
        listener: .unixSocket(path: "/tmp/fwd.sock"), target: .tcp(host: "db", port: 5432))),
    Valid(
      text: "5432:/run/postgresql/.s.PGSQL.5432",
      expected: .init(
        listener: .tcp(bindAddress: nil, port: 5432),
        target: .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"))),
  ]

  @Test(arguments: valid)
  func parsesValidForward(_ item: Valid) throws {
    #expect(try LocalForwardSpec.parse(item.text) == item.expected)
  }

  struct Invalid: CustomTestStringConvertible, Sendable {
    let text: String
    let message: String
    var testDescription: String { text.isEmpty ? "(empty)" : text }
  }

  static let invalid: [Invalid] = [
    Invalid(
      text: "4444", message: "invalid -L forward '4444': expected [bind_address:]port:host:hostport"
    ),
    Invalid(text: "", message: "invalid -L forward '': expected [bind_address:]port:host:hostport"),
    Invalid(
      text: "4444:h",
      message: "invalid -L forward '4444:h': expected [bind_address:]port:host:hostport"),
    Invalid(
      text: "a:b:c", message: "invalid -L forward 'a:b:c': listen port 'a' is not a number 0-65535"),
    Invalid(
      text: "1:b:c", message: "invalid -L forward '1:b:c': target port 'c' is not a number 1-65535"),
    Invalid(
      text: "70000:h:1",
      message: "invalid -L forward '70000:h:1': listen port '70000' is not a number 0-65535"),
    Invalid(
      text: "1:h:0", message: "invalid -L forward '1:h:0': target port '0' is not a number 1-65535"),
    Invalid(
      text: "1:h:70000",
      message: "invalid -L forward '1:h:70000': target port '70000' is not a number 1-65535"),
    Invalid(text: "4444::80", message: "invalid -L forward '4444::80': target host is empty"),
    Invalid(text: "4444:[]:80", message: "invalid -L forward '4444:[]:80': target host is empty"),
    Invalid(
      text: "a:1:h:2:3",
      message: "invalid -L forward 'a:1:h:2:3': expected [bind_address:]port:host:hostport"),
    Invalid(
      text: "[::1:8080:h:80",
      message: "invalid -L forward '[::1:8080:h:80': expected [bind_address:]port:host:hostport"),
    Invalid(
      text: "[::1]x:8080:h:80",
      message: "invalid -L forward '[::1]x:8080:h:80': expected [bind_address:]port:host:hostport"),
    Invalid(
      text: "-1:h:1",
      message: "invalid -L forward '-1:h:1': listen port '-1' is not a number 0-65535"),
  ]

  @Test(arguments: invalid)
  func rejectsInvalidForward(_ item: Invalid) {
    do {
      _ = try LocalForwardSpec.parse(item.text)
      Issue.record("expected an error for '\(item.text)'")
    } catch {
      #expect(error.message == item.message)
      #expect(error.status == .usage)
    }
  }

  @Test func bindAllForStarAndEmpty() throws {
    #expect(try LocalForwardSpec.parse("*:1:h:2").bindsAllAddresses)
    #expect(try LocalForwardSpec.parse(":1:h:2").bindsAllAddresses)
    #expect(try !LocalForwardSpec.parse("1:h:2").bindsAllAddresses)
    #expect(try !LocalForwardSpec.parse("localhost:1:h:2").bindsAllAddresses)
  }

  @Test(arguments: [
    "4444:localhost:4444", "[::1]:8080:[fe80::1]:80", ":1:h:2", "*:1:h:2", "/a/b:h:1",
    #"/a\:b:h:1"#, #"/a\\b:[x\]:1"#, #"1:\[h:2"#, #"/a:/b\:c"#, #"a\]\:b:1:h:2"#,
  ])
  func descriptionRoundTrips(_ text: String) throws {
    let forward = try LocalForwardSpec.parse(text)
    #expect(try LocalForwardSpec.parse(forward.description) == forward)
  }

  @Test func colonFoundByScalar() throws {
    // U+0600 is a prepended concatenation mark, which joins the `:` after it into one
    // Character.
    let forward = try LocalForwardSpec.parse("\u{600}:1:h:2")
    #expect(forward.bindAddress == "\u{600}")
    #expect(forward.listenPort == 1)
  }

  @Test func backslashEscapesColon() throws {
    let forward = try LocalForwardSpec.parse(#"1:we\:b:2"#)
    #expect(forward.targetHost == "we:b")
  }
}
