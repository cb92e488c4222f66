import Glibc

/// A failed POSIX call: the function, errno, and strerror's text.
public struct SystemError: Error, CustomStringConvertible, Sendable {
  public let function: String
  public let errnoValue: Int32

  public init(_ function: String, errno errnoValue: Int32 = Glibc.errno) {
    self.function = function
    self.errnoValue = errnoValue
  }

  /// strerror's text, e.g. "Connection refused".
  public var reason: String { String(cString: strerror(errnoValue)) }

  public var description: String { "\(function): \(reason)" }
}

/// A name-resolution failure from getaddrinfo, with gai_strerror's text.
public struct ResolveError: Error, CustomStringConvertible, Sendable {
  public let host: String
  public let code: Int32

  public var reason: String { String(cString: gai_strerror(code)) }
  public var description: String { "\(host): \(reason)" }
}
