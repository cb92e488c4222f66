import FwdBindings
import Glibc

/// The facts about this machine and user that ssh_config reading depends on, gathered in one
/// place so tests can replace them.
public struct ConfigEnvironment: Sendable {
  /// The local user's home directory, for `~`, `%d` and `~/.ssh/config`.
  public var homeDirectory: String
  /// The local user name (`%u`, Match localuser, and the default remote user).
  public var userName: String
  /// The local user ID (`%i`, and the owner a config file may have besides root).
  public var userID: UInt32
  /// The local host name with its domain (`%l`; `%L` is the part before the first dot).
  public var hostName: String
  /// The system-wide config file, read after the user's.
  public var systemConfigFile: String
  /// The directory that relative Include paths in the system config are resolved against.
  public var systemDirectory: String
  /// Environment variables for `${NAME}` expansion.
  public var variables: [String: String]
  /// Returns the home directory of another user, for `~user/...`; nil when unknown.
  public var homeDirectoryOfUser: @Sendable (String) -> String?
  /// Runs a `Match exec` command and returns its exit status, or nil when it did not exit
  /// normally.
  public var runCommand: @Sendable (String) -> Int32?

  public init(
    homeDirectory: String, userName: String, userID: UInt32, hostName: String,
    systemConfigFile: String = "/etc/ssh/ssh_config", systemDirectory: String = "/etc/ssh",
    variables: [String: String] = [:],
    homeDirectoryOfUser: @escaping @Sendable (String) -> String? = SystemCalls.homeDirectory,
    runCommand: @escaping @Sendable (String) -> Int32? = SystemCalls.runShellCommand
  ) {
    self.homeDirectory = homeDirectory
    self.userName = userName
    self.userID = userID
    self.hostName = hostName
    self.systemConfigFile = systemConfigFile
    self.systemDirectory = systemDirectory
    self.variables = variables
    self.homeDirectoryOfUser = homeDirectoryOfUser
    self.runCommand = runCommand
  }

  /// Returns the environment of this process. The user comes from getpwuid(getuid()), as
  /// in ssh, not from `$HOME` or `$USER`.
  public static func current() -> ConfigEnvironment {
    let account = SystemCalls.currentAccount()
    return ConfigEnvironment(
      homeDirectory: account.home, userName: account.name, userID: account.id,
      hostName: SystemCalls.hostName(), variables: ProcessEnvironment.all())
  }

  /// The short host name for `%L`.
  var shortHostName: String {
    String(hostName.prefix(while: { $0 != "." }))
  }
}

/// The POSIX calls behind ssh_config reading: accounts, host name, file access, globbing and
/// running `Match exec` commands.
public enum SystemCalls {
  /// Returns the name, home and ID of the user running fwd.
  static func currentAccount() -> (name: String, home: String, id: UInt32) {
    let uid = getuid()
    guard let entry = getpwuid(uid) else {
      return (String(uid), ProcessEnvironment.value("HOME") ?? "/", uid)
    }
    return (String(cString: entry.pointee.pw_name), String(cString: entry.pointee.pw_dir), uid)
  }

  /// Returns the home directory of `user` from the password database.
  @Sendable public static func homeDirectory(of user: String) -> String? {
    guard let entry = getpwnam(user) else { return nil }
    return String(cString: entry.pointee.pw_dir)
  }

  static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    return String(cString: buffer)
  }

  /// Runs `command` with `/bin/sh -c`, stdin and stdout on /dev/null and stderr inherited,
  /// as OpenSSH runs `Match exec`. Returns the exit status, or nil after a signal or when
  /// the shell could not start.
  @Sendable public static func runShellCommand(_ command: String) -> Int32? {
    do {
      return try ShellCommand.run(command)
    } catch {
      logError("Match exec", "cannot start /bin/sh for '\(command)': \(error)")
      return nil
    }
  }

  /// A file's owner and permission bits.
  struct FileStatus {
    var ownerID: UInt32
    var mode: UInt32
  }

  /// The contents of a config file and its status, read from one open descriptor.
  enum ReadResult {
    case contents(String, FileStatus)
    case missing
    /// The file exists but cannot be read; the text is strerror's.
    case failed(String)
  }

  /// Reads a whole file, following symbolic links as fopen does.
  static func readFile(_ path: String) -> ReadResult {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      return errno == ENOENT ? .missing : .failed(String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return .failed(String(cString: strerror(errno))) }
    if (info.st_mode & S_IFMT) == S_IFDIR { return .failed(String(cString: strerror(EISDIR))) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else { return .failed(String(cString: strerror(errno))) }
      if count == 0 { break }
      bytes.append(contentsOf: chunk[0..<count])
    }
    let status = FileStatus(ownerID: info.st_uid, mode: UInt32(info.st_mode))
    return .contents(String(decoding: bytes, as: UTF8.self), status)
  }

  /// Expands a glob(7) pattern into the matching paths, sorted; empty when nothing matches.
  /// Returns nil when glob fails for another reason (such as a directory it cannot read).
  static func glob(_ pattern: String) -> [String]? {
    var result = glob_t()
    defer { globfree(&result) }
    let status = Glibc.glob(pattern, 0, nil, &result)
    if status == GLOB_NOMATCH { return [] }
    guard status == 0 else { return nil }
    return (0..<Int(result.gl_pathc)).compactMap { index in
      result.gl_pathv[index].map { String(cString: $0) }
    }
  }
}
