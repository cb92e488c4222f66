import Glibc

/// A failure of the lab or of a client helper, with a one-line message that names the value.
public struct LabError: Error, CustomStringConvertible, Equatable {
  public let message: String

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

/// Returns the text of the current `errno`, e.g. "Connection refused".
func errnoText(_ code: Int32 = errno) -> String {
  String(cString: strerror(code))
}
