import Glibc

/// A `-L [bind_address:]port:host:hostport` forward.
public struct LocalForward: Sendable, Equatable {
  /// The bind address as given: nil for the default (loopback), "*" or "" for every address.
  public var bindAddress: String?
  public var listenPort: Int
  public var targetHost: String
  public var targetPort: Int
  /// The spec as the user wrote it, for messages.
  public var text: String

  public init(bindAddress: String?, listenPort: Int, targetHost: String, targetPort: Int, text: String) {
    self.bindAddress = bindAddress
    self.listenPort = listenPort
    self.targetHost = targetHost
    self.targetPort = targetPort
    self.text = text
  }

  /// The host to bind: loopback by default (IPv4 unless -6), nil (every address) for "*" or "".
  func effectiveBindHost(addressFamily: Int32) -> String? {
    switch bindAddress {
    case nil: return addressFamily == AF_INET6 ? "::1" : "127.0.0.1"
    case "*", "": return nil
    case let address?: return address
    }
  }
}
