import Glibc

/// The `--pidfile` file: fwd's process ID and a newline, written once every forward is up and
/// removed on exit.
enum PIDFile {
  /// Fails early, before any hop is dialled, when the file's directory cannot take the file.
  static func checkWritable(_ path: String) throws(FwdError) {
    let directory = FilePath.deletingLastComponent(path)
    let checked = directory.isEmpty ? "." : directory
    if access(checked, W_OK | X_OK) != 0 {
      throw FwdError(
        .usage,
        "--pidfile \(path): directory \(checked) is not writable: \(String(cString: strerror(errno)))"
      )
    }
  }

  /// Writes this process's ID. The file appears whole, through a rename, so a script that
  /// finds it never reads it half-written.
  static func write(_ path: String) throws(FwdError) {
    let text = "\(getpid())\n"
    let temporary = "\(path).\(getpid()).tmp"
    let written = createFile(temporary, contents: text)
    guard written, rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw FwdError(.usage, "--pidfile \(path): cannot write the process ID: \(reason)")
    }
  }

  /// Removes the file if it still contains this process's ID, so a file another fwd has since
  /// written to the same path is left alone.
  static func remove(_ path: String) {
    guard case .contents(let bytes) = KnownHostsFileIO.readFile(path),
      bytes == Array("\(getpid())\n".utf8)
    else { return }
    unlink(path)
  }

  /// Creates or truncates `path` (mode 0666 less the umask) and writes `contents`. On failure
  /// errno is the failed call's.
  private static func createFile(_ path: String, contents: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
    guard fd >= 0 else { return false }
    let result = KnownHostsFileIO.writeAll(fd, Array(contents.utf8))
    let writeErrno = errno
    close(fd)
    guard case .success = result else {
      errno = writeErrno
      return false
    }
    return true
  }
}
