import Foundation

/// The control file that makes the test token (Sources/FwdTestToken) look pulled from its
/// reader or inserted again. The module reads the file named by FWD_TEST_TOKEN_PRESENCE on
/// every call.
final class TestTokenPresence {
  let path: String
  private var insertions = 0

  init(path: String) { self.path = path }

  /// The variable that points the test token at this file.
  var environment: [String: String] { ["FWD_TEST_TOKEN_PRESENCE": path] }

  /// Makes every slot look empty and the open sessions fail with CKR_DEVICE_REMOVED.
  func remove() throws { try write("removed") }

  /// Makes the token look inserted again: sessions opened before stay invalid, and the next
  /// session starts logged out.
  func insert() throws {
    insertions += 1
    try write("inserted \(insertions)")
  }

  private func write(_ line: String) throws {
    // Written to a new file that is then renamed, so the module never reads half a line.
    try (line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }
}
