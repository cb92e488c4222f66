import Foundation
import Glibc

/// Process relations read from /proc, to reach the per-connection children that sshd forks.
public enum ProcessTree {
  /// Returns `root` and all its descendants alive now, parents before children.
  public static func processAndDescendants(of root: pid_t) -> [pid_t] {
    var children: [pid_t: [pid_t]] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = pid_t(entry), let parent = parentAndState(of: pid)?.parent else { continue }
      children[parent, default: []].append(pid)
    }
    var result = [root]
    var index = 0
    while index < result.count {
      result += children[result[index]] ?? []
      index += 1
    }
    return result
  }

  /// Sends `signal` to `root` and to every descendant, collected before the first signal so
  /// that children reparented by the kill are not missed.
  public static func killTree(root: pid_t, signal: Int32) {
    for pid in processAndDescendants(of: root) {
      kill(pid, signal)
    }
  }

  /// Tells whether `pid` names a process that still runs. A zombie counts as gone, because
  /// orphans stay zombies forever on machines whose PID 1 does not reap them.
  public static func isAlive(_ pid: pid_t) -> Bool {
    guard let state = parentAndState(of: pid)?.state else { return false }
    return state != "Z" && state != "X"
  }

  /// Waits until none of `pids` is alive; returns false when `timeout` passes first.
  public static func waitUntilGone(_ pids: [pid_t], timeout: Duration) -> Bool {
    let deadline = Deadline(after: timeout)
    while pids.contains(where: isAlive) {
      if deadline.hasPassed { return false }
      sleepMilliseconds(10)
    }
    return true
  }

  /// Reads the parent PID and the state letter from /proc/PID/stat.
  static func parentAndState(of pid: pid_t) -> (parent: pid_t, state: Character)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let commandEnd = text.lastIndex(of: ")")
    else { return nil }
    // The command name in parentheses may contain spaces, so fields count from its end.
    let fields = text[text.index(after: commandEnd)...].split(separator: " ")
    guard fields.count > 2, let state = fields[0].first, let parent = pid_t(fields[1]) else {
      return nil
    }
    return (parent, state)
  }
}
