import Foundation
import Glibc

/// Runs every `posix_spawn` of the lab on one thread that lives as long as the process.
///
/// Children start under `setpriv --pdeathsig KILL`, and Linux sends the parent-death signal
/// when the spawning *thread* exits, not the process. Spawning from a test's worker thread
/// could kill an sshd as soon as that thread retires, so all spawns happen here.
final class Spawner: @unchecked Sendable {
  static let shared = Spawner()

  private let condition = NSCondition()
  private var jobs: [() -> Void] = []

  private init() {
    // A write to a closed pipe or socket must return EPIPE, not end the test process.
    signal(SIGPIPE, SIG_IGN)
    let thread = Thread { [unowned self] in self.serve() }
    thread.name = "fwd-lab spawner"
    thread.start()
  }

  /// Runs `body` on the spawner thread and returns its result.
  func perform<T>(_ body: @escaping () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    var result: Result<T, Error>!
    condition.lock()
    jobs.append {
      result = Result { try body() }
      done.signal()
    }
    condition.signal()
    condition.unlock()
    done.wait()
    return try result.get()
  }

  private func serve() {
    while true {
      condition.lock()
      while jobs.isEmpty { condition.wait() }
      let job = jobs.removeFirst()
      condition.unlock()
      job()
    }
  }
}
