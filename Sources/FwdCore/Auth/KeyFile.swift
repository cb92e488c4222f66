/// What fwd needs to know about a private key file before handing it to libssh2.
struct KeyFile {
  let path: String

  /// Whether the key is protected by a passphrase: an OpenSSH-format key whose cipher is not
  /// "none", or a PEM key marked encrypted.
  static func isEncrypted(path: String) -> Bool {
    guard case .contents(let raw) = KnownHostsFileIO.readFile(path),
      let text = String(validating: raw, as: UTF8.self)
    else { return false }
    if text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
      return true
    }
    guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
    let body = text.split(whereSeparator: \.isNewline)
      .filter { !$0.hasPrefix("-----") }
      .joined()
    guard let bytes = Base64.decode(body) else { return false }
    let magic = Array("openssh-key-v1".utf8) + [0]
    guard bytes.count > magic.count + 4, Array(bytes[0..<magic.count]) == magic else { return false }
    var offset = magic.count
    let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
    offset += 4
    guard offset + length <= bytes.count else { return false }
    let cipher = String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    return cipher != "none"
  }
}
