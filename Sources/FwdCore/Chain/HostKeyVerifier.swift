/// Checks a hop's host key before anything else is sent to it.
protocol HostKeyVerifier {
  /// Key types known for the hop, in the order to prefer them in the handshake. libssh2 1.10
  /// prefers ECDSA over Ed25519, so a host known only by its Ed25519 key must ask for it first.
  func knownKeyTypes(for target: HopTarget) -> [String]

  /// Accepts the key, possibly after recording it, or throws the error that ends fwd.
  func verify(_ target: HopTarget, keyType: String, keyBlob: [UInt8]) throws(FwdError)
}
