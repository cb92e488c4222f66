import Glibc

/// This process's environment variables, read from `environ`, in place of Foundation's
/// ProcessInfo so that fwd does not load Foundation.
public enum ProcessEnvironment {
  /// Returns the value of `name`, or nil when it is not set.
  public static func value(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
  }

  /// Returns every variable as a dictionary. An entry without `=` is skipped, and when a name
  /// appears twice the first entry wins, as with getenv.
  public static func all() -> [String: String] {
    var variables: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
      let text = String(cString: pointer)
      if let equals = text.firstIndex(of: "=") {
        let name = String(text[..<equals])
        if variables[name] == nil { variables[name] = String(text[text.index(after: equals)...]) }
      }
      entry += 1
    }
    return variables
  }
}
