@testable import FwdCore

/// Fuzzes fwd's command line. The input is the argument list with each argument ended by a
/// NUL byte, as in /proc/PID/cmdline, without argv[0].
///
/// A command line that parses is then resolved into a chain with no ssh_config files, which
/// also runs the `-o` values, `-J` hops and `-L` forwards through config resolution.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLine(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  FuzzInput.silenceLog()
  var bytes = FuzzInput.bytes(data, size)
  if bytes.last == 0 { bytes.removeLast() }
  let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }

  guard case .run(let invocation)? = try? ParsedCommand.parse(arguments) else { return 0 }
  let config = SSHConfig(files: [], environment: FuzzEnvironment.value)
  guard let plan = try? ChainPlan.resolve(invocation, config: config) else { return 0 }
  fuzzCheck(!plan.hops.isEmpty, "a resolved chain has no hops")
  fuzzCheck(plan.hops.count <= ChainPlan.maximumHops, "chain of \(plan.hops.count) hops")
  for hop in plan.hops {
    _ = ConfigDump.render(hop.settings)
  }

  // `-L` forwards reach the settings as text, so each must come back unchanged and first,
  // with repeats dropped as ssh drops them.
  var forwards: [LocalForwardSpec] = []
  for forward in invocation.localForwards where !forwards.contains(forward) {
    forwards.append(forward)
  }
  let resolved = plan.destination.settings.localForwards
  fuzzCheck(
    Array(resolved.prefix(forwards.count)) == forwards,
    "-L forwards \(forwards) resolve to \(resolved)")

  // Without `-o`, which may add a ProxyJump to jump hosts, the chain is the `-J` list and
  // the destination.
  if invocation.options.isEmpty {
    let expected = (invocation.jumpHops ?? []) + [invocation.destination]
    fuzzCheck(plan.hops.map(\.spec) == expected, "chain \(plan.hops.map(\.spec)), expected \(expected)")
  }
  return 0
}
