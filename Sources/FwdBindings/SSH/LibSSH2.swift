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

/// libssh2's method kinds for `SSHSession.setMethodPreference` and `supportedMethods`.
public enum SSHMethodKind: Int32, Sendable {
  case keyExchange = 0  // LIBSSH2_METHOD_KEX
  case hostKey = 1  // LIBSSH2_METHOD_HOSTKEY
  case cipherClientToServer = 2  // LIBSSH2_METHOD_CRYPT_CS
  case cipherServerToClient = 3  // LIBSSH2_METHOD_CRYPT_SC
  case macClientToServer = 4  // LIBSSH2_METHOD_MAC_CS
  case macServerToClient = 5  // LIBSSH2_METHOD_MAC_SC
}
