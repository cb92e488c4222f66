import Foundation
import FwdBindings
import Glibc

/// A throwaway OpenSSH server on 127.0.0.1 that accepts the given authorized keys, for the
/// smartcard authentication tests. It is stopped by PID in `stop()`.
final class SmartcardSSHServer {
  static let sshdPath = "/usr/sbin/sshd"
  static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: sshdPath) }

  let directory: URL
  let port: Int
  private let process: Process

  /// Starts sshd with `authorizedKeys` and any extra config lines, and waits until it accepts
  /// connections (at most 5 s).
  init(authorizedKeys: [String], extraConfig: [String] = []) throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("fwd-sshd-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    // sshd refuses to start without its privilege separation folder.
    try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    let hostKey = directory.appendingPathComponent("host_ecdsa").path
    try SmartcardSSHServer.run(
      "/usr/bin/ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", hostKey])
    let authorized = directory.appendingPathComponent("authorized_keys").path
    try (authorizedKeys.joined(separator: "\n") + "\n").write(
      toFile: authorized, atomically: true, encoding: .utf8)
    port = try SmartcardSSHServer.freePort()
    let config =
      [
        "Port \(port)", "ListenAddress 127.0.0.1", "HostKey \(hostKey)",
        "PidFile \(directory.appendingPathComponent("sshd.pid").path)",
        "AuthorizedKeysFile \(authorized)", "StrictModes no", "UsePAM no",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "AuthenticationMethods publickey", "LogLevel DEBUG1",
      ] + extraConfig
    let configPath = directory.appendingPathComponent("sshd_config").path
    try (config.joined(separator: "\n") + "\n").write(
      toFile: configPath, atomically: true, encoding: .utf8)
    process = Process()
    process.executableURL = URL(fileURLWithPath: SmartcardSSHServer.sshdPath)
    process.arguments = ["-D", "-e", "-f", configPath]
    let log = directory.appendingPathComponent("sshd.log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    process.standardError = try FileHandle(forWritingTo: log)
    try process.run()
    try waitUntilListening()
  }

  deinit { stop() }

  /// The server's log, for failure messages.
  var log: String {
    (try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
  }

  func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(at: directory)
  }

  /// Connects, runs the SSH handshake and authenticates `user` with `key`. Returns whether
  /// the server accepted the key; throws when the exchange itself fails.
  func authenticate(user: String, key: SSHUserKey) throws -> Bool {
    let socket = try SmartcardSSHServer.connect(port: port)
    defer { close(socket) }
    let session = try SSHSession(socket: socket)
    try pump(session) { () throws(SSHError) in try session.handshake() }
    do {
      try pump(session) { () throws(SSHError) in try session.authenticate(user: user, key: key) }
    } catch let error as SSHError where error.isAuthenticationFailure {
      return false
    }
    return session.isAuthenticated
  }

  /// Calls `step` until it is done, waiting on the socket in between (at most 10 s).
  private func pump(_ session: SSHSession, _ step: () throws -> FwdBindings.Attempt<Void>) throws {
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
      if case .done = try step() { return }
      let directions = session.blockDirections
      var events: Int16 = 0
      if directions.inbound { events |= Int16(POLLIN) }
      if directions.outbound { events |= Int16(POLLOUT) }
      var poller = pollfd(fd: session.socket, events: events, revents: 0)
      _ = poll(&poller, 1, 100)
    }
    throw SSHTestError("timed out after 10 s")
  }

  private func waitUntilListening() throws {
    let deadline = Date().addingTimeInterval(5)
    while Date() < deadline {
      if let socket = try? SmartcardSSHServer.connect(port: port) {
        close(socket)
        return
      }
      usleep(20_000)
    }
    throw SSHTestError("sshd did not listen on 127.0.0.1:\(port) within 5 s: \(log)")
  }

  /// Returns a port the kernel reports free on 127.0.0.1.
  private static func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = loopback(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
      }
    }
    guard bound else { throw SSHTestError("cannot bind 127.0.0.1:0") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  /// Opens a non-blocking TCP connection to 127.0.0.1:`port`.
  static func connect(port: Int) throws -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = loopback(port: port)
    let connected = withUnsafePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
    guard connected else {
      close(socket)
      throw SSHTestError("connect to 127.0.0.1:\(port) failed")
    }
    _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
    return socket
  }

  private static func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return address
  }

  private static func run(_ tool: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw SSHTestError("\(tool) exited \(process.terminationStatus)")
    }
  }

  /// The name of the user the tests run as, which sshd authenticates.
  static var userName: String {
    getpwuid(geteuid()).flatMap { String(cString: $0.pointee.pw_name) } ?? "root"
  }
}

struct SSHTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
