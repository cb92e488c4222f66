import Glibc

public enum FileStatus {
  /// Whether `path` exists and is a socket (lstat, so a symbolic link is not followed).
  public static func isSocket(_ path: String) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else { return false }
    return info.st_mode & S_IFMT == S_IFSOCK
  }
}
