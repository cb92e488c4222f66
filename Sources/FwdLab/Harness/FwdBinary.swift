import Foundation

/// The location of the fwd executable under test.
public enum FwdBinary {
  /// The FWD_BINARY environment variable when set, else `.build/debug/fwd` in the package that
  /// contains this source file.
  public static var path: String {
    if let path = ProcessInfo.processInfo.environment["FWD_BINARY"], !path.isEmpty {
      return path
    }
    return packageRoot + "/.build/debug/fwd"
  }

  /// The nearest directory above this source file that contains Package.swift.
  public static var packageRoot: String {
    var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while directory.path != "/" {
      if FileManager.default.fileExists(
        atPath: directory.appendingPathComponent("Package.swift").path)
      {
        return directory.path
      }
      directory = directory.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
  }
}
