import FwdBindings
import Glibc

/// Asks for the PIN through an askpass program, as ssh does: the prompt is its one argument
/// and the PIN is the first line of its standard output. A non-zero exit status means the
/// person cancelled.
final class AskpassPINReader: PINReader {
  let program: String
  let isInteractive = true
  var sourceName: String { "askpass \(program)" }

  init(program: String) { self.program = program }

  func readPIN(token: String, notice: String?) throws(FwdError) -> SecretBytes {
    let prompt = (notice.map { $0 + "\n" } ?? "") + "Enter PIN for '\(token)': "
    var pipeEnds: [Int32] = [-1, -1]
    guard pipe(&pipeEnds) == 0 else {
      throw FwdError(.authentication, "\(sourceName): cannot create a pipe: \(errnoText())")
    }
    let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
    // Only the askpass child may hold the write end, or the read below never sees EOF.
    _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
    _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
    defer { close(readEnd) }
    let child = spawn(prompt: prompt, stdout: writeEnd)
    close(writeEnd)
    let pid: pid_t
    switch child {
    case .success(let started):
      pid = started
    case .failure(let code):
      throw FwdError(
        .authentication,
        "\(sourceName): cannot run: \(String(cString: strerror(code))): check SSH_ASKPASS")
    }
    let pin: SecretBytes
    do {
      pin = try readPINLine(readEnd, source: sourceName)
    } catch {
      _ = waitForExit(pid)
      throw FwdError(.authentication, "token '\(token)': no PIN entered in \(sourceName)")
    }
    let status = waitForExit(pid)
    guard status == 0 else {
      pin.wipe()
      throw FwdError(
        .authentication, "token '\(token)': PIN entry cancelled (\(sourceName) exited \(status))")
    }
    return pin
  }

  private enum SpawnResult {
    case success(pid_t)
    case failure(Int32)
  }

  /// Starts the program with `stdout` as its standard output; stdin and stderr are inherited.
  private func spawn(prompt: String, stdout: Int32) -> SpawnResult {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    var pid: pid_t = 0
    let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(program), strdup(prompt), nil]
    defer { for argument in arguments { free(argument) } }
    let status = posix_spawnp(&pid, program, &actions, nil, arguments, environ)
    return status == 0 ? .success(pid) : .failure(status)
  }

  /// Waits for `pid` and returns its exit status, or 128 + the signal that ended it.
  private func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }
}
