import Foundation
import FwdLab
import Glibc
import Testing

/// Log lines name their hop or connection, repeated errors are limited, SIGUSR1 logs the status.
@Suite struct OpsLogTests {
  @Test func linesNameHopAndConnection() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try Ops.start(["-v"] + Ops.echoForward(lab, through: ["build", "sign"]))
    let ready = try fwd.waitForReadyLines()
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)

    let errors = fwd.standardError
    #expect(errors.contains("fwd: build: connected to build (127.0.0.1:\(lab["build"].port)) as "))
    #expect(errors.contains("fwd: sign: connected to sign (127.0.0.1:\(lab["sign"].port)) as "))
    for id in 1...2 {
      #expect(errors.contains("fwd: debug1: conn \(id): accepted from 127.0.0.1:"), "\(errors)")
      #expect(errors.contains("fwd: debug1: conn \(id): channel open via sign to 127.0.0.1:"))
    }
  }

  @Test func repeatedChannelFailuresAreLimited() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let closedPort = try freePort()
    let fwd = try Ops.start(["-F", lab.sshConfigPath, "-L", "0:127.0.0.1:\(closedPort)", "build"])
    let ready = try fwd.waitForReadyLines()
    for _ in 1...20 {
      let connection = try LabConnection(port: ready[0].listenPort)
      // fwd closes the client once the channel open has failed.
      #expect(try connection.read(timeout: .seconds(10)).isEmpty)
    }
    let failure = "channel to 127.0.0.1:\(closedPort) via build failed"
    let logged = fwd.standardError.split(separator: "\n").filter { $0.contains(failure) }
    #expect(logged.count == 5, "stderr: \(fwd.standardError)")
    #expect(logged.first?.hasPrefix("fwd: conn 1: ") == true)

    // The summary comes once the 10 s window of the first failure has passed.
    let summary = "(15 more suppressed, from conn 6 to conn 20)"
    #expect(fwd.waitForStandardError(containing: summary, timeout: .seconds(20)), "\(fwd.standardError)")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
  }

  @Test func usr1LogsTheSnapshotEvenWhenQuiet() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try Ops.start(["-q"] + Ops.echoForward(lab, through: ["build", "sign"]))
    let ready = try fwd.waitForReadyLines()
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")
    fwd.send(signal: SIGUSR1)
    let forward = "fwd: status: \(ready[0].description): "
    #expect(fwd.waitForStandardError(containing: forward), "stderr: \(fwd.standardError)")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)

    let lines = fwd.standardError.split(separator: "\n")
    #expect(lines.count == 3, "stderr: \(fwd.standardError)")
    #expect(lines.contains { $0.hasPrefix("fwd: status: hop 1 build (127.0.0.1:\(lab["build"].port)): up, ") })
    #expect(lines.contains { $0.hasPrefix("fwd: status: hop 2 sign (127.0.0.1:\(lab["sign"].port)): up, ") })
    let forwardLine = lines.first { $0.hasPrefix(forward) }
    #expect(forwardLine?.hasSuffix(" bytes down") == true, "stderr: \(fwd.standardError)")
  }
}
