import Foundation
import Glibc

/// The machine and the versions of the software under test, for the report.
struct MachineInfo {
  var cpuModel = "unknown"
  var cores = 0
  var memoryGiB = 0.0
  var kernel = "unknown"
  var openSSH = "unknown"
  var libssh2 = "unknown"
  var swift = "unknown"

  /// Reads /proc and runs `ssh -V`, `dpkg-query` and `swift --version`.
  static func current(sshPath: String) -> MachineInfo {
    var info = MachineInfo()
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    if let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let colon = line.firstIndex(of: ":")
    {
      info.cpuModel = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    info.cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    let pages = Double(sysconf(Int32(_SC_PHYS_PAGES)))
    info.memoryGiB = pages * Double(sysconf(Int32(_SC_PAGESIZE))) / Double(1 << 30)
    var names = utsname()
    uname(&names)
    info.kernel = withUnsafeBytes(of: names.release) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    if let text = commandOutput(sshPath, ["-V"]) { info.openSSH = text }
    if let text = commandOutput(
      "/usr/bin/dpkg-query", ["-W", "-f", "${Version}", "libssh2-1"])
    {
      info.libssh2 = "libssh2-1 " + text
    }
    if let text = commandOutput("/usr/bin/env", ["swift", "--version"]) {
      info.swift = String(text.split(separator: "\n").first ?? "")
    }
    return info
  }

  /// Returns the 1-minute load average from /proc/loadavg.
  static func loadAverage() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else {
      return nil
    }
    return text.split(separator: " ").first.flatMap { Double($0) }
  }

  /// Runs `executable` and returns its stdout and stderr together, trimmed; nil when it cannot
  /// start or exits with a failure.
  static func commandOutput(_ executable: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      return nil
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
