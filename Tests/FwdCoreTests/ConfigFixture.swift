import Foundation

@testable import FwdCore

/// A throwaway home directory and system directory for config tests, removed when released.
final class ConfigFixture {
  let root: String
  let variables: [String: String]

  init(variables: [String: String] = ["FWD_KEYS": "/opt/keys"]) throws {
    root =
      FileManager.default.temporaryDirectory
      .appendingPathComponent("fwd-config-\(UUID().uuidString)").path
    self.variables = variables
    try FileManager.default.createDirectory(
      atPath: root + "/home/.ssh", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      atPath: root + "/etc", withIntermediateDirectories: true)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: root)
  }

  var home: String { root + "/home" }
  var systemDirectory: String { root + "/etc" }
  var userConfigPath: String { home + "/.ssh/config" }
  var systemConfigPath: String { systemDirectory + "/ssh_config" }

  /// Writes a file below the fixture root (or at an absolute path) and returns its path.
  @discardableResult
  func write(_ path: String, _ text: String, mode: Int = 0o644) throws -> String {
    let full = path.hasPrefix("/") ? path : root + "/" + path
    let directory = (full as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try text.write(toFile: full, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    return full
  }

  func environment(runCommand: (@Sendable (String) -> Int32?)? = nil) -> ConfigEnvironment {
    let root = self.root
    return ConfigEnvironment(
      homeDirectory: home, userName: "tester", userID: getuid(), hostName: "ws.example.org",
      systemConfigFile: systemConfigPath, systemDirectory: systemDirectory,
      variables: variables,
      homeDirectoryOfUser: { name in name == "other" ? root + "/users/other" : nil },
      runCommand: runCommand ?? SystemCalls.runShellCommand)
  }

  func load(configFile: String? = nil) throws(FwdError) -> SSHConfig {
    try SSHConfig.load(configFile: configFile, environment: environment())
  }

  /// Writes `text` as ~/.ssh/config and resolves `host` with no command-line values.
  func resolve(_ host: String, userConfig text: String) throws -> HostSettings {
    try write(userConfigPath, text)
    return try load().resolve(host: host)
  }

  /// The message of the `FwdError` that `body` throws, or nil when it does not throw.
  func errorMessage(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch let error as FwdError {
      return error.message
    } catch {
      return "unexpected error \(error)"
    }
  }
}
