#if canImport(Glibc)
  import Glibc
#endif

/// A failure to add a key to a known_hosts file. ssh only logs such a failure and goes on.
public struct KnownHostsWriteError: Error, Equatable, CustomStringConvertible, Sendable {
  public let path: String
  public let reason: String

  public var description: String { "cannot add host key to \(path): \(reason)" }
}

/// Appends host keys to a known_hosts file, for `StrictHostKeyChecking accept-new` and
/// confirmed `ask` prompts.
public enum KnownHostsWriter {
  /// Appends the line `name keytype base64` to the file, or `|1|salt|hash keytype base64` when
  /// `hashName` is set (HashKnownHosts yes). Missing directories are created with mode 0700
  /// and a missing file with mode 0600.
  ///
  /// Writers exclude each other with `flock` on the file, so concurrent fwd processes and
  /// threads append whole lines and lose none. Under the lock the file is read again, and when
  /// a line for `name` already lists the key, nothing is written and the result is false.
  /// The data is fsynced before the lock is released.
  @discardableResult
  public static func add(
    name: String, keyType: String, keyBlob: [UInt8], hashName: Bool, to path: String
  ) throws -> Bool {
    let path = KnownHostsFileIO.expandTilde(path)
    try createParentDirectories(of: path)
    let fd = try openLocked(path)
    defer {
      flock(fd, LOCK_UN)
      close(fd)
    }

    let existing: [UInt8]
    switch KnownHostsFileIO.readAll(fd) {
    case .success(let bytes): existing = bytes
    case .failure(let error): throw KnownHostsWriteError(path: path, reason: "read: \(error.text)")
    }
    let lowered = name.lowercased()
    let parsed = KnownHostsParser.parse(existing, file: path)
    let alreadyListed = parsed.entries.contains { entry in
      entry.marker == .none && entry.keyBlob == keyBlob && entry.hosts.matches(lowered)
    }
    if alreadyListed { return false }

    let hostField = hashName ? HostPatternMatcher.hashedHostField(lowered) : lowered
    let keyText = Base64.encode(keyBlob)
    var line = "\(hostField) \(keyType) \(keyText)\n"
    if let last = existing.last, last != UInt8(ascii: "\n") { line = "\n" + line }

    if case .failure(let error) = KnownHostsFileIO.writeAll(fd, Array(line.utf8)) {
      throw KnownHostsWriteError(path: path, reason: "write: \(error.text)")
    }
    if fsync(fd) != 0 {
      throw KnownHostsWriteError(
        path: path, reason: "fsync: \(KnownHostsFileIO.errorText(errno))")
    }
    if existing.isEmpty { syncDirectory(of: path) }
    return true
  }

  /// Opens the file for appending and takes an exclusive flock. If another process replaced
  /// the file (rename) while this one waited, the lock is on the old inode, so it reopens.
  private static func openLocked(_ path: String) throws -> Int32 {
    while true {
      let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
      if fd < 0 {
        throw KnownHostsWriteError(path: path, reason: "open: \(KnownHostsFileIO.errorText(errno))")
      }
      while flock(fd, LOCK_EX) != 0 {
        if errno == EINTR { continue }
        let reason = KnownHostsFileIO.errorText(errno)
        close(fd)
        throw KnownHostsWriteError(path: path, reason: "flock: \(reason)")
      }
      var locked = stat()
      var current = stat()
      if fstat(fd, &locked) == 0 && stat(path, &current) == 0
        && locked.st_dev == current.st_dev && locked.st_ino == current.st_ino
      {
        return fd
      }
      flock(fd, LOCK_UN)
      close(fd)
    }
  }

  private static func createParentDirectories(of path: String) throws {
    let directory = FilePath.deletingLastComponent(path)
    guard !directory.isEmpty else { return }
    var components: [String] = []
    var current = directory
    while !current.isEmpty && current != "/" && access(current, F_OK) != 0 {
      components.append(current)
      current = FilePath.deletingLastComponent(current)
    }
    for component in components.reversed() {
      if mkdir(component, 0o700) != 0 && errno != EEXIST {
        throw KnownHostsWriteError(
          path: path, reason: "mkdir \(component): \(KnownHostsFileIO.errorText(errno))")
      }
    }
  }

  /// Makes a newly created file's directory entry durable. Failure only weakens durability,
  /// so it is ignored.
  private static func syncDirectory(of path: String) {
    var directory = FilePath.deletingLastComponent(path)
    if directory.isEmpty { directory = "." }
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
  }
}
