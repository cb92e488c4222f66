@testable import FwdCore

/// Fuzzes ssh_config text: line splitting, keyword values, Host and Match blocks, tokens,
/// ProxyJump chains and the `-G` dump. The input is one user config file. Include lines are
/// checked but read no files, and `Match exec` runs no command (see FuzzEnvironment).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSHConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzInput.silenceLog()
  let text = FuzzInput.text(data, size)
  let parsed = try? SSHConfig.parse(text: text, path: "fuzz_config", environment: FuzzEnvironment.value)
  guard let config = parsed else { return 0 }

  for name in ["fuzz", "Fuzz.Example.ORG", "10.0.0.1"] {
    let invocation = Invocation(destination: HopSpec(host: name))
    guard let plan = try? ChainPlan.resolve(invocation, config: config) else { continue }
    fuzzCheck(plan.hops.count <= ChainPlan.maximumHops, "chain of \(plan.hops.count) hops")
    fuzzCheck(plan.destination.name == name, "the chain ends at \(plan.destination.name)")
    for hop in plan.hops {
      _ = ConfigDump.render(hop.settings)
    }
  }
  return 0
}
