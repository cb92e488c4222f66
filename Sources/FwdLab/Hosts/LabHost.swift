import Foundation
import Glibc

/// One real OpenSSH sshd of the lab, run in the foreground from /usr/sbin/sshd.
///
/// Signals go to the listener and to the per-connection processes it forked, found in /proc:
/// stopping only the listener would leave established sessions running.
public final class LabHost: @unchecked Sendable {
  public static let sshdPath = "/usr/sbin/sshd"

  /// The host's alias in the lab's ssh_config.
  public let name: String
  /// The listen address: "127.0.0.1", or "::1" for an IPv6 host.
  public let address: String
  public let options: LabHostOptions
  public let directory: String
  public let configPath: String
  public let logPath: String
  public let authorizedKeysPath: String
  /// The ed25519, ecdsa and rsa host keys, in that order.
  public let hostKeys: [LabKey]

  private let pidFilePath: String
  private let lock = NSRecursiveLock()
  private var currentPort = 0
  private var process: ChildProcess?
  private var stderrReader: PipeReader?
  private var frozen: [pid_t] = []

  init(options: LabHostOptions, directory: String, hostKeys: [LabKey]) {
    name = options.name
    address = options.addressFamily.loopbackAddress
    self.options = options
    self.directory = directory
    configPath = directory + "/sshd_config"
    logPath = directory + "/sshd.log"
    authorizedKeysPath = directory + "/authorized_keys"
    pidFilePath = directory + "/sshd.pid"
    self.hostKeys = hostKeys
  }

  /// The TCP port; chosen at the first start and kept by `restart()`.
  public var port: Int { lock.withLock { currentPort } }

  /// The host name as a known_hosts line writes it: "[127.0.0.1]:PORT".
  public var knownHostsName: String { "[\(address)]:\(port)" }

  /// The PID of the sshd listener while it runs.
  public var pid: pid_t? {
    lock.withLock { process?.isRunning == true ? process?.pid : nil }
  }

  public var isRunning: Bool { pid != nil }

  /// Returns the listener and every process it forked for a connection; empty when stopped.
  public func processIDs() -> [pid_t] {
    guard let pid else { return [] }
    return ProcessTree.processAndDescendants(of: pid)
  }

  /// Everything sshd has logged since the lab started, across restarts, with "\n" line ends.
  public var log: String {
    // sshd ends some log lines with "\r\n", which Swift reads as one Character, not "\n".
    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    return text.replacingOccurrences(of: "\r\n", with: "\n")
  }

  /// Waits until the log contains `text`; returns false when `timeout` passes first.
  public func waitForLog(containing text: String, timeout: Duration = .seconds(10)) -> Bool {
    let deadline = Deadline(after: timeout)
    while !log.contains(text) {
      if deadline.hasPassed { return false }
      sleepMilliseconds(20)
    }
    return true
  }

  /// Starts sshd and waits until it listens. The first start picks a free port and retries with
  /// another one when a different process took it in the meantime. Later starts reuse the port.
  public func start() throws {
    try lock.withLock {
      guard process?.isRunning != true else { return }
      let firstStart = currentPort == 0
      var lastError = LabError("start sshd for host \(name): no attempt made")
      for attempt in 0..<10 {
        if firstStart { currentPort = try freePort(host: address) }
        do {
          try launch()
          return
        } catch let error as LabError {
          lastError = error
          guard error.message.contains("Address already in use") else { throw error }
          // On a restart the port may still be held briefly by a process being torn down.
          if !firstStart { sleepMilliseconds(100 * (attempt + 1)) }
        }
      }
      throw lastError
    }
  }

  /// Ends sshd and its connections with SIGTERM, then SIGKILL for any left after 3 seconds.
  public func stop() {
    lock.withLock {
      guard let process else { return }
      let pids = treeOf(process)
      signal(pids, SIGTERM)
      // A frozen process handles SIGTERM only once continued.
      signal(pids, SIGCONT)
      if !ProcessTree.waitUntilGone(pids, timeout: .seconds(3)) {
        signal(pids, SIGKILL)
        _ = ProcessTree.waitUntilGone(pids, timeout: .seconds(3))
      }
      finishProcess()
    }
  }

  /// Kills sshd and its connections with SIGKILL, so peers see the connections drop.
  public func kill() {
    lock.withLock {
      guard let process else { return }
      let pids = treeOf(process)
      signal(pids, SIGKILL)
      _ = ProcessTree.waitUntilGone(pids, timeout: .seconds(5))
      finishProcess()
    }
  }

  /// Stops sshd and its connections with SIGSTOP. Connections stay open but get no reply, and
  /// new connections wait in the listen backlog.
  public func freeze() {
    lock.withLock {
      guard let pid else { return }
      let pids = ProcessTree.processAndDescendants(of: pid)
      signal(pids, SIGSTOP)
      frozen += pids
    }
  }

  /// Continues what `freeze()` stopped, with SIGCONT.
  public func thaw() {
    lock.withLock {
      signal(Array(Set(frozen + processIDs())), SIGCONT)
      frozen = []
    }
  }

  /// Stops sshd (see `stop()`) and starts it again on the same port with the same host keys.
  public func restart() throws {
    try lock.withLock {
      stop()
      try start()
    }
  }

  // MARK: - Launch

  /// Writes the config, starts sshd and waits for its "Server listening" line.
  private func launch() throws {
    try writeFile(
      configPath,
      sshdConfigText(
        options: options, port: currentPort, hostKeys: hostKeys, pidFile: pidFilePath,
        authorizedKeysFile: authorizedKeysPath))
    let logStart = fileSize(logPath)
    var errorPipe: [Int32] = [0, 0]
    guard makePipe(&errorPipe) else {
      throw LabError("start sshd for host \(name): pipe failed: \(errnoText())")
    }
    let child: ChildProcess
    do {
      defer { close(errorPipe[1]) }
      // -D keeps sshd in the foreground as our child; -E sends its log to a file.
      var command = [LabHost.sshdPath, "-D", "-E", logPath, "-f", configPath]
      if options.addressFamily == .ipv6 {
        command = try IPv6Localhost.wrap(command, hostsPath: directory + "/hosts", hostName: name)
      }
      child = try ChildProcess(
        executable: command[0], arguments: Array(command.dropFirst()), standardError: errorPipe[1])
    } catch {
      close(errorPipe[0])
      throw error
    }
    let errors = PipeReader(fd: errorPipe[0], name: "fwd-lab sshd \(name) stderr")

    let listening = "Server listening on \(address) port \(currentPort)."
    let deadline = Deadline(after: .seconds(15))
    while true {
      let newLog = logText(from: logStart)
      if newLog.contains(listening) {
        process = child
        stderrReader = errors
        return
      }
      if let status = child.exitStatus {
        let lastLines = (newLog + errors.text).split(separator: "\n").suffix(4)
        throw LabError(
          "start sshd for host \(name) on \(address) port \(currentPort): exited with status "
            + "\(status): \(lastLines.joined(separator: " / ")) (log \(logPath))")
      }
      if deadline.hasPassed {
        ProcessTree.killTree(root: child.pid, signal: SIGKILL)
        _ = child.waitForExit(timeout: .seconds(5))
        throw LabError(
          "start sshd for host \(name) on \(address) port \(currentPort): timed out after 15 s "
            + "waiting for '\(listening)' in \(logPath)")
      }
      sleepMilliseconds(10)
    }
  }

  /// Returns the sshd listener and its descendants, or nothing once the listener has ended,
  /// because its PID may then belong to another process.
  private func treeOf(_ process: ChildProcess) -> [pid_t] {
    process.isRunning ? ProcessTree.processAndDescendants(of: process.pid) : []
  }

  private func signal(_ pids: [pid_t], _ signalNumber: Int32) {
    for pid in pids {
      if pid == process?.pid {
        process?.send(signalNumber)
      } else {
        Glibc.kill(pid, signalNumber)
      }
    }
  }

  private func finishProcess() {
    _ = process?.waitForExit(timeout: .seconds(5))
    process = nil
    stderrReader = nil
    frozen = []
  }

  private func logText(from offset: Int) -> String {
    guard let handle = FileHandle(forReadingAtPath: logPath) else { return "" }
    defer { try? handle.close() }
    try? handle.seek(toOffset: UInt64(offset))
    let data = (try? handle.readToEnd()) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}

/// Returns the size of the file at `path`, 0 when it does not exist.
func fileSize(_ path: String) -> Int {
  var info = stat()
  return stat(path, &info) == 0 ? Int(info.st_size) : 0
}
