@testable import FwdCore

/// Fuzzes known_hosts parsing and host-key lookups.
///
/// Checks that every line is an entry, a skipped line or blank, and that a `.trusted` or
/// `.revoked` result names a line that lists the key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKnownHosts(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzInput.silenceLog()
  let bytes = FuzzInput.bytes(data, size)
  let parsed = KnownHostsParser.parse(bytes, file: "known_hosts")
  let lineCount = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
  fuzzCheck(
    parsed.entries.count + parsed.skipped.count <= lineCount,
    "\(parsed.entries.count) entries and \(parsed.skipped.count) skipped lines from \(lineCount)")

  var knownHosts = KnownHosts()
  knownHosts.append(parsed)
  var lookups: [(host: String, port: Int)] = [("example.org", 22), ("example.org", 2222), ("::1", 22)]
  for entry in parsed.entries.prefix(4) {
    if case .patterns(let patterns) = entry.hosts, let first = patterns.first {
      lookups.append((first, 22))
    }
  }
  let keys = parsed.entries.prefix(2).map { ($0.keyType, $0.keyBlob) } + [("ssh-ed25519", [0, 1])]

  for lookup in lookups {
    _ = knownHosts.knownKeyTypes(host: lookup.host, port: lookup.port)
    _ = knownHosts.certificateAuthorityLines(host: lookup.host, port: lookup.port)
    for (keyType, keyBlob) in keys {
      let result = knownHosts.verify(
        host: lookup.host, port: lookup.port, keyType: keyType, keyBlob: keyBlob)
      checkResult(result, keyBlob: keyBlob, entries: parsed.entries)
    }
  }
  return 0
}

private func checkResult(_ result: HostKeyVerification, keyBlob: [UInt8], entries: [KnownHostsEntry]) {
  switch result {
  case .trusted(let location):
    let entry = entries.first { $0.location == location }
    fuzzCheck(entry?.keyBlob == keyBlob, "trusted by \(location), which lists another key")
    fuzzCheck(entry?.marker == KnownHostsMarker.none, "trusted by a marked line \(location)")
  case .revoked(let location):
    let entry = entries.first { $0.location == location }
    fuzzCheck(entry?.keyBlob == keyBlob, "revoked by \(location), which lists another key")
    fuzzCheck(entry?.marker == .revoked, "revoked by \(location), which is not @revoked")
  case .changed(_, let location):
    fuzzCheck(entries.contains { $0.location == location }, "changed names no line \(location)")
  case .notFound:
    break
  }
}
