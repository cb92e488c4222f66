import Foundation
import Glibc

/// The `--pidfile` file: fwd's process ID and a newline, written once every forward is up and
/// removed on exit.
enum PIDFile {
  /// Fails early, before any hop is dialled, when the file's directory cannot take the file.
  static func checkWritable(_ path: String) throws(FwdError) {
    let directory = (path as NSString).deletingLastPathComponent
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
    let written = FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8))
    guard written, rename(temporary, path) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw FwdError(.usage, "--pidfile \(path): cannot write the process ID: \(reason)")
    }
  }

  /// Removes the file if it still contains this process's ID, so a file another fwd has since
  /// written to the same path is left alone.
  static func remove(_ path: String) {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
      text == "\(getpid())\n"
    else { return }
    unlink(path)
  }
}
