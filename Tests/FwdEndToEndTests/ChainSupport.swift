import Foundation
import FwdLab
import Glibc

/// A fwd run whose forwards are all listening.
struct RunningFwd {
  let process: FwdProcess
  let readyLines: [ReadyLine]

  /// Returns the ready line of the forward to `targetPort`. Traps when there is none, which
  /// is a mistake in the test.
  func forward(to targetPort: Int) -> ReadyLine {
    guard let line = readyLines.first(where: { $0.targetPort == targetPort }) else {
      preconditionFailure("no forward to port \(targetPort) among \(readyLines)")
    }
    return line
  }

  /// Runs `body`, and when it throws, rethrows the error with fwd's stderr and the end of each
  /// sshd log of `lab` appended, so a failed transfer shows what happened on the path.
  func explainingFailure<Value>(_ lab: Lab, _ body: () throws -> Value) throws -> Value {
    do {
      return try body()
    } catch {
      // fwd may log the cause just after the client saw the connection end, and its stderr
      // reaches this process through a pipe and a reader thread.
      usleep(500_000)
      var report = "\(error)\nfwd stderr:\n\(process.standardError)"
      for host in lab.hosts {
        let tail = host.log.split(separator: "\n").suffix(20).joined(separator: "\n")
        report += "\nlast lines of \(host.name)'s sshd log:\n\(tail)"
      }
      throw LabError(report)
    }
  }

  /// Waits until at least `count` stderr lines contain `text` and returns those lines; returns
  /// fewer when `timeout` passes first.
  func waitForErrorLines(containing text: String, count: Int, timeout: Duration) -> [Substring] {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
      let lines = process.standardError.split(separator: "\n").filter { $0.contains(text) }
      if lines.count >= count || clock.now >= deadline { return lines }
      usleep(20_000)
    }
  }

  /// Stops fwd with SIGTERM and returns its exit status.
  func stop() throws -> Int32 {
    process.terminate()
    return try process.waitForExit(timeout: ChainHarness.exitTimeout)
  }
}

/// A fwd run that ended on its own, before or instead of serving.
struct FinishedFwd {
  let status: Int32
  let standardOutput: String
  let standardError: String

  /// The stderr lines without their newlines.
  var errorLines: [String] {
    standardError.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
  }
}

/// Starting fwd against a lab, and the small checks the chain tests share.
enum ChainHarness {
  /// Time allowed for fwd to connect every hop and print its ready lines, generous for a loaded
  /// 2-core CI machine.
  static let readyTimeout: Duration = .seconds(60)
  /// Time allowed for fwd to exit after SIGTERM or after a failure it must report.
  static let exitTimeout: Duration = .seconds(60)
  /// Time allowed for one bulk transfer of 256 MiB. Through a debug build of fwd one took 5 to
  /// 25 s on a 2 vCPU VM that ran other tests at the same time.
  static let transferTimeout: Duration = .seconds(300)

  /// Returns fwd's arguments `-F CONFIG ARGUMENTS`, with the lab's ssh_config by default.
  static func arguments(_ lab: Lab, config: String? = nil, _ arguments: [String]) -> [String] {
    ["-F", config ?? lab.sshConfigPath] + arguments
  }

  /// Starts fwd and waits until each of its `forwardCount` forwards printed its ready line.
  ///
  /// SSH_AUTH_SOCK is removed from fwd's environment so that an agent of the machine running
  /// the tests cannot offer keys.
  static func start(
    _ lab: Lab, config: String? = nil, _ arguments: [String], forwardCount: Int
  ) throws -> RunningFwd {
    let process = try FwdProcess(
      arguments: Self.arguments(lab, config: config, arguments),
      unsetEnvironment: ["SSH_AUTH_SOCK"])
    let lines = try process.waitForReadyLines(count: forwardCount, timeout: readyTimeout)
    return RunningFwd(process: process, readyLines: lines)
  }

  /// Runs fwd until it exits, for a run that must fail; throws when it is still running after
  /// `exitTimeout`.
  static func runToExit(_ lab: Lab, config: String? = nil, _ arguments: [String]) throws
    -> FinishedFwd
  {
    let process = try FwdProcess(
      arguments: Self.arguments(lab, config: config, arguments),
      unsetEnvironment: ["SSH_AUTH_SOCK"])
    let status = try process.waitForExit(timeout: exitTimeout)
    return FinishedFwd(
      status: status, standardOutput: process.standardOutput,
      standardError: process.standardError)
  }

  /// Returns the OpenSSH fingerprint of `key`, e.g. "SHA256:wpAS...": the unpadded base64
  /// SHA-256 of the key blob, as `ssh-keygen -l` prints it.
  static func fingerprint(of key: LabKey) -> String {
    let fields = key.publicKey.split(separator: " ")
    guard fields.count >= 2, let blob = Data(base64Encoded: String(fields[1])) else {
      preconditionFailure("invalid public key line '\(key.publicKey)'")
    }
    var hasher = SHA256()
    blob.withUnsafeBytes { hasher.update($0) }
    let digest = Data(hasher.finalize()).base64EncodedString()
    return "SHA256:" + digest.trimmingCharacters(in: CharacterSet(charactersIn: "="))
  }

  /// Returns the 1-based numbers of the lines of the known_hosts file at `path` that start
  /// with `hostName`, e.g. "[127.0.0.1]:2201".
  static func knownHostsLineNumbers(_ path: String, hostName: String) throws -> [Int] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      .filter { $0.element.hasPrefix(hostName + " ") }
      .map { $0.offset + 1 }
  }

  /// A host name with a 70-character first label, in the reserved ".invalid" domain. The glibc
  /// resolver rejects a label longer than 63 bytes before it sends any query, so the lookup
  /// fails without network traffic, where a short unknown name would reach the DNS server.
  static let unresolvableHostName = String(repeating: "x", count: 70) + ".invalid"

  /// Runs `first` and `second` on two threads at once and returns both results, or throws the
  /// first error.
  static func runConcurrently<First, Second>(
    _ first: @escaping () throws -> First, _ second: @escaping () throws -> Second
  ) throws -> (First, Second) {
    let secondResult = ThreadResult(second)
    let firstValue = try first()
    return (firstValue, try secondResult.wait())
  }

  /// Runs `body(0)` to `body(count - 1)` on threads of their own, all at once, and returns
  /// their results in order, or throws the first error in that order.
  static func runInParallel<Value>(count: Int, _ body: @escaping (Int) throws -> Value) throws
    -> [Value]
  {
    let workers = (0..<count).map { index in ThreadResult { try body(index) } }
    return try workers.map { try $0.wait() }
  }

  /// Sends `payload` on a second thread while reading on this one, half-closes after the last
  /// byte, and returns everything received until the peer's EOF.
  ///
  /// Reading while sending keeps the exchange independent of how many bytes the sockets and
  /// SSH windows on the path can buffer, so the payload may be of any size.
  static func halfCloseExchangeWhileReading(
    host: String, port: Int, payload: [UInt8], timeout: Duration = .seconds(120)
  ) throws -> [UInt8] {
    let connection = try LabConnection(host: host, port: port, timeout: timeout)
    let sender = ThreadResult {
      try connection.write(payload, timeout: timeout)
      connection.shutdownWrite()
    }
    let received: [UInt8]
    do {
      received = try connection.readToEOF(limit: payload.count + 65_536, timeout: timeout)
    } catch {
      connection.close()
      _ = try? sender.wait()
      throw error
    }
    try sender.wait()
    return received
  }
}

/// A value computed on a thread of its own, collected with `wait()`.
final class ThreadResult<Value>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var result: Result<Value, Error>?

  init(_ body: @escaping () throws -> Value) {
    let thread = Thread { [self] in
      result = Result { try body() }
      done.signal()
    }
    thread.name = "fwd-chain-test worker"
    thread.start()
  }

  /// Waits for the thread and returns its value, or rethrows its error.
  func wait() throws -> Value {
    done.wait()
    done.signal()
    return try result!.get()
  }
}

/// A flag one thread sets and others read.
final class ManagedFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false

  var isSet: Bool { lock.withLock { value } }

  func set() {
    lock.withLock { value = true }
  }
}

/// A TCP socket listening on 127.0.0.1 at a port the system picks, held to make that port
/// busy for fwd. Closed at deinit.
final class BusyPort {
  let port: Int
  private let fd: Int32

  init() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw LabError("busy port: socket failed: \(errnoText())") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = in_addr_t(INADDR_LOOPBACK).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0, listen(fd, 1) == 0 else {
      let reason = errnoText()
      close(fd)
      throw LabError("busy port: bind or listen on 127.0.0.1 failed: \(reason)")
    }
    let named = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else {
      let reason = errnoText()
      close(fd)
      throw LabError("busy port: getsockname failed: \(reason)")
    }
    self.fd = fd
    port = Int(UInt16(bigEndian: address.sin_port))
  }

  deinit {
    close(fd)
  }
}

private func errnoText() -> String {
  String(cString: strerror(errno))
}
