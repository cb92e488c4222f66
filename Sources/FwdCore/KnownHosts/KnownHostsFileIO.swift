import FwdBindings

#if canImport(Glibc)
  import Glibc
#endif

/// POSIX file reads and writes for known_hosts files, with errno turned into text.
enum KnownHostsFileIO {
  enum ReadOutcome {
    case contents([UInt8])
    case missing
    case failed(String)
  }

  /// Reads a whole file. A missing file or missing directory on its path is `.missing`.
  static func readFile(_ path: String) -> ReadOutcome {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      let error = errno
      if error == ENOENT || error == ENOTDIR { return .missing }
      return .failed(errorText(error))
    }
    defer { close(fd) }
    switch readAll(fd) {
    case .success(let bytes): return .contents(bytes)
    case .failure(let error): return .failed(error.text)
    }
  }

  struct SystemError: Error {
    let text: String
  }

  /// Reads `fd` from offset 0 to its end with `pread`, so the file offset does not matter.
  static func readAll(_ fd: Int32) -> Result<[UInt8], SystemError> {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { raw in
        pread(fd, raw.baseAddress, raw.count, off_t(bytes.count))
      }
      if count < 0 {
        if errno == EINTR { continue }
        return .failure(SystemError(text: errorText(errno)))
      }
      if count == 0 { return .success(bytes) }
      bytes.append(contentsOf: buffer[0..<count])
    }
  }

  /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
  static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Result<Void, SystemError> {
    var offset = 0
    while offset < bytes.count {
      let count = bytes.withUnsafeBytes { raw in
        write(fd, raw.baseAddress! + offset, raw.count - offset)
      }
      if count < 0 {
        if errno == EINTR { continue }
        return .failure(SystemError(text: errorText(errno)))
      }
      offset += count
    }
    return .success(())
  }

  static func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
  }

  /// Expands a leading `~` or `~/` to the home directory (HOME, else the password database).
  static func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    return homeDirectory() + path.dropFirst()
  }

  static func homeDirectory() -> String {
    if let home = ProcessEnvironment.value("HOME"), !home.isEmpty { return home }
    if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
      return String(cString: directory)
    }
    return "/"
  }
}
