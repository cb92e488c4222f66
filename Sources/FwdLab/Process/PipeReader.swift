import Foundation
import Glibc

/// Collects everything written to a pipe on a thread of its own, so that the writer does not
/// block on a full pipe.
final class PipeReader: @unchecked Sendable {
  private let fd: Int32
  private let condition = NSCondition()
  private var data: [UInt8] = []
  private var reachedEOF = false

  /// Starts reading `fd`, which this reader closes at EOF.
  init(fd: Int32, name: String) {
    self.fd = fd
    let thread = Thread { [self] in readLoop() }
    thread.name = name
    thread.start()
  }

  var text: String {
    condition.lock()
    defer { condition.unlock() }
    return String(decoding: data, as: UTF8.self)
  }

  var isAtEOF: Bool {
    condition.lock()
    defer { condition.unlock() }
    return reachedEOF
  }

  /// Waits until `isSatisfied(text, atEOF)` holds; returns false when `deadline` passes first.
  func wait(until deadline: Deadline, _ isSatisfied: (String, Bool) -> Bool) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while !isSatisfied(String(decoding: data, as: UTF8.self), reachedEOF) {
      let seconds = deadline.remainingSeconds
      if seconds <= 0 { return false }
      _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
    }
    return true
  }

  private func readLoop() {
    var buffer = [UInt8](repeating: 0, count: 16_384)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if count < 0 && errno == EINTR { continue }
      condition.lock()
      if count > 0 {
        data += buffer[0..<count]
      } else {
        reachedEOF = true
      }
      condition.broadcast()
      condition.unlock()
      if count <= 0 { break }
    }
    close(fd)
  }
}

/// Output of a short-lived tool such as ssh-keygen.
struct ToolResult {
  let status: Int32
  let output: String
  let errorOutput: String
}

/// Runs `executable` to completion and collects its output; kills it when `timeout` passes.
func runTool(
  _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
  timeout: Duration = .seconds(60)
) throws -> ToolResult {
  var outputPipe: [Int32] = [0, 0]
  var errorPipe: [Int32] = [0, 0]
  guard makePipe(&outputPipe) else {
    throw LabError("run \(executable): pipe failed: \(errnoText())")
  }
  guard makePipe(&errorPipe) else {
    close(outputPipe[0])
    close(outputPipe[1])
    throw LabError("run \(executable): pipe failed: \(errnoText())")
  }
  let child: ChildProcess
  do {
    defer {
      close(outputPipe[1])
      close(errorPipe[1])
    }
    child = try ChildProcess(
      executable: executable, arguments: arguments, environment: environment,
      standardOutput: outputPipe[1], standardError: errorPipe[1])
  } catch {
    close(outputPipe[0])
    close(errorPipe[0])
    throw error
  }
  let output = PipeReader(fd: outputPipe[0], name: "fwd-lab tool stdout")
  let errors = PipeReader(fd: errorPipe[0], name: "fwd-lab tool stderr")
  guard let status = child.waitForExit(timeout: timeout) else {
    child.send(SIGKILL)
    throw LabError(
      "run \(executable) \(arguments.joined(separator: " ")): timed out after \(timeout)")
  }
  let deadline = Deadline(after: .seconds(5))
  _ = output.wait(until: deadline) { $1 }
  _ = errors.wait(until: deadline) { $1 }
  return ToolResult(status: status, output: output.text, errorOutput: errors.text)
}
