import Foundation
import FwdLab
import Glibc
import Testing

/// How fwd stops on SIGTERM and SIGINT with connections open.
// Serialized because the timing checks assume fwd and sshd get the CPU when they need it.
@Suite(
  .serialized, .enabled(if: Resilience.fwdIsBuilt, "needs the built fwd: run swift build"))
struct ResilienceShutdownTests {
  @Test func sigtermWithOpenConnectionsExitsCleanly() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let socketPath = lab.directory + "/fwd-echo.sock"
    let (fwd, ready) = try Resilience.start(
      lab, extraForwards: ["\(socketPath):127.0.0.1:\(lab.echoPort)"])
    #expect(Resilience.wait(timeout: .seconds(5)) { access(socketPath, F_OK) == 0 })
    var connections: [LabConnection] = []
    for index in 0..<4 {
      let connection = try LabConnection(port: ready[0].listenPort)
      try connection.write("open \(index)\n")
      #expect(try connection.readLine() == "open \(index)")
      connections.append(connection)
    }

    fwd.terminate()
    var status: Int32 = -1
    let elapsed = try Resilience.measure { status = try fwd.waitForExit(timeout: .seconds(10)) }
    #expect(status == 0, "stderr: \(fwd.standardError)")
    #expect(elapsed <= .seconds(2), "exited after \(elapsed)")
    #expect(access(socketPath, F_OK) != 0, "\(socketPath) still exists")
    for connection in connections {
      #expect(connection.waitForClose(timeout: .seconds(2)))
    }
  }

  @Test func secondSigintExitsAtOnce() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let (fwd, ready) = try Resilience.start(lab)
    let connection = try LabConnection(port: ready[0].listenPort)
    try connection.write("open\n")
    #expect(try connection.readLine() == "open")
    // With the hops frozen, the clean shutdown waits for replies that do not come.
    Resilience.freeze(lab["sign"])
    Resilience.freeze(lab["build"])
    defer {
      lab["build"].thaw()
      lab["sign"].thaw()
    }

    fwd.interrupt()
    usleep(100_000)
    fwd.interrupt()
    var status: Int32 = -1
    let elapsed = try Resilience.measure { status = try fwd.waitForExit(timeout: .seconds(10)) }
    #expect(status == 0, "stderr: \(fwd.standardError)")
    #expect(elapsed <= .milliseconds(500), "exited after \(elapsed)")
  }

  /// A signal stops fwd at once while a jump host has not yet replied to the channel open to
  /// the next hop. Here build's sshd connects to a listener whose accept queue is full, so its SYNs
  /// are dropped and the open stays pending; keepalives are off, so nothing else ends the wait.
  @Test func sigtermWhileOpeningTunnelExitsAtOnce() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let hole = try FullListener()
    defer { hole.close() }
    let config = lab.directory + "/hole_config"
    // The Include comes first: inside a Host block it would apply to that host only.
    let text = """
      Include \(lab.sshConfigPath)
      Host hole
        HostName 127.0.0.1
        Port \(hole.port)

      """
    try text.write(toFile: config, atomically: true, encoding: .utf8)
    let fwd = try FwdProcess(
      arguments: [
        "-F", config, "-v", "-o", "ServerAliveInterval=0", "-o", "ConnectTimeout=30",
        "-J", "build", "hole", "-L", "0:127.0.0.1:\(lab.echoPort)",
      ],
      unsetEnvironment: ["SSH_AUTH_SOCK"])
    #expect(fwd.waitForStandardError(containing: "build: connected to build", timeout: .seconds(30)))
    // Time for the open to reach build's sshd, whose connect then hangs.
    usleep(500_000)

    fwd.terminate()
    var status: Int32 = -1
    let elapsed = try Resilience.measure { status = try fwd.waitForExit(timeout: .seconds(40)) }
    // Nothing was ready yet, so the signal is reported as such.
    #expect(status == 130, "stderr: \(fwd.standardError)")
    #expect(elapsed <= .seconds(2), "exited after \(elapsed)")
  }
}

/// A TCP listener on 127.0.0.1 that never accepts, with its queue filled by its own clients,
/// so the kernel drops the SYNs of any further connection.
private final class FullListener {
  let port: Int
  private var descriptors: [Int32] = []

  init() throws {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0, Glibc.listen(listener, 0) == 0 else {
      Glibc.close(listener)
      throw FullListenerError()
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
    }
    port = Int(UInt16(bigEndian: address.sin_port))
    descriptors.append(listener)
    // A backlog of 0 still queues one connection, so a few more clients make sure it is full.
    for _ in 0..<3 {
      let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
      _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      descriptors.append(client)
    }
    usleep(100_000)
  }

  func close() {
    for descriptor in descriptors { Glibc.close(descriptor) }
    descriptors.removeAll()
  }
}

private struct FullListenerError: Error {}
