import Foundation
import Testing

@testable import FwdCore

@Suite struct KnownHostsPolicyTests {
  typealias Support = KnownHostsTestSupport
  let blob = Support.blob("ssh-ed25519", seed: 1)
  let oldKey = KnownHostsLocation(file: "/root/.ssh/known_hosts", line: 3)

  var subject: HostKeySubject {
    HostKeySubject(
      hopName: "sign", host: "127.0.0.1", port: 2202, keyType: "ssh-ed25519", keyBlob: blob,
      userKnownHostsFiles: ["/root/.ssh/known_hosts"])
  }

  var fingerprint: String { HostKeyBlob.fingerprint(blob) }

  @Test(arguments: [
    ("yes", StrictHostKeyChecking.yes), ("TRUE", .yes), ("accept-new", .acceptNew),
    ("no", .no), ("off", .no), ("false", .no), ("Ask", .ask),
  ])
  func parsesConfigValue(text: String, expected: StrictHostKeyChecking) {
    #expect(StrictHostKeyChecking(configValue: text) == expected)
  }

  @Test func rejectsUnknownConfigValue() {
    #expect(StrictHostKeyChecking(configValue: "maybe") == nil)
  }

  @Test(arguments: [StrictHostKeyChecking.yes, .acceptNew, .no, .ask])
  func trustedKeyIsAccepted(policy: StrictHostKeyChecking) {
    let decision = policy.decide(.trusted(oldKey), subject: subject, terminalAvailable: true)
    #expect(decision == .accept)
  }

  @Test func unknownKeyDecisions() {
    let notFound = HostKeyMessages.notFound(subject)
    let decide = { (policy: StrictHostKeyChecking, terminal: Bool) in
      policy.decide(.notFound, subject: subject, terminalAvailable: terminal)
    }
    #expect(decide(.yes, true) == .reject(message: notFound))
    #expect(decide(.acceptNew, false) == .acceptAndAdd)
    #expect(decide(.no, false) == .acceptAndAdd)
    #expect(decide(.ask, true) == .askUser)
    #expect(decide(.ask, false) == .reject(message: notFound))
  }

  @Test func changedKeyDecisions() {
    let changed = HostKeyVerification.changed(expectedKeyType: "ssh-ed25519", oldKey: oldKey)
    let message = HostKeyMessages.changed(subject, oldKeyType: "ssh-ed25519", oldKey: oldKey)
    for policy in [StrictHostKeyChecking.yes, .acceptNew, .ask] {
      let decision = policy.decide(changed, subject: subject, terminalAvailable: true)
      #expect(decision == .reject(message: message), "policy \(policy)")
    }
    let off = StrictHostKeyChecking.no.decide(changed, subject: subject, terminalAvailable: true)
    #expect(off == .acceptUnsafe(warning: HostKeyMessages.continuingUnsafely(message)))
  }

  @Test func revokedKeyDecisions() {
    let message = HostKeyMessages.revoked(subject, at: oldKey)
    for policy in [StrictHostKeyChecking.yes, .acceptNew, .ask] {
      let decision = policy.decide(.revoked(oldKey), subject: subject, terminalAvailable: true)
      #expect(decision == .reject(message: message), "policy \(policy)")
    }
    let off = StrictHostKeyChecking.no.decide(
      .revoked(oldKey), subject: subject, terminalAvailable: true)
    #expect(off == .acceptUnsafe(warning: HostKeyMessages.continuingUnsafely(message)))
  }

  @Test func notFoundMessageText() {
    let expected =
      "sign ([127.0.0.1]:2202): host key not found in /root/.ssh/known_hosts: "
      + "ED25519 key \(fingerprint); add it with ssh-keyscan -p 2202 127.0.0.1 >> "
      + "\(HostKeyMessages.abbreviatingHome("/root/.ssh/known_hosts")) after checking the "
      + "fingerprint, or use -o StrictHostKeyChecking=accept-new"
    #expect(HostKeyMessages.notFound(subject) == expected)
    #expect(!expected.contains("\n"))
  }

  @Test func notFoundMessageThroughJumpHostWithAlias() {
    var subject = self.subject
    subject.jumpHost = "build"
    subject.hostKeyAlias = "Signer"
    subject.port = 22
    let message = HostKeyMessages.notFound(subject)
    #expect(message.hasPrefix("sign (signer): host key not found in "))
    #expect(
      message.contains("add it with ssh build ssh-keyscan 127.0.0.1 | sed 's/^[^ ]*/signer/' >> "))
  }

  @Test func changedMessageText() {
    let home = KnownHostsFileIO.homeDirectory()
    var subject = self.subject
    subject.keyType = "ecdsa-sha2-nistp256"
    let defaultFile = KnownHostsLocation(file: home + "/.ssh/known_hosts", line: 3)
    let message = HostKeyMessages.changed(
      subject, oldKeyType: "ssh-ed25519", oldKey: defaultFile)
    let expected =
      "sign ([127.0.0.1]:2202): host key changed: server sent ECDSA key \(fingerprint); "
      + "the old ED25519 key is at \(home)/.ssh/known_hosts:3; "
      + "remove it with ssh-keygen -R '[127.0.0.1]:2202' if the change is expected"
    #expect(message == expected)
  }

  @Test func changedMessageNamesOtherFile() {
    let location = KnownHostsLocation(file: "/etc/ssh/ssh_known_hosts", line: 7)
    let message = HostKeyMessages.changed(subject, oldKeyType: "ssh-ed25519", oldKey: location)
    #expect(message.contains("the old ED25519 key is at /etc/ssh/ssh_known_hosts:7"))
    #expect(message.contains("ssh-keygen -f /etc/ssh/ssh_known_hosts -R '[127.0.0.1]:2202'"))
  }

  @Test func revokedMessageNamesFileAndLine() {
    let message = HostKeyMessages.revoked(subject, at: oldKey)
    #expect(message.hasPrefix("sign ([127.0.0.1]:2202): host key revoked: "))
    #expect(message.contains("ED25519 key \(fingerprint)"))
    #expect(message.contains("/root/.ssh/known_hosts:3 marks @revoked"))
    #expect(!message.contains("\n"))
  }

  @Test func shellQuoting() {
    #expect(HostKeyMessages.shellQuoted("127.0.0.1") == "127.0.0.1")
    #expect(HostKeyMessages.shellQuoted("my file") == "'my file'")
    #expect(HostKeyMessages.shellQuoted("it's") == "'it'\\''s'")
    #expect(HostKeyMessages.shellQuoted("~/a b") == "~/'a b'")
  }

  @Test func promptAcceptsYesNoAndFingerprint() {
    let cases: [([String], Bool)] = [
      (["yes"], true), (["YES "], true), ([fingerprint], true), (["no"], false), ([""], false),
      (["maybe", "yes"], true), (["SHA256:wrong", "no"], false), ([], false),
    ]
    for (answers, expected) in cases {
      var remaining = answers[...]
      var output = ""
      let accepted = HostKeyPrompt.confirm(
        subject, readLine: { remaining.popFirst() }, write: { output += $0 })
      #expect(accepted == expected, "answers \(answers)")
      #expect(output.hasPrefix(HostKeyPrompt.question(subject)))
      let retries = output.components(separatedBy: "Please type 'yes', 'no' or the fingerprint")
      #expect(retries.count == max(answers.count, 1), "answers \(answers)")
    }
  }

  @Test func promptShowsTypeAndFingerprint() {
    let question = HostKeyPrompt.question(subject)
    #expect(question.contains("'sign ([127.0.0.1]:2202)'"))
    #expect(question.contains("ED25519 key fingerprint is \(fingerprint)."))
    #expect(question.hasSuffix("(yes/no/[fingerprint])? "))
  }
}
