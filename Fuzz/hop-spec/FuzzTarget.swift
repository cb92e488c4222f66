@testable import FwdCore

/// Fuzzes `[user@]host[:port]`, `ssh://` destinations and comma-separated jump lists.
///
/// Checks that parsed hops print as text that parses back to the same hops, because fwd
/// passes `-J` hops to ssh_config resolution as a ProxyJump text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHopSpec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzInput.silenceLog()
  let text = FuzzInput.text(data, size)

  if let hop = try? HopSpec.parse(text, label: "destination") {
    let printed = hop.description
    let reparsed = try? HopSpec.parse(printed, label: "destination")
    fuzzCheck(reparsed == hop, "hop '\(text)' prints as '\(printed)', which parses differently")
  }

  if let hops = try? HopSpec.parseList(text, label: "-J hop") {
    fuzzCheck(!hops.isEmpty, "jump list '\(text)' parsed to no hops")
    let printed = hops.map(\.description).joined(separator: ",")
    let reparsed = try? HopSpec.parseList(printed, label: "-J hop")
    fuzzCheck(reparsed == hops, "jump list '\(text)' prints as '\(printed)', which parses differently")
  }
  return 0
}
