import Glibc

/// A pthread mutex in a class, for state that several threads share. It replaces
/// Foundation's NSLock so that fwd does not load Foundation. Not recursive: a thread that
/// locks it twice deadlocks.
public final class Lock: @unchecked Sendable {
  // The mutex lives on the heap because pthread_mutex_t must not move while in use, and Swift
  // may move a stored property.
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>

  public init() {
    mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  public func lock() {
    pthread_mutex_lock(mutex)
  }

  public func unlock() {
    pthread_mutex_unlock(mutex)
  }

  /// Runs `body` with the lock held and returns its result.
  public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
    lock()
    defer { unlock() }
    return try body()
  }
}
