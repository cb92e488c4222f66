import Foundation
import FwdLab
import Glibc

/// CPU time and memory of a group of processes, read from /proc.
enum ProcessStats {
  static let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

  /// Returns the user plus system CPU seconds that `pids` have used so far, from fields 14 and 15
  /// of /proc/PID/stat (in clock ticks, usually 10 ms). Processes already gone count as 0.
  static func cpuSeconds(of pids: [pid_t]) -> Double {
    pids.reduce(0) { total, pid in
      guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let commandEnd = text.lastIndex(of: ")")
      else { return total }
      // The command name may contain spaces, so fields count from its closing parenthesis:
      // index 0 is the state, 11 utime and 12 stime.
      let fields = text[text.index(after: commandEnd)...].split(separator: " ")
      guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12])
      else { return total }
      return total + (user + system) / clockTicksPerSecond
    }
  }

  /// Returns the sum of the resident set sizes of `pids` now (VmRSS), in bytes.
  static func residentBytes(of pids: [pid_t]) -> Int {
    pids.reduce(0) { $0 + (statusField("VmRSS", of: $1) ?? 0) }
  }

  /// Returns the sum of the peak resident set sizes of `pids` (VmHWM), in bytes. The processes
  /// may have peaked at different times, so this can exceed the peak of the sum.
  static func peakResidentBytes(of pids: [pid_t]) -> Int {
    pids.reduce(0) { $0 + (statusField("VmHWM", of: $1) ?? 0) }
  }

  /// Returns `root` and its descendants alive now, without zombies.
  static func tree(of root: pid_t) -> [pid_t] {
    ProcessTree.processAndDescendants(of: root).filter(ProcessTree.isAlive)
  }

  /// Returns a "kB" field of /proc/PID/status in bytes, e.g. VmRSS; nil when absent.
  private static func statusField(_ name: String, of pid: pid_t) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
      return nil
    }
    for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
      return kilobytes * 1024
    }
    return nil
  }
}
