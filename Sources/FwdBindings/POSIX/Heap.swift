import Glibc

/// Process-wide settings of the glibc allocator.
public enum Heap {
  /// Keeps up to `bytes` of freed memory at the top of each heap instead of returning it to
  /// the kernel. Returns false when the C library has no `mallopt` (not glibc) or rejects it.
  ///
  /// libssh2 1.10 allocates every received packet and frees it once a channel read consumed
  /// it. With glibc's default 128 KiB threshold the heap of a busy hop shrank with madvise
  /// and grew back page by page: 60,000 to 250,000 page faults per GiB downloaded through 2
  /// loopback hops (perf stat), and about 1,200 with a 32 MiB threshold.
  @discardableResult
  public static func retainFreedMemory(upTo bytes: Int32) -> Bool {
    // Swift's Glibc module leaves out <malloc.h>, where M_TRIM_THRESHOLD is -1.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let trimThreshold: Int32 = -1
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
    return unsafeBitCast(symbol, to: Mallopt.self)(trimThreshold, bytes) == 1
  }
}
