import Foundation
import FwdLab
import Glibc
import Testing

/// `fwd -f` as a CI script runs it: start, read the ready line, connect at once, stop through
/// the pidfile.
@Suite struct OpsBackgroundTests {
  static let runs = 50
  /// Runs started together; small, so that sshd and a debug build keep up.
  static let batchSize = 5

  @Test func backgroundForwardIsReadyAtOnce() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try Ops.makeDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }

    let failures = FailureList()
    for first in stride(from: 0, to: Self.runs, by: Self.batchSize) {
      DispatchQueue.concurrentPerform(iterations: Self.batchSize) { offset in
        let run = first + offset
        do {
          try Self.startConnectStop(lab: lab, run: run, directory: directory)
        } catch {
          failures.append("run \(run): \(error)")
        }
      }
    }
    #expect(failures.items.isEmpty, "\(failures.items.count) of \(Self.runs) runs failed")
    for failure in failures.items { Issue.record(Comment(rawValue: failure)) }
  }

  /// Runs one script: `fwd -f`, then at once the pidfile, a connection, an echo, and SIGTERM.
  static func startConnectStop(lab: Lab, run: Int, directory: String) throws {
    let pidFile = "\(directory)/run-\(run).pid"
    let logFile = "\(directory)/run-\(run).log"
    let arguments =
      ["-f", "-E", logFile, "--pidfile", pidFile]
      + Ops.echoForward(lab, through: ["build", "sign"])
    let outcome = try Ops.run(arguments)
    let log = Ops.read(logFile) ?? ""
    guard outcome.status == 0 else {
      throw LabError("fwd -f exited \(outcome.status); log: \(log)")
    }
    let lines = outcome.output.split(separator: "\n")
    guard lines.count == 1, let ready = ReadyLine(parsing: lines[0]) else {
      throw LabError("expected one ready line on stdout, got '\(outcome.output)'")
    }
    guard let pidText = Ops.read(pidFile), let pid = pid_t(pidText.dropLast()) else {
      throw LabError("no pidfile when fwd -f exited: \(pidFile)")
    }
    defer {
      if Ops.isAlive(pid) { kill(pid, SIGKILL) }
    }

    let text = "run \(run)"
    let echoed = try Ops.echoLine(port: ready.listenPort, text)
    guard echoed == text else {
      throw LabError("echo through port \(ready.listenPort) returned '\(echoed ?? "")'")
    }

    kill(pid, SIGTERM)
    guard Ops.wait(until: { !Ops.isAlive(pid) }) else {
      throw LabError("fwd (pid \(pid)) still runs 10 s after SIGTERM")
    }
    guard Ops.wait(until: { access(pidFile, F_OK) != 0 }) else {
      throw LabError("pidfile \(pidFile) still exists after fwd ended")
    }
    guard Ops.read(logFile)?.contains("fwd: stopping on SIGTERM\n") == true else {
      throw LabError("log has no 'stopping on SIGTERM': \(Ops.read(logFile) ?? "")")
    }
  }
}

/// Failure messages collected from concurrent runs.
final class FailureList: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [String] = []

  func append(_ item: String) { lock.withLock { list.append(item) } }
  var items: [String] { lock.withLock { list } }
}
