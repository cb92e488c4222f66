import Foundation
import Glibc

/// A child process of the lab, reaped by its own waiter thread.
///
/// Every child is registered with `CleanupRegistry`, so it and its descendants are killed when
/// the test process exits, and it runs under `setpriv --pdeathsig KILL`, so it dies with a test
/// process that crashes.
final class ChildProcess: @unchecked Sendable {
  let pid: pid_t
  let executable: String

  private let condition = NSCondition()
  private var status: Int32?

  /// Starts `executable` (an absolute path) with `arguments`.
  ///
  /// - Parameters:
  ///   - environment: the whole environment of the child; nil inherits this process's.
  ///   - standardInput, standardOutput, standardError: descriptors to give the child; nil means
  ///     /dev/null. The caller keeps ownership of them.
  ///   - inheritedDescriptors: more descriptors to give the child, as its descriptors 3, 4, …
  ///     in order. The caller keeps ownership of them.
  ///   - newSession: starts the child in a new session (setsid), so it has no controlling
  ///     terminal even when this process has one.
  init(
    executable: String, arguments: [String], environment: [String: String]? = nil,
    standardInput: Int32? = nil, standardOutput: Int32? = nil, standardError: Int32? = nil,
    inheritedDescriptors: [Int32] = [], newSession: Bool = false
  ) throws {
    guard access(executable, X_OK) == 0 else {
      throw LabError("start \(executable): not an executable file: \(errnoText())")
    }
    self.executable = executable
    let argv = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", executable] + arguments
    let environ = (environment ?? ProcessInfo.processInfo.environment).map {
      "\($0.key)=\($0.value)"
    }
    let descriptors = [standardInput, standardOutput, standardError] + inheritedDescriptors
    pid = try Spawner.shared.perform {
      try ChildProcess.spawn(
        argv: argv, environment: environ, descriptors: descriptors, newSession: newSession)
    }
    CleanupRegistry.shared.register(pid: pid)

    let waiter = Thread { [self] in self.reap() }
    waiter.name = "fwd-lab waiter \(pid)"
    waiter.start()
  }

  /// The exit status once the child has ended: the exit code, or 128 + the signal number for a
  /// child killed by a signal, as a shell reports it.
  var exitStatus: Int32? {
    condition.lock()
    defer { condition.unlock() }
    return status
  }

  var isRunning: Bool { exitStatus == nil }

  /// Sends `signalNumber` to the child alone, unless it has been reaped already.
  func send(_ signalNumber: Int32) {
    condition.lock()
    defer { condition.unlock() }
    // Once reaped, the PID may belong to an unrelated process.
    if status == nil { kill(pid, signalNumber) }
  }

  /// Waits until the child has ended; returns its exit status, or nil when `timeout` passes.
  func waitForExit(timeout: Duration) -> Int32? {
    let deadline = Deadline(after: timeout)
    condition.lock()
    defer { condition.unlock() }
    while status == nil {
      let seconds = deadline.remainingSeconds
      if seconds <= 0 { return nil }
      _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
    }
    return status
  }

  private func reap() {
    // Wait without reaping first: the PID stays ours until `status` is set under the lock, so
    // `send` can never signal a process that reused the PID.
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
    condition.lock()
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
    let signalNumber = raw & 0x7f
    status = signalNumber == 0 ? (raw >> 8) & 0xff : 128 + signalNumber
    CleanupRegistry.shared.unregister(pid: pid)
    condition.broadcast()
    condition.unlock()
  }

  /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
  /// module does not import.
  private static let addCloseFrom:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
      // A nil handle is RTLD_DEFAULT: search the libraries already loaded.
      guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
      else { return nil }
      return unsafeBitCast(
        symbol,
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
      )
    }()

  private static func spawn(
    argv: [String], environment: [String], descriptors: [Int32?], newSession: Bool
  ) throws -> pid_t {
    // Each source is first copied above the child's last target number, so that a dup2 onto
    // a target cannot overwrite a source that a later dup2 still reads.
    let sources = try descriptors.map { source in
      try source.map { try duplicate($0, atLeast: Int32(descriptors.count)) }
    }
    defer { for case let copy? in sources { close(copy) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, source) in sources.enumerated() {
      if let source {
        posix_spawn_file_actions_adddup2(&actions, source, Int32(target))
      } else {
        posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", O_RDWR, 0)
      }
    }
    // Descriptors of other tests running in parallel must not leak into this child.
    if let closeFrom = ChildProcess.addCloseFrom {
      _ = closeFrom(&actions, Int32(max(3, descriptors.count)))
    }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signalNumber in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] {
      sigaddset(&defaults, signalNumber)
    }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    if newSession { flags |= setSessionFlag }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    let cArguments = argv.map { strdup($0) } + [nil]
    let cEnvironment = environment.map { strdup($0) } + [nil]
    defer {
      for pointer in cArguments + cEnvironment { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
    guard result == 0 else {
      throw LabError("start \(argv[4]): posix_spawn failed: \(errnoText(result))")
    }
    return pid
  }

  /// glibc's `POSIX_SPAWN_SETSID` (2.26 and later), which Swift's Glibc module does not import.
  private static let setSessionFlag: Int32 = 0x80

  /// Returns a close-on-exec copy of `descriptor` numbered `minimum` or higher.
  private static func duplicate(_ descriptor: Int32, atLeast minimum: Int32) throws -> Int32 {
    let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, minimum)
    guard copy >= 0 else {
      throw LabError("start child: copy descriptor \(descriptor) failed: \(errnoText())")
    }
    return copy
  }
}
