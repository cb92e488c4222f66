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
}
