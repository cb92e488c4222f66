import CLibSSH2

/// Process-wide libssh2 set-up; `libssh2_init` is not thread-safe, so it runs once, before any session.
public enum LibSSH2 {
  private static let initialized: Bool = {
    libssh2_init(0) == 0
  }()

  public static func initialize() {
    precondition(initialized, "libssh2_init failed: the crypto backend did not initialise")
  }

  public static var version: String {
    libssh2_version(0).map { String(cString: $0) } ?? LIBSSH2_VERSION
  }
}
