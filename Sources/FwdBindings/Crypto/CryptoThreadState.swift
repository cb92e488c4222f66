import CLibCrypto

/// OpenSSL's state for one thread, such as its random generators, kept in thread-local storage.
public enum CryptoThreadState {
  /// Frees the calling thread's OpenSSL state now instead of when the thread exits.
  ///
  /// A thread that fwd waits for calls this before it reports that it has ended. fwd may exit
  /// as soon as it hears, and OpenSSL's exit handler (OPENSSL_cleanup in OpenSSL 3) deletes the
  /// thread-local key whose destructor frees that state, so a thread still ending then leaks it.
  public static func release() { OPENSSL_thread_stop() }
}
