import Foundation
import FwdLab
import Glibc
import Testing

/// `make install` and `make uninstall` into a staging directory, with the debug binary.
@Suite struct OpsInstallTests {
  static let installed = [
    "/usr/local/bin/fwd", "/usr/local/share/man/man1/fwd.1",
    "/usr/local/share/bash-completion/completions/fwd", "/usr/local/share/zsh/site-functions/_fwd",
  ]

  static func make(_ target: String, stage: String) throws -> (status: Int32, output: String) {
    let process = try FwdProcess(
      arguments: [
        "-C", FwdBinary.packageRoot, target, "DESTDIR=\(stage)", "PREFIX=/usr/local",
        "BINARY=\(FwdBinary.path)",
      ],
      binary: "/usr/bin/make")
    let status = try process.waitForExit(timeout: .seconds(60))
    return (status, process.standardOutput + process.standardError)
  }

  static func mode(_ path: String) -> mode_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/make")))
  func installThenUninstall() throws {
    let stage = try Ops.makeDirectory()
    defer { try? FileManager.default.removeItem(atPath: stage) }

    let install = try Self.make("install", stage: stage)
    #expect(install.status == 0, "\(install.output)")
    for path in Self.installed {
      #expect(Self.mode(stage + path) == (path.hasSuffix("/bin/fwd") ? 0o755 : 0o644), "\(path)")
    }
    let version = try FwdProcess(arguments: ["-V"], binary: stage + "/usr/local/bin/fwd")
    #expect(try version.waitForExit() == 0)
    #expect(version.standardOutput.hasPrefix("fwd "))

    let uninstall = try Self.make("uninstall", stage: stage)
    #expect(uninstall.status == 0, "\(uninstall.output)")
    let left = FileManager.default.enumerator(atPath: stage)?.compactMap { $0 as? String } ?? []
    let files = left.filter { !isDirectory(stage + "/" + $0) }
    #expect(files.isEmpty, "left after uninstall: \(files)")
  }
}

private func isDirectory(_ path: String) -> Bool {
  var flag: ObjCBool = false
  return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
}
