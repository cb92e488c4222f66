import Foundation
import Glibc

/// A running fwd under test, with its stdout and stderr collected on background threads.
public final class FwdProcess: @unchecked Sendable {
  public let arguments: [String]
  private let child: ChildProcess
  private let output: PipeReader
  private let errors: PipeReader
  private let inputFD: Int32?

  /// Starts `binary` with `arguments`.
  ///
  /// - Parameters:
  ///   - environment: variables set on top of this process's environment.
  ///   - unsetEnvironment: variables removed from it, e.g. SSH_AUTH_SOCK.
  ///   - standardInput: with true, stdin is a pipe fed by `writeToStandardInput`; otherwise
  ///     /dev/null.
  ///   - standardError: a descriptor to give fwd as stderr in place of the collecting pipe, e.g.
  ///     a pseudo-terminal's secondary side; `standardError` then stays empty. The caller keeps
  ///     ownership of it.
  ///   - inheritedDescriptors: descriptors fwd gets as 3, 4, … in order, e.g. the read end of
  ///     a pipe for `--pin-fd 3`. The caller keeps ownership of them.
  ///   - newSession: starts fwd in a new session, as setsid(1) does, so it has no controlling
  ///     terminal and cannot open /dev/tty.
  public init(
    arguments: [String], environment: [String: String] = [:], unsetEnvironment: [String] = [],
    standardInput: Bool = false, standardError errorDescriptor: Int32? = nil,
    inheritedDescriptors: [Int32] = [], newSession: Bool = false,
    binary: String = FwdBinary.path
  ) throws {
    self.arguments = arguments
    guard access(binary, X_OK) == 0 else {
      throw LabError(
        "start fwd: \(binary) is not an executable file: build it with `swift build` or set "
          + "FWD_BINARY")
    }
    var fullEnvironment = ProcessInfo.processInfo.environment
    for name in unsetEnvironment { fullEnvironment[name] = nil }
    fullEnvironment.merge(environment) { $1 }

    var outputPipe: [Int32] = [0, 0]
    var errorPipe: [Int32] = [0, 0]
    var inputPipe: [Int32] = [-1, -1]
    guard makePipe(&outputPipe), makePipe(&errorPipe), !standardInput || makePipe(&inputPipe)
    else { throw LabError("start fwd: pipe failed: \(errnoText())") }
    defer {
      close(outputPipe[1])
      close(errorPipe[1])
      if standardInput { close(inputPipe[0]) }
    }
    do {
      child = try ChildProcess(
        executable: binary, arguments: arguments, environment: fullEnvironment,
        standardInput: standardInput ? inputPipe[0] : nil, standardOutput: outputPipe[1],
        standardError: errorDescriptor ?? errorPipe[1], inheritedDescriptors: inheritedDescriptors,
        newSession: newSession)
    } catch {
      for fd in [outputPipe[0], errorPipe[0], inputPipe[1]] where fd >= 0 { close(fd) }
      throw error
    }
    inputFD = standardInput ? inputPipe[1] : nil
    output = PipeReader(fd: outputPipe[0], name: "fwd-lab fwd stdout")
    errors = PipeReader(fd: errorPipe[0], name: "fwd-lab fwd stderr")
  }

  /// Kills fwd with SIGKILL if it still runs.
  deinit {
    if child.isRunning {
      child.send(SIGKILL)
      _ = child.waitForExit(timeout: .seconds(5))
    }
    if let inputFD { close(inputFD) }
  }

  public var pid: pid_t { child.pid }
  public var isRunning: Bool { child.isRunning }
  /// Everything fwd wrote to stdout so far.
  public var standardOutput: String { output.text }
  /// Everything fwd wrote to stderr so far.
  public var standardError: String { errors.text }
  /// The exit status once fwd has ended: its exit code, or 128 + the signal number.
  public var exitStatus: Int32? { child.exitStatus }

  /// Waits for `count` ready lines on stdout and returns them in order.
  ///
  /// Throws when fwd exits or closes stdout first, or when `timeout` passes; the error includes
  /// fwd's stdout and stderr. Lines that are not ready lines are skipped.
  public func waitForReadyLines(count: Int = 1, timeout: Duration = .seconds(30)) throws
    -> [ReadyLine]
  {
    let deadline = Deadline(after: timeout)
    let complete = output.wait(until: deadline) { text, atEOF in
      atEOF || FwdProcess.readyLines(in: text).count >= count
    }
    let lines = Array(FwdProcess.readyLines(in: output.text).prefix(count))
    if lines.count == count { return lines }
    let reason =
      complete ? "fwd closed stdout after \(lines.count) lines" : "timed out after \(timeout)"
    throw LabError(
      "wait for \(count) ready lines from fwd \(arguments.joined(separator: " ")): \(reason)"
        + outputSummary())
  }

  /// Sends SIGTERM.
  public func terminate() {
    child.send(SIGTERM)
  }

  /// Sends SIGINT, as Ctrl-C in a terminal would.
  public func interrupt() {
    child.send(SIGINT)
  }

  /// Sends SIGKILL.
  public func kill() {
    child.send(SIGKILL)
  }

  public func send(signal signalNumber: Int32) {
    child.send(signalNumber)
  }

  /// Waits until fwd has ended and returns its exit status (exit code, or 128 + signal number);
  /// throws when `timeout` passes first.
  public func waitForExit(timeout: Duration = .seconds(10)) throws -> Int32 {
    guard let status = child.waitForExit(timeout: timeout) else {
      throw LabError(
        "wait for fwd \(arguments.joined(separator: " ")) to exit: timed out after \(timeout)"
          + outputSummary())
    }
    // The reader threads may not have drained the pipes yet. A descendant that inherited them
    // can hold them open past the exit, so this waits 2 seconds at most.
    let deadline = Deadline(after: .seconds(2))
    _ = output.wait(until: deadline) { $1 }
    _ = errors.wait(until: deadline) { $1 }
    return status
  }

  /// Waits until stderr contains `text`; returns false when `timeout` passes first or fwd closes
  /// stderr without writing it.
  public func waitForStandardError(containing text: String, timeout: Duration = .seconds(10))
    -> Bool
  {
    _ = errors.wait(until: Deadline(after: timeout)) { written, atEOF in
      atEOF || written.contains(text)
    }
    return errors.text.contains(text)
  }

  /// Waits until stdout contains `text`; returns false when `timeout` passes first or fwd closes
  /// stdout without writing it.
  public func waitForStandardOutput(containing text: String, timeout: Duration = .seconds(10))
    -> Bool
  {
    _ = output.wait(until: Deadline(after: timeout)) { written, atEOF in
      atEOF || written.contains(text)
    }
    return output.text.contains(text)
  }

  /// Writes `text` to fwd's stdin; requires `standardInput: true` at start.
  public func writeToStandardInput(_ text: String) throws {
    guard let inputFD else {
      throw LabError("write to fwd stdin: fwd was started without standardInput: true")
    }
    var bytes = Array(text.utf8)
    defer {
      // The text may be a PIN or passphrase.
      for index in bytes.indices { bytes[index] = 0 }
    }
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { write(inputFD, $0.baseAddress!, $0.count) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { throw LabError("write to fwd stdin failed: \(errnoText())") }
      offset += written
    }
  }

  static func readyLines(in text: String) -> [ReadyLine] {
    // Only complete lines count: a line still being written could parse with a cut port.
    let complete =
      text.hasSuffix("\n") ? text[...] : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
    return complete.split(separator: "\n").compactMap { ReadyLine(parsing: $0) }
  }

  private func outputSummary() -> String {
    let status = exitStatus.map { "; exit status \($0)" } ?? ""
    return "\(status); stdout: '\(standardOutput)'; stderr: '\(standardError)'"
  }
}
