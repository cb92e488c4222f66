import Foundation
import Glibc

/// The processes and directories the lab must remove when the test process exits, even after a
/// failed test that never reached `Lab.shutdown()`.
final class CleanupRegistry: @unchecked Sendable {
  static let shared = CleanupRegistry()

  private let lock = NSLock()
  private var pids: Set<pid_t> = []
  private var directories: Set<String> = []

  private init() {
    atexit {
      CleanupRegistry.shared.cleanUpAtExit()
    }
  }

  func register(pid: pid_t) {
    lock.withLock { _ = pids.insert(pid) }
  }

  func unregister(pid: pid_t) {
    lock.withLock { _ = pids.remove(pid) }
  }

  func register(directory: String) {
    lock.withLock { _ = directories.insert(directory) }
  }

  func unregister(directory: String) {
    lock.withLock { _ = directories.remove(directory) }
  }

  private func cleanUpAtExit() {
    let (livePids, liveDirectories) = lock.withLock { (pids, directories) }
    for pid in livePids {
      ProcessTree.killTree(root: pid, signal: SIGKILL)
    }
    for directory in liveDirectories {
      try? FileManager.default.removeItem(atPath: directory)
    }
  }
}
