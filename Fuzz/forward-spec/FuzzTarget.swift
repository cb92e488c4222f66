@testable import FwdCore

/// Fuzzes `-L` and the LocalForward, RemoteForward and DynamicForward syntax.
///
/// Checks that a parsed `-L` forward prints as text that parses back to the same forward,
/// because fwd passes `-L` forwards to ssh_config resolution as text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForwardSpec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzInput.silenceLog()
  let text = FuzzInput.text(data, size)

  if let spec = try? LocalForwardSpec.parse(text) {
    let printed = spec.description
    let reparsed = try? LocalForwardSpec.parse(printed)
    fuzzCheck(reparsed == spec, "-L '\(text)' prints as '\(printed)', which parses differently")
  }

  for kind in [ForwardSyntax.Kind.local, .remote, .dynamic] {
    guard case .success(let syntax) = ForwardSyntax.parse(text, kind: kind) else { continue }
    _ = syntax.configDumpText(kind: kind)
  }
  return 0
}
