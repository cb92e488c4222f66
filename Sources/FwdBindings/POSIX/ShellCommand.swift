import Glibc

/// Commands run with `/bin/sh -c`, for `Match exec` and ProxyCommand.
public enum ShellCommand {
  /// Runs `command` with stdin and stdout on /dev/null and fwd's stderr, and waits for it, as
  /// OpenSSH runs `Match exec`. Returns the exit status, or nil when a signal ended it.
  public static func run(_ command: String) throws(SystemError) -> Int32? {
    let pid = try spawn(command) { actions in
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 {
      guard errno == EINTR else { throw SystemError("waitpid") }
    }
    // The low 7 bits are the signal that ended the process, 0 when it exited.
    guard raw & 0x7f == 0 else { return nil }
    return (raw >> 8) & 0xff
  }

  /// Starts `/bin/sh -c command` and returns its PID. `redirect` sets up descriptors 0 and 1;
  /// descriptor 2 stays fwd's stderr.
  static func spawn(
    _ command: String, redirect: (inout posix_spawn_file_actions_t) -> Void
  ) throws(SystemError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    redirect(&actions)
    // Descriptors fwd was given without close-on-exec, such as --ready-fd, must not stay open
    // in the command: a script waiting for that descriptor to close would wait for the
    // command to end.
    if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }

    // fwd ignores SIGPIPE and handles SIGINT and SIGTERM. The command starts with the default
    // dispositions and no blocked signals, as a command started from a shell does.
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
    return pid
  }

  /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which the Glibc
  /// module does not import. NOTE: with an older glibc it is nil and descriptors without
  /// close-on-exec reach the command.
  static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    // A nil handle is RTLD_DEFAULT: search the libraries already loaded.
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
      return nil
    }
    return unsafeBitCast(
      symbol,
      to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)
        .self)
  }()
}
