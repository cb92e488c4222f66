/// Path text operations that fwd needs, without Foundation.
enum FilePath {
  /// Returns `path` without its last component, as Foundation's
  /// `NSString.deletingLastPathComponent` does: repeated slashes count as one and a trailing
  /// slash is ignored, so `/a//b/` gives `/a`, `/a` gives `/`, and `a` gives the empty string.
  static func deletingLastComponent(_ path: String) -> String {
    var fixed = ""
    for character in path where !(character == "/" && fixed.last == "/") {
      fixed.append(character)
    }
    if fixed.count > 1 && fixed.last == "/" { fixed.removeLast() }
    if fixed == "/" || fixed.isEmpty { return fixed }
    guard let lastSlash = fixed.lastIndex(of: "/") else { return "" }
    if lastSlash == fixed.startIndex { return "/" }
    return String(fixed[..<lastSlash])
  }
}
