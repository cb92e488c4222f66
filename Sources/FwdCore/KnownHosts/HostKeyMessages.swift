/// One-line messages about host keys. The caller prints each as `fwd: <text>`.
public enum HostKeyMessages {
  /// Formats the rejection of a key that no known_hosts file lists, for a policy that does not
  /// allow adding it.
  public static func notFound(_ subject: HostKeySubject) -> String {
    let files = subject.userKnownHostsFiles.map(KnownHostsFileIO.expandTilde)
    let searched = files.isEmpty ? "any known_hosts file" : files.joined(separator: " or ")
    return "\(subject.context): host key not found in \(searched): "
      + "\(keyDescription(subject)); add it with \(keyscanCommand(subject)) "
      + "after checking the fingerprint, or use -o StrictHostKeyChecking=accept-new"
  }

  /// Formats the rejection of a key when known_hosts lists other keys for the host.
  /// `oldKeyType` and `oldKey` come from `HostKeyVerification.changed`.
  public static func changed(
    _ subject: HostKeySubject, oldKeyType: String, oldKey: KnownHostsLocation
  ) -> String {
    let oldType = HostKeyBlob.displayName(keyType: oldKeyType)
    return "\(subject.context): host key changed: server sent \(keyDescription(subject)); "
      + "the old \(oldType) key is at \(oldKey); remove it with "
      + "\(removeCommand(subject, file: oldKey.file)) if the change is expected"
  }

  /// Formats the rejection of a key that a `@revoked` line lists.
  public static func revoked(_ subject: HostKeySubject, at location: KnownHostsLocation) -> String {
    "\(subject.context): host key revoked: server sent \(keyDescription(subject)), "
      + "which \(location) marks @revoked; the key may be stolen, so get the host's new key "
      + "from its administrator"
  }

  /// Formats the rejection of a key the user did not accept at the `ask` prompt.
  public static func declined(_ subject: HostKeySubject) -> String {
    "\(subject.context): host key not accepted at the prompt: \(keyDescription(subject))"
  }

  /// Formats the warning, logged at error level, when StrictHostKeyChecking no lets fwd go on
  /// with a changed or revoked key. `problem` is the `changed` or `revoked` message.
  public static func continuingUnsafely(_ problem: String) -> String {
    problem + "; continuing because StrictHostKeyChecking is no"
  }

  /// Formats the note that the key was appended to `file` (accept-new, no, or a confirmed
  /// prompt).
  public static func added(_ subject: HostKeySubject, to file: String) -> String {
    "\(subject.context): added \(keyDescription(subject)) to \(file)"
  }

  /// Describes the key as `ED25519 key SHA256:...`.
  public static func keyDescription(_ subject: HostKeySubject) -> String {
    "\(subject.keyTypeDisplayName) key \(subject.fingerprint)"
  }

  /// Returns a command line that fetches the host's keys into the first user known_hosts
  /// file, run through the jump host when there is one.
  static func keyscanCommand(_ subject: HostKeySubject) -> String {
    var command = "ssh-keyscan"
    if subject.port != 22 { command += " -p \(subject.port)" }
    command += " " + shellQuoted(subject.host)
    if let jump = subject.jumpHost { command = "ssh \(shellQuoted(jump)) " + command }
    if let alias = subject.hostKeyAlias {
      // ssh-keyscan names the lines by address; ssh looks them up under the alias.
      command += " | sed 's/^[^ ]*/\(alias.lowercased())/'"
    }
    return command + " >> " + abbreviatingHome(subject.userKnownHostsFile)
  }

  /// Returns the ssh-keygen command that removes the host's lines from `file`.
  static func removeCommand(_ subject: HostKeySubject, file: String) -> String {
    var command = "ssh-keygen"
    let defaultFile = KnownHostsFileIO.expandTilde("~/.ssh/known_hosts")
    if file != defaultFile { command += " -f " + shellQuoted(abbreviatingHome(file)) }
    return command + " -R '\(subject.lookup.name)'"
  }

  /// Quotes a word for a POSIX shell when it contains anything but safe characters. A leading
  /// `~/` stays outside the quotes so the shell still expands it.
  static func shellQuoted(_ word: String) -> String {
    if word.hasPrefix("~/") { return "~/" + shellQuoted(String(word.dropFirst(2))) }
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-")
    if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
    return "'" + word.replacing("'", with: "'\\''") + "'"
  }

  static func abbreviatingHome(_ path: String) -> String {
    let home = KnownHostsFileIO.homeDirectory()
    guard home != "/", path.hasPrefix(home + "/") else { return path }
    return "~" + path.dropFirst(home.count)
  }
}
