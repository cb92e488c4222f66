import Glibc

/// Going to the background with `-f`: the process forks before it starts any thread, the
/// parent waits until the child reports that every forward is up, and only then exits.
public enum Background {
  /// The child's side: where to report readiness or failure to the waiting parent.
  public struct Reporter {
    let fd: Int32

    /// Sends the ready lines to the parent, which prints them and exits 0; then detaches the
    /// child from the terminal and from the parent's stdin and stdout.
    public func ready(_ lines: String) {
      send(status: 0, text: lines)
      _ = setsid()
      let null = open("/dev/null", O_RDWR)
      if null >= 0 {
        dup2(null, 0)
        dup2(null, 1)
        if null > 2 { close(null) }
      }
    }

    /// Sends the failure status to the parent, which exits with it. The error itself has
    /// already been logged to the shared stderr.
    public func failed(status: Int32) {
      send(status: status, text: "")
    }

    private func send(status: Int32, text: String) {
      var message = [UInt8(truncatingIfNeeded: status)] + Array(text.utf8)
      var offset = 0
      while offset < message.count {
        let n = message.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        offset += n
      }
      close(fd)
    }
  }

  /// Forks, and returns in neither process. The child runs `body` with the reporter on a new
  /// thread. The parent waits for the child's report, prints the ready lines to stdout and
  /// exits with the child's status. Must be called before any thread is started.
  ///
  /// The child's main thread only parks after the fork. The Swift runtime's locks store the
  /// owner's thread ID, which each thread caches, and the forked main thread keeps the
  /// parent's ID. When it held a runtime lock that another thread of the child waited for,
  /// FUTEX_UNLOCK_PI rejected its unlock, and both threads spun forever. Under ThreadSanitizer,
  /// with three starts at a time on 2 cores, about one `fwd -f` in 100 hung before its report.
  public static func fork(then body: @escaping (Reporter) -> Never) throws(SystemError) -> Never {
    var fds: [Int32] = [0, 0]
    if pipe(&fds) != 0 { throw SystemError("pipe") }
    let start = ChildStart(reporter: Reporter(fd: fds[1]), body: body)
    let pid = Glibc.fork()
    if pid < 0 { throw SystemError("fork") }
    if pid == 0 {
      close(fds[0])
      Socket.setCloseOnExec(fds[1])
      continueOnNewThread(start)
    }
    close(fds[1])
    waitForChild(pid: pid, reportFD: fds[0])
  }

  /// The child's work, passed to its new thread.
  private final class ChildStart {
    let reporter: Reporter
    let body: (Reporter) -> Never
    var signalMask = sigset_t()

    init(reporter: Reporter, body: @escaping (Reporter) -> Never) {
      self.reporter = reporter
      self.body = body
    }
  }

  /// Runs `start` on a new thread and parks the calling thread for good. Once the new thread
  /// exists, this thread makes only C calls. It blocks every signal first, so that no Swift
  /// signal handler runs on it, and the new thread restores the signal mask.
  private static func continueOnNewThread(_ start: ChildStart) -> Never {
    var all = sigset_t()
    sigfillset(&all)
    pthread_sigmask(SIG_BLOCK, &all, &start.signalMask)
    let context = Unmanaged.passRetained(start).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(
      &thread, nil,
      { context in
        let start = Unmanaged<ChildStart>.fromOpaque(context!).takeRetainedValue()
        pthread_sigmask(SIG_SETMASK, &start.signalMask, nil)
        start.body(start.reporter)
      }, context)
    if created != 0 { _exit(70) }
    // The new thread ends the process with exit(), so the join returns only if it fails.
    pthread_join(thread, nil)
    _exit(70)
  }

  private static func waitForChild(pid: pid_t, reportFD: Int32) -> Never {
    var report: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(reportFD, &buffer, buffer.count)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      report += buffer[0..<n]
    }
    guard let status = report.first else {
      // The child ended without a report: take its own exit status.
      var waitStatus: Int32 = 0
      while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
      let exited = waitStatus & 0x7f == 0
      _exit(exited ? (waitStatus >> 8) & 0xff : 70)
    }
    if status != 0 {
      var waitStatus: Int32 = 0
      while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
      _exit(Int32(status))
    }
    var text = Array(report.dropFirst())
    var offset = 0
    while offset < text.count {
      let n = text.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      offset += n
    }
    _exit(0)
  }
}
