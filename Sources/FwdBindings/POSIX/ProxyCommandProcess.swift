import Glibc

/// A ProxyCommand child: `/bin/sh -c 'exec COMMAND'` with one end of a socketpair as its stdin
/// and stdout and fwd's stderr as its own, so an SSH session can run over the other end.
///
/// The shell replaces itself with the command (`exec`), as ssh does, so the PID is the
/// command's and a signal to it reaches the command.
public final class ProxyCommandProcess {
  public let pid: pid_t
  /// fwd's end of the socketpair: non-blocking and close-on-exec.
  public let socket: Int32
  private var reaped = false
  private var exitDescription: String?

  private init(pid: pid_t, socket: Int32) {
    self.pid = pid
    self.socket = socket
  }

  /// Starts the command. The caller owns `socket`, closes it when done, and then calls
  /// `stop()`.
  public static func start(command: String) throws(SystemError) -> ProxyCommandProcess {
    // The child's end stays blocking: O_NONBLOCK belongs to the open file, which the child's
    // stdin and stdout share, and most commands expect blocking reads and writes.
    var ends: [Int32] = [-1, -1]
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    if socketpair(AF_UNIX, type, 0, &ends) != 0 { throw SystemError("socketpair") }
    let (ours, theirs) = (ends[0], ends[1])
    defer { Glibc.close(theirs) }
    do {
      try Socket.setNonBlocking(ours)
      let pid = try ShellCommand.spawn("exec " + command) { actions in
        posix_spawn_file_actions_adddup2(&actions, theirs, 0)
        posix_spawn_file_actions_adddup2(&actions, theirs, 1)
      }
      return ProxyCommandProcess(pid: pid, socket: ours)
    } catch {
      Glibc.close(ours)
      throw error
    }
  }

  /// Reaps the command if it has ended and returns how it ended, such as `exited with status
  /// 127`, or nil while it runs.
  public func exitIfEnded() -> String? {
    if reaped { return exitDescription }
    var raw: Int32 = 0
    var result: pid_t
    repeat { result = waitpid(pid, &raw, WNOHANG) } while result < 0 && errno == EINTR
    guard result == pid else { return nil }
    record(raw)
    return exitDescription
  }

  /// Ends the command as ssh does, with SIGHUP, then SIGKILL when it is still running after
  /// `grace` seconds, and reaps it.
  public func stop(grace: Double = 1) {
    guard !reaped else { return }
    if exitIfEnded() != nil { return }
    kill(pid, SIGHUP)
    let deadline = Clock.monotonicMilliseconds() + UInt64(grace * 1000)
    while Clock.monotonicMilliseconds() < deadline {
      if exitIfEnded() != nil { return }
      usleep(10_000)
    }
    kill(pid, SIGKILL)
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
    record(raw)
  }

  private func record(_ raw: Int32) {
    reaped = true
    let signal = raw & 0x7f
    exitDescription =
      signal == 0 ? "exited with status \((raw >> 8) & 0xff)" : "was killed by signal \(signal)"
  }
}
