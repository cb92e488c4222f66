import Glibc

/// A command run to completion with `/bin/sh -c`, as OpenSSH runs `Match exec`.
public enum ShellCommand {
  /// Runs `command` with stdin and stdout on /dev/null and fwd's stderr, and waits for it.
  /// Returns the exit status, or nil when a signal ended it. The command gets no descriptor
  /// above 2 (with glibc 2.34 or later), default signal dispositions and no blocked signals.
  public static func run(_ command: String) throws(SystemError) -> Int32? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    if let closeFrom = ProxyCommandProcess.addCloseFrom { _ = closeFrom(&actions, 3) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for number in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGUSR1] { sigaddset(&defaults, number) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let arguments = ["/bin/sh", "-c", command]
    let cArguments = arguments.map { strdup($0) } + [nil]
    defer { for pointer in cArguments { free(pointer) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, arguments[0], &actions, &attributes, cArguments, environ)
    guard status == 0 else { throw SystemError("posix_spawn /bin/sh", errno: status) }

    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 {
      guard errno == EINTR else { throw SystemError("waitpid") }
    }
    // The low 7 bits are the signal that ended the process, 0 when it exited.
    guard raw & 0x7f == 0 else { return nil }
    return (raw >> 8) & 0xff
  }
}
