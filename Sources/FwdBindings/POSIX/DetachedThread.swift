import Glibc

/// Starts detached pthreads, in place of Foundation's Thread so that fwd does not load
/// Foundation.
public enum DetachedThread {
  /// Runs `body` on a new detached thread with a stack of `stackSize` bytes (the system
  /// default when nil). `name` appears in /proc/PID/task/TID/comm and in debuggers, cut to the
  /// 15 bytes that Linux keeps. pthread_create fails only for lack of resources or an invalid
  /// stack size, which fwd cannot recover from, so a failure stops fwd with the reason.
  public static func start(
    name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void
  ) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }

    let context = Unmanaged.passRetained(Context(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(
      &thread, &attributes,
      { raw in
        let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
        if let name = context.name { DetachedThread.setCurrentName(name) }
        context.body()
        return nil
      }, context)
    guard status == 0 else {
      Unmanaged<Context>.fromOpaque(context).release()
      fatalError("pthread_create failed: \(SystemError("pthread_create", errno: status).reason)")
    }
  }

  private final class Context {
    let name: String?
    let body: @Sendable () -> Void

    init(name: String?, body: @escaping @Sendable () -> Void) {
      self.name = name
      self.body = body
    }
  }

  /// Names the calling thread. Linux rejects names longer than 15 bytes, so the name is cut at
  /// a character boundary that fits.
  private static func setCurrentName(_ name: String) {
    guard let setName else { return }
    var bytes: [UInt8] = []
    for character in name {
      let encoded = Array(String(character).utf8)
      if bytes.count + encoded.count > 15 { break }
      bytes += encoded
    }
    _ = String(decoding: bytes, as: UTF8.self).withCString { setName(pthread_self(), $0) }
  }

  /// glibc's `pthread_setname_np`, a GNU extension that the Glibc module does not import.
  private static let setName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
    // A nil handle is RTLD_DEFAULT: search the libraries already loaded.
    guard let symbol = dlsym(nil, "pthread_setname_np") else { return nil }
    return unsafeBitCast(
      symbol, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
  }()
}
