import Foundation
import Glibc

/// An SSH key algorithm the lab generates with `ssh-keygen -t`.
public enum LabKeyType: String, CaseIterable, Sendable {
  case ed25519
  /// ECDSA on NIST P-256, ssh-keygen's default size.
  case ecdsa
  /// RSA of ssh-keygen's default size (3072 bits in OpenSSH 9.2).
  case rsa

  /// The key type name that starts a public key line, e.g. "ssh-ed25519".
  public var publicKeyName: String {
    switch self {
    case .ed25519: "ssh-ed25519"
    case .ecdsa: "ecdsa-sha2-nistp256"
    case .rsa: "ssh-rsa"
    }
  }
}

/// A key pair in OpenSSH format, written by ssh-keygen into the lab's files.
public struct LabKey: Sendable {
  public let type: LabKeyType
  public let privateKeyPath: String
  public let publicKeyPath: String
  /// The public key line without its newline, e.g. "ssh-ed25519 AAAA... comment"; it is also a
  /// valid authorized_keys line.
  public let publicKey: String
  public let isPassphraseProtected: Bool

  /// The public key line without its comment: "type base64".
  public var publicKeyWithoutComment: String {
    publicKey.split(separator: " ").prefix(2).joined(separator: " ")
  }
}

/// Key generation with ssh-keygen.
enum KeyGenerator {
  static let sshKeygen = "/usr/bin/ssh-keygen"

  /// Generates a key pair at `path` and `path`.pub.
  ///
  /// A passphrase reaches ssh-keygen through SSH_ASKPASS, never on its command line: ssh-keygen
  /// reads it through the askpass program because its standard input is not a terminal.
  static func generate(
    type: LabKeyType, path: String, comment: String, passphrase: String? = nil
  ) throws -> LabKey {
    var arguments = ["-q", "-t", type.rawValue, "-C", comment, "-f", path]
    var environment: [String: String]? = nil
    var secretFiles: [String] = []
    defer {
      for path in secretFiles { unlink(path) }
    }
    if let passphrase {
      let passphrasePath = path + ".passphrase"
      let askpassPath = path + ".askpass"
      secretFiles = [passphrasePath, askpassPath]
      try writeFile(passphrasePath, passphrase, mode: 0o600)
      try writeFile(askpassPath, "#!/bin/sh\nexec cat '\(passphrasePath)'\n", mode: 0o700)
      var inherited = ProcessInfo.processInfo.environment
      inherited["SSH_ASKPASS"] = askpassPath
      inherited["SSH_ASKPASS_REQUIRE"] = "force"
      environment = inherited
    } else {
      arguments += ["-N", ""]
    }
    let result = try runTool(sshKeygen, arguments, environment: environment)
    guard result.status == 0 else {
      throw LabError(
        "generate \(type.rawValue) key \(path): ssh-keygen exited with status \(result.status): "
          + result.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return try load(type: type, path: path, isPassphraseProtected: passphrase != nil)
  }

  /// Describes the key pair at `path` and `path`.pub.
  static func load(type: LabKeyType, path: String, isPassphraseProtected: Bool) throws -> LabKey {
    let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    return LabKey(
      type: type, privateKeyPath: path, publicKeyPath: path + ".pub", publicKey: publicKey,
      isPassphraseProtected: isPassphraseProtected)
  }
}

/// Writes `text` to `path` with permission bits `mode`, replacing any file there.
func writeFile(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
  unlink(path)
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
  guard fd >= 0 else { throw LabError("write \(path): open failed: \(errnoText())") }
  defer { close(fd) }
  fchmod(fd, mode)
  let bytes = Array(text.utf8)
  var offset = 0
  while offset < bytes.count {
    let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    if written < 0 && errno == EINTR { continue }
    guard written > 0 else { throw LabError("write \(path): write failed: \(errnoText())") }
    offset += written
  }
}

/// Copies the file at `source` to `destination` with permission bits `mode`.
func copyFile(_ source: String, to destination: String, mode: mode_t) throws {
  let text = try String(contentsOfFile: source, encoding: .utf8)
  try writeFile(destination, text, mode: mode)
}
