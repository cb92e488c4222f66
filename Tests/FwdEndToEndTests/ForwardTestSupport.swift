import Foundation
import FwdLab
import Glibc
import Testing

/// One ready line of any forward kind, with the fields as text, because Unix-socket and SOCKS
/// forwards print "-" where a TCP forward prints a port:
/// `<kind> <listen_address> <listen_port> <target_host> <target_port>`.
struct ForwardReadyLine: Equatable, CustomStringConvertible {
  let kind: String
  let listenAddress: String
  let listenPort: String
  let targetHost: String
  let targetPort: String

  init?(_ line: Substring) {
    let fields = line.split(separator: " ").map(String.init)
    guard fields.count == 5 else { return nil }
    (kind, listenAddress, listenPort, targetHost, targetPort) = (
      fields[0], fields[1], fields[2], fields[3], fields[4]
    )
  }

  /// The listen port as a number; 0 for a Unix-socket listener.
  var port: Int { Int(listenPort) ?? 0 }

  var description: String {
    "\(kind) \(listenAddress) \(listenPort) \(targetHost) \(targetPort)"
  }
}

/// Helpers that start fwd, wait for its ready lines and check transfers through it.
enum ForwardHarness {
  /// Starts fwd with `-F <lab ssh_config>` and `arguments`, and waits for `readyCount` ready
  /// lines on stdout. Throws with fwd's output when fwd exits first or 30 s pass.
  static func start(
    _ lab: Lab, _ arguments: [String], readyCount: Int, standardInput: Bool = false
  ) throws -> (fwd: FwdProcess, ready: [ForwardReadyLine]) {
    let fwd = try FwdProcess(
      arguments: ["-F", lab.sshConfigPath] + arguments, unsetEnvironment: ["SSH_AUTH_SOCK"],
      standardInput: standardInput)
    let ready = try waitForReadyLines(fwd, count: readyCount)
    return (fwd, ready)
  }

  /// Waits for `count` complete ready lines on fwd's stdout.
  static func waitForReadyLines(
    _ fwd: FwdProcess, count: Int, timeout: Duration = .seconds(30)
  ) throws -> [ForwardReadyLine] {
    let deadline = ContinuousClock.now + timeout
    while true {
      let text = fwd.standardOutput
      // Only complete lines count: a line still being written could end in a cut port.
      let complete = text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
      let lines = complete.split(separator: "\n").compactMap { ForwardReadyLine($0) }
      if lines.count >= count { return Array(lines.prefix(count)) }
      if !fwd.isRunning || ContinuousClock.now >= deadline {
        let reason = fwd.isRunning ? "timed out after \(timeout)" : "fwd exited"
        throw LabError(
          "wait for \(count) ready lines from fwd \(fwd.arguments.joined(separator: " ")): "
            + "\(reason); exit status \(fwd.exitStatus.map(String.init) ?? "none"); "
            + "stdout: '\(text)'; stderr: '\(fwd.standardError)'")
      }
      usleep(20_000)
    }
  }

  /// Runs fwd, which is expected to exit on its own, and returns its status, stderr and the
  /// seconds it ran.
  static func runToExit(_ lab: Lab, _ arguments: [String], timeout: Duration = .seconds(30))
    throws -> (status: Int32, errors: String, seconds: Double)
  {
    let started = ContinuousClock.now
    let fwd = try FwdProcess(
      arguments: ["-F", lab.sshConfigPath] + arguments, unsetEnvironment: ["SSH_AUTH_SOCK"])
    let status = try fwd.waitForExit(timeout: timeout)
    let elapsed = ContinuousClock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (status, fwd.standardError, seconds)
  }

  /// Stops fwd with SIGTERM and returns its exit status.
  @discardableResult
  static func stop(_ fwd: FwdProcess) throws -> Int32 {
    fwd.terminate()
    return try fwd.waitForExit(timeout: .seconds(10))
  }
}

/// A directory for Unix sockets with a short path, because sun_path has room for 107 bytes.
final class ForwardTempDirectory {
  let path: String

  init() throws {
    var template = Array("/tmp/fwd-e2e.XXXXXX".utf8CString)
    guard let created = mkdtemp(&template) else {
      throw LabError("create socket directory under /tmp: mkdtemp failed: \(ForwardSockets.errnoText())")
    }
    path = String(cString: created)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Returns the path of `name` inside the directory.
  func file(_ name: String) -> String {
    "\(path)/\(name)"
  }
}

/// Returns the mode bits and whether `path` is a socket; nil when it does not exist.
func forwardFileMode(_ path: String) -> (isSocket: Bool, permissions: mode_t)? {
  var info = stat()
  guard lstat(path, &info) == 0 else { return nil }
  return ((info.st_mode & S_IFMT) == S_IFSOCK, info.st_mode & 0o777)
}

/// Returns a port that is free on both 127.0.0.1 and ::1 now, held by the returned listeners
/// until the caller closes them, so the test can show fwd or sshd failing to bind it.
func holdPortOnBothLoopbacks() throws -> (port: Int, listeners: [LabService]) {
  for _ in 0..<20 {
    let ipv4 = try LabService(.echo, host: "127.0.0.1")
    if let ipv6 = try? LabService(.echo, host: "::1", port: ipv4.port) {
      return (ipv4.port, [ipv4, ipv6])
    }
    ipv4.stop()
  }
  throw LabError("hold a port: none free on both 127.0.0.1 and ::1 after 20 attempts")
}

extension ForwardHarness {
  /// Uploads `count` bytes to a sink and downloads `count` bytes from a source, both on
  /// 127.0.0.1, and checks byte counts and SHA-256 on both sides.
  static func expectTransfers(sinkPort: Int, sourcePort: Int, count: Int) throws {
    let upload = try LabClient.upload(port: sinkPort, count: count)
    #expect(upload.sent.count == count)
    #expect(upload.received.count == count, "bytes the sink received")
    #expect(upload.received.sha256 == upload.sent.sha256, "SHA-256 of the upload")

    let download = try LabClient.download(port: sourcePort, count: count)
    #expect(download.count == count, "bytes received from the source")
    #expect(download.firstMismatch == nil)
    #expect(download.sha256 == LabClient.expectedSourceSHA256(count: count))
  }

  /// Echoes `count` bytes, then checks that a half-close passes through to the echo service
  /// and its EOF comes back.
  static func expectEcho(port: Int, count: Int = 1 << 20) throws {
    #expect(try LabClient.echo(port: port, bytes: count) == count)
    let payload = Array("half-close through port \(port)\n".utf8)
    #expect(try LabClient.halfCloseExchange(port: port, payload: payload) == payload)
  }

  /// Returns the lines of a host's sshd log that contain every one of `fragments`.
  static func logLines(_ lab: Lab, _ host: String, containing fragments: String...) -> [Substring] {
    lab.log(of: host).split(separator: "\n").filter { line in
      fragments.allSatisfy { line.contains($0) }
    }
  }

  /// Waits until a host's sshd log has a line with every one of `fragments`; false after
  /// `timeout`. Channel lines are logged when the channel is freed, after the client saw EOF.
  static func waitForLogLine(
    _ lab: Lab, _ host: String, containing fragments: String..., timeout: Duration = .seconds(10)
  ) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      let found = lab.log(of: host).split(separator: "\n").contains { line in
        fragments.allSatisfy { line.contains($0) }
      }
      if found { return true }
      usleep(20_000)
    }
    return false
  }
}

extension ForwardHarness {
  /// Waits until nothing accepts connections on 127.0.0.1:`port`; false after `timeout`.
  static func waitUntilRefused(port: Int, timeout: Duration = .seconds(5)) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      do {
        let connection = try LabConnection(port: port, timeout: .seconds(1))
        connection.close()
      } catch {
        return true
      }
      usleep(50_000)
    }
    return false
  }
}

extension ForwardHarness {
  /// Runs `body(index)` on `count` threads at once and returns the error of each, nil for
  /// success. Dispatch's concurrentPerform would run only as many at once as there are CPUs.
  static func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void)
    -> [String?]
  {
    let group = DispatchGroup()
    let errors = ParallelErrors(count: count)
    for index in 0..<count {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        do {
          try body(index)
        } catch {
          errors.record("\(error)", at: index)
        }
      }
      thread.start()
    }
    group.wait()
    return errors.values
  }
}

/// The error text of each thread of `ForwardHarness.inParallel`.
final class ParallelErrors: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [String?]

  init(count: Int) {
    list = Array(repeating: nil, count: count)
  }

  var values: [String?] { lock.withLock { list } }

  func record(_ text: String, at index: Int) {
    lock.withLock { list[index] = text }
  }
}
