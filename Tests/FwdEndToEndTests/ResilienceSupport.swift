import Foundation
import FwdLab
import Glibc
import Testing

/// Helpers for the tests of fwd when hops freeze, die or come back, and under load.
enum Resilience {
  /// Keepalives every second and a hop lost after 3 unanswered, so a frozen hop shows in 3 s.
  static let fastKeepalive = ["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=3"]
  /// ServerAliveInterval x ServerAliveCountMax of `fastKeepalive`, plus 2 s for the poll loop
  /// and the log line.
  static let frozenDetectionLimit: Duration = .seconds(5)
  /// A killed sshd closes its TCP connection, so fwd must notice it within this time.
  static let killDetectionLimit: Duration = .seconds(2)

  /// True with FWD_SOAK=1: the long variants of the load tests.
  static var isSoak: Bool { ProcessInfo.processInfo.environment["FWD_SOAK"] == "1" }

  /// MiB per stream for the re-key test: FWD_SOAK_MB, else 128 under FWD_SOAK=1, else 32.
  static var streamMegabytes: Int {
    if let text = ProcessInfo.processInfo.environment["FWD_SOAK_MB"], let value = Int(text),
      value > 0
    {
      return value
    }
    return isSoak ? 128 : 32
  }

  static var fwdIsBuilt: Bool { access(FwdBinary.path, X_OK) == 0 }

  /// Starts fwd through `hops` (the last is the destination) with `options`, forwarding a free
  /// port to each of `targetPorts` on 127.0.0.1, and returns it with its ready lines.
  static func start(
    _ lab: Lab, through hops: [String] = ["build", "sign"], options: [String] = fastKeepalive,
    targetPorts: [Int]? = nil, extraForwards: [String] = [], config: String? = nil,
    environment: [String: String] = [:]
  ) throws -> (fwd: FwdProcess, ready: [ReadyLine]) {
    var arguments = ["-F", config ?? lab.sshConfigPath] + options
    if hops.count > 1 { arguments += ["-J", hops.dropLast().joined(separator: ",")] }
    let ports = targetPorts ?? [lab.echoPort]
    for port in ports { arguments += ["-L", "0:127.0.0.1:\(port)"] }
    for forward in extraForwards { arguments += ["-L", forward] }
    arguments.append(hops[hops.count - 1])
    let fwd = try FwdProcess(
      arguments: arguments, environment: environment, unsetEnvironment: ["SSH_AUTH_SOCK"])
    let ready = try fwd.waitForReadyLines(count: ports.count, timeout: .seconds(30))
    return (fwd, ready)
  }

  /// The environment for a fwd whose resident memory a test measures. AddressSanitizer keeps
  /// freed memory in a quarantine of up to 256 MiB so that it can catch use after free, and RSS
  /// counts it. Under scripts/test-sanitizer.sh address (which sets ASAN_OPTIONS) that fwd runs
  /// without the quarantine, and the other tests keep it.
  static var memoryMeasurementEnvironment: [String: String] {
    guard let options = ProcessInfo.processInfo.environment["ASAN_OPTIONS"] else { return [:] }
    return ["ASAN_OPTIONS": options + " quarantine_size_mb=0 thread_local_quarantine_size_kb=0"]
  }

  /// Kills the per-connection sshd processes of `host` with SIGKILL while its listener stays,
  /// so fwd's connection drops and a new one is accepted. Returns how many were killed.
  @discardableResult
  static func killConnections(of host: LabHost) -> Int {
    guard let listener = host.pid else { return 0 }
    let children = host.processIDs().filter { $0 != listener }
    for pid in children { kill(pid, SIGKILL) }
    _ = ProcessTree.waitUntilGone(children, timeout: .seconds(5))
    return children.count
  }

  /// Freezes `host` with SIGSTOP until no new process appears. Right after a login sshd may be
  /// forking its post-auth child, and a child forked after `freeze()` read /proc would run on.
  static func freeze(_ host: LabHost) {
    var frozen: Set<pid_t> = []
    for _ in 0..<20 {
      host.freeze()
      usleep(50_000)
      let now = Set(host.processIDs())
      if now == frozen { return }
      frozen = now
    }
  }

  /// Freezes the per-connection sshd processes of `host` with SIGSTOP while its listener runs
  /// on, so a new connection is served while the old sessions keep their forwarded ports.
  /// Returns the frozen processes, for `thaw(_:)`.
  static func freezeConnections(of host: LabHost) -> [pid_t] {
    guard let listener = host.pid else { return [] }
    var frozen: Set<pid_t> = []
    // Repeated until no new process appears, as in `freeze(_:)`.
    for _ in 0..<20 {
      let children = Set(host.processIDs()).subtracting([listener])
      for pid in children.subtracting(frozen) { kill(pid, SIGSTOP) }
      if children == frozen { break }
      frozen = children
      usleep(50_000)
    }
    return Array(frozen)
  }

  /// Continues processes that `freezeConnections(of:)` stopped.
  static func thaw(_ processes: [pid_t]) {
    for pid in processes { kill(pid, SIGCONT) }
  }

  /// Sends one line through `port` and returns the line echoed.
  static func echoLine(port: Int, _ text: String = "ping", timeout: Duration = .seconds(10))
    throws -> String
  {
    let connection = try LabConnection(port: port, timeout: timeout)
    defer { connection.close() }
    try connection.write(text + "\n", timeout: timeout)
    return try connection.readLine(timeout: timeout)
  }

  /// Returns how often `text` occurs in `log`.
  static func occurrences(of text: String, in log: String) -> Int {
    log.components(separatedBy: text).count - 1
  }

  /// Waits until fwd's stderr contains `text` at least `count` times.
  static func waitForLog(
    _ fwd: FwdProcess, _ text: String, count: Int = 1, timeout: Duration = .seconds(20)
  ) -> Bool {
    wait(timeout: timeout) { occurrences(of: text, in: fwd.standardError) >= count }
  }

  /// Waits until `condition` holds, polling every 20 ms; returns false after `timeout`.
  static func wait(timeout: Duration, until condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
      if ContinuousClock.now >= deadline { return false }
      usleep(20_000)
    }
    return true
  }

  /// Runs `body` and returns how long it took.
  static func measure(_ body: () throws -> Void) rethrows -> Duration {
    let start = ContinuousClock.now
    try body()
    return ContinuousClock.now - start
  }

  /// The number of descriptors process `pid` has open, from /proc/PID/fd.
  static func openDescriptors(_ pid: pid_t) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
  }

  /// The resident set size of process `pid` in KiB, VmRSS in /proc/PID/status.
  static func residentKiB(_ pid: pid_t) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
      return -1
    }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      return Int(line.split(separator: " ")[1]) ?? -1
    }
    return -1
  }

  /// Returns the line of fwd's stderr that contains `text`, for a failure message.
  static func line(containing text: String, in fwd: FwdProcess) -> String? {
    fwd.standardError.split(separator: "\n").first { $0.contains(text) }.map(String.init)
  }
}
