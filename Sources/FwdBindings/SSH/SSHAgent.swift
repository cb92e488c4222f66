import CLibSSH2

/// A connection to ssh-agent for one session, through libssh2's agent support.
///
/// libssh2 1.10 asks the agent for `ssh-rsa` (SHA-1) signatures, which OpenSSH 8.8 and later
/// reject, so RSA agent keys fail against current servers; ECDSA and Ed25519 keys work.
public final class SSHAgent {
  private let raw: OpaquePointer
  private let session: SSHSession

  /// One key the agent holds.
  public struct Identity {
    fileprivate let raw: UnsafeMutablePointer<libssh2_agent_publickey>
    public let blob: [UInt8]
    public let comment: String
  }

  /// Connects to the agent at `socketPath`, or at `SSH_AUTH_SOCK` when nil.
  public init(session: SSHSession, socketPath: String?) throws(SSHError) {
    guard let raw = libssh2_agent_init(session.raw) else {
      throw SSHError.last(session.raw, function: "libssh2_agent_init")
    }
    self.raw = raw
    self.session = session
    if let socketPath { libssh2_agent_set_identity_path(raw, socketPath) }
    let status = libssh2_agent_connect(raw)
    if status != 0 {
      let error = SSHError.last(session.raw, function: "libssh2_agent_connect", code: status)
      libssh2_agent_free(raw)
      throw error
    }
  }

  deinit {
    libssh2_agent_disconnect(raw)
    libssh2_agent_free(raw)
  }

  public func identities() throws(SSHError) -> [Identity] {
    let status = libssh2_agent_list_identities(raw)
    if status != 0 { throw SSHError.last(session.raw, function: "libssh2_agent_list_identities", code: status) }
    var result: [Identity] = []
    var previous: UnsafeMutablePointer<libssh2_agent_publickey>? = nil
    while true {
      var next: UnsafeMutablePointer<libssh2_agent_publickey>? = nil
      let found = libssh2_agent_get_identity(raw, &next, previous)
      guard found == 0, let identity = next else { break }
      let blob = Array(UnsafeBufferPointer(start: identity.pointee.blob, count: identity.pointee.blob_len))
      let comment = identity.pointee.comment.map { String(cString: $0) } ?? ""
      result.append(Identity(raw: identity, blob: blob, comment: comment))
      previous = identity
    }
    return result
  }

  public func authenticate(user: String, identity: Identity) throws(SSHError) -> Attempt<Void> {
    try session.check(libssh2_agent_userauth(raw, user, identity.raw), "libssh2_agent_userauth")
  }
}
