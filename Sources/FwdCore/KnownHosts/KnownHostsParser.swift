/// The parser for OpenSSH 9.x known_hosts text.
///
/// Each line is `[@marker] hosts keytype base64-blob [comment]`, with fields separated by
/// spaces or tabs. Blank lines and lines whose first non-blank character is `#` are ignored.
/// A line that does not parse is reported in `skipped` and the rest of the file still counts,
/// unlike libssh2 1.10's reader, which stops at the first such line.
public enum KnownHostsParser {
  public struct Result: Equatable, Sendable {
    public var entries: [KnownHostsEntry] = []
    public var skipped: [KnownHostsSkippedLine] = []
  }

  /// Parses the bytes of a known_hosts file; `file` only names the lines' locations.
  /// Lines may end in LF or CRLF and have any length.
  public static func parse(_ bytes: [UInt8], file: String) -> Result {
    var result = Result()
    var lineNumber = 0
    var lineStart = 0
    while lineStart < bytes.count {
      let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
      lineNumber += 1
      var contentEnd = lineEnd
      if contentEnd > lineStart && bytes[contentEnd - 1] == UInt8(ascii: "\r") {
        contentEnd -= 1
      }
      let text = String(decoding: bytes[lineStart..<contentEnd], as: UTF8.self)
      let location = KnownHostsLocation(file: file, line: lineNumber)
      switch parseLine(text, location: location) {
      case .blank: break
      case .entry(let entry): result.entries.append(entry)
      case .invalid(let reason):
        result.skipped.append(KnownHostsSkippedLine(location: location, reason: reason))
      }
      lineStart = lineEnd + 1
    }
    return result
  }

  public static func parse(_ text: String, file: String) -> Result {
    parse(Array(text.utf8), file: file)
  }

  enum LineResult: Equatable {
    case blank
    case entry(KnownHostsEntry)
    case invalid(String)
  }

  static func parseLine(_ line: String, location: KnownHostsLocation) -> LineResult {
    var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })[...]
    guard let first = fields.first, !first.hasPrefix("#") else { return .blank }

    var marker = KnownHostsMarker.none
    if first.hasPrefix("@") {
      switch first {
      case "@revoked": marker = .revoked
      case "@cert-authority": marker = .certificateAuthority
      default: return .invalid("unknown marker '\(first)'")
      }
      fields = fields.dropFirst()
    }

    guard let hostText = fields.popFirst() else { return .invalid("missing host names") }
    guard let keyType = fields.popFirst(), !keyType.hasPrefix("#") else {
      return .invalid("missing key type after the host names")
    }
    guard let keyText = fields.popFirst(), !keyText.hasPrefix("#") else {
      return .invalid("missing key after key type '\(keyType)'")
    }
    let hosts: KnownHostsHostField
    switch parseHostField(hostText) {
    case .success(let field): hosts = field
    case .failure(let error): return .invalid(error.reason)
    }
    guard let blob = Base64.decode(keyText), !blob.isEmpty else {
      return .invalid("key for type '\(keyType)' is not valid base64")
    }
    guard let blobType = HostKeyBlob.keyTypeName(blob) else {
      return .invalid("key for type '\(keyType)' is not an SSH public key blob")
    }
    guard blobType == keyType else {
      return .invalid("key type '\(keyType)' does not match the key, which is '\(blobType)'")
    }

    let commentText = fields.joined(separator: " ")
    let entry = KnownHostsEntry(
      marker: marker, hosts: hosts, keyType: String(keyType), keyBlob: blob,
      comment: commentText.isEmpty ? nil : commentText, location: location)
    return .entry(entry)
  }

  struct HostFieldError: Error {
    let reason: String
  }

  static func parseHostField(_ text: Substring) -> Swift.Result<KnownHostsHostField, HostFieldError> {
    guard text.hasPrefix("|") else {
      let patterns = text.split(separator: ",", omittingEmptySubsequences: false)
      return .success(.patterns(patterns.map { $0.lowercased() }))
    }
    // As in OpenSSH, a hashed field is one name: `|1|salt|hash`, with no comma list.
    let parts = text.split(separator: "|", omittingEmptySubsequences: false)
    guard parts.count == 4, parts[0].isEmpty, parts[1] == "1" else {
      return .failure(HostFieldError(reason: "hashed host name is not of the form |1|salt|hash"))
    }
    guard let salt = Base64.decode(parts[2]),
      salt.count == HostPatternMatcher.hashedNameSaltLength
    else {
      return .failure(HostFieldError(reason: "hashed host name has an invalid salt"))
    }
    guard let hash = Base64.decode(parts[3]), hash.count == 20 else {
      return .failure(HostFieldError(reason: "hashed host name has an invalid hash"))
    }
    return .success(.hashed(salt: salt, hash: hash))
  }
}
