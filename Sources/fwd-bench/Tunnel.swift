import FwdLab
import Glibc

/// The ports of the lab's echo, sink and source services, or of the forwards that lead to them.
struct ServicePorts: Sendable {
  var echo: Int
  var sink: Int
  var source: Int

  var all: [Int] { [echo, sink, source] }
}

/// A program that can serve the benchmark's forwards: fwd, or OpenSSH's ssh with one
/// ssh_config.
struct TunnelTool: Sendable {
  /// The name in the report, e.g. "ssh aes128-ctr".
  let name: String
  let executable: String
  let configPath: String

  /// Returns the arguments that forward each local port of `listen` through build and sign to the
  /// port of `targets` at the same position, on 127.0.0.1 as seen from sign. fwd and ssh take
  /// the same ones.
  func arguments(listen: ServicePorts, targets: ServicePorts) -> [String] {
    var arguments = ["-F", configPath, "-J", "build", "sign", "-N"]
    for (listenPort, targetPort) in zip(listen.all, targets.all) {
      arguments += ["-L", "127.0.0.1:\(listenPort):127.0.0.1:\(targetPort)"]
    }
    return arguments
  }

  /// The command line as the report prints it, with the lab's paths and ports as placeholders.
  var commandTemplate: String {
    let config = configPath.split(separator: "/").last.map { "<lab>/\($0)" } ?? configPath
    let forwards = ["echo", "sink", "source"].map { "-L 127.0.0.1:<port>:127.0.0.1:<\($0)>" }
    let root = FwdBinary.packageRoot + "/"
    let program = executable.hasPrefix(root) ? String(executable.dropFirst(root.count)) : executable
    return "\(program) -F \(config) -J build sign -N " + forwards.joined(separator: " ")
  }
}

/// A running tunnel: the tool's process and the processes it started, such as the jump ssh
/// that `ssh -J` runs for the first hop.
final class Tunnel {
  let tool: TunnelTool
  /// The local listeners, one per lab service.
  let ports: ServicePorts
  /// When the process was started, from `monotonicNanoseconds()`.
  let startTime: UInt64
  private let process: FwdProcess

  /// Starts `tool` with one forward to each of `targets`, from free local ports.
  init(tool: TunnelTool, targets: ServicePorts) throws {
    self.tool = tool
    ports = ServicePorts(echo: try freePort(), sink: try freePort(), source: try freePort())
    let arguments = tool.arguments(listen: ports, targets: targets)
    startTime = monotonicNanoseconds()
    // An ssh-agent of the person running the benchmark must not take part.
    process = try FwdProcess(
      arguments: arguments, unsetEnvironment: ["SSH_AUTH_SOCK"], binary: tool.executable)
  }

  deinit {
    stop()
  }

  var isRunning: Bool { process.isRunning }

  /// The tool's process and its descendants alive now.
  var processIDs: [pid_t] {
    process.isRunning ? ProcessStats.tree(of: process.pid) : []
  }

  /// The last lines of the tool's stderr, for error messages.
  var recentErrors: String {
    process.standardError.split(separator: "\n").suffix(5).joined(separator: " | ")
  }

  /// Stops the tool with SIGTERM, then SIGKILL for any of its processes left after 5 seconds.
  func stop() {
    guard process.isRunning else { return }
    let pids = processIDs
    process.terminate()
    _ = try? process.waitForExit(timeout: .seconds(5))
    if !ProcessTree.waitUntilGone(pids, timeout: .seconds(5)) {
      process.kill()
      for pid in pids.dropFirst() where ProcessTree.isAlive(pid) { kill(pid, SIGKILL) }
    }
  }
}
