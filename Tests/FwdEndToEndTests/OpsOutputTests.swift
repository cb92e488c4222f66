import Foundation
import FwdLab
import Glibc
import Testing

/// What a script can rely on: stdout carries ready lines and nothing else, logs go to stderr or
/// the -E file, `--ready-fd` and `--pidfile` publish readiness.
@Suite struct OpsOutputTests {
  @Test func stdoutCarriesOnlyReadyLines() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let closedPort = try freePort()
    let fwd = try Ops.start([
      "-vvv", "-F", lab.sshConfigPath, "-J", "build",
      "-L", "0:127.0.0.1:\(lab.echoPort)", "-L", "0:127.0.0.1:\(closedPort)", "sign",
    ])
    let ready = try fwd.waitForReadyLines(count: 2)
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")
    // A channel to a closed port fails and logs an error; the client sees the connection close.
    let refused = try LabConnection(port: ready[1].listenPort)
    #expect(try refused.read(timeout: .seconds(10)).isEmpty)
    fwd.send(signal: SIGUSR1)
    #expect(fwd.waitForStandardError(containing: "fwd: status: "))
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)

    #expect(fwd.standardOutput == ready.map { $0.description + "\n" }.joined())
    let errors = fwd.standardError.split(separator: "\n")
    #expect(errors.count > 10)
    #expect(errors.allSatisfy { $0.hasPrefix("fwd: ") }, "stderr: \(fwd.standardError)")
    #expect(fwd.standardError.contains("channel to 127.0.0.1:\(closedPort) via sign failed"))
  }

  @Test func logFileAppendsAndStderrStaysEmpty() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let logFile = lab.directory + "/fwd.log"
    try "line from an earlier run\n".write(toFile: logFile, atomically: true, encoding: .utf8)
    let fwd = try Ops.start(["-v", "-E", logFile] + Ops.echoForward(lab, through: ["build"]))
    let ready = try fwd.waitForReadyLines()
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)

    #expect(fwd.standardError == "")
    #expect(fwd.standardOutput == ready[0].description + "\n")
    let log = try #require(Ops.read(logFile))
    #expect(log.hasPrefix("line from an earlier run\nfwd: "))
    #expect(log.contains("fwd: build: connected to build"))
    #expect(log.contains("fwd: debug1: conn 1: accepted from 127.0.0.1:"))
    #expect(log.hasSuffix("fwd: stopping on SIGTERM\n"))
  }

  /// With standard output closed (`>&-`), the -E log must not take descriptor 1 and receive
  /// the ready lines; fwd serves as usual.
  @Test func closedStdoutKeepsReadyLinesOutOfLog() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let logFile = lab.directory + "/fwd.log"
    let arguments = ["-v", "-E", logFile] + Ops.echoForward(lab, through: ["build"])
    let fwd = try FwdProcess(
      arguments: ["-c", #"exec "$0" "$@" >&-"#, FwdBinary.path] + arguments,
      unsetEnvironment: ["SSH_AUTH_SOCK"], binary: "/bin/sh")
    let port = try #require(Self.listeningPort(logFile))
    #expect(try Ops.echoLine(port: port) == "ping")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
    let log = try #require(Ops.read(logFile))
    #expect(!log.contains("local 127.0.0.1 \(port) "), "log: \(log)")
  }

  /// Waits for the "listening on 127.0.0.1:PORT" line in `logFile` and returns the port.
  private static func listeningPort(_ logFile: String) -> Int? {
    for _ in 0..<300 {
      if let log = Ops.read(logFile), let range = log.range(of: "listening on 127.0.0.1:") {
        let digits = log[range.upperBound...].prefix { $0.isNumber }
        if let port = Int(digits) { return port }
      }
      usleep(100_000)
    }
    return nil
  }

  @Test func readyFDGetsTheReadyLines() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let readyFile = lab.directory + "/ready"
    // As a script passes it: the shell opens descriptor 3 on a file and runs fwd.
    let fwd = try FwdProcess(
      arguments: ["-c", "exec \"$0\" \"$@\" 3>\"$READY_FILE\"", FwdBinary.path, "--ready-fd", "3"]
        + Ops.echoForward(lab, through: ["build"]),
      environment: ["READY_FILE": readyFile], unsetEnvironment: ["SSH_AUTH_SOCK"],
      binary: "/bin/sh")
    let ready = try fwd.waitForReadyLines()
    #expect(Ops.read(readyFile) == ready[0].description + "\n")
    // fwd closes the descriptor after the lines, so a reader of a pipe gets end of file.
    #expect(access("/proc/\(fwd.pid)/fd/3", F_OK) != 0)
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
  }

  @Test func readyFDMustBeOpen() throws {
    let outcome = try Ops.run(["--ready-fd", "7", "-L", "0:127.0.0.1:9", "build"])
    #expect(outcome.status == 64)
    #expect(outcome.errors.contains("--ready-fd 7: descriptor 7 is not open"), "\(outcome.errors)")
  }

  @Test func pidFileAppearsAfterReadyAndGoesOnExit() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let pidFile = lab.directory + "/fwd.pid"
    // With the host frozen, fwd waits in the handshake, before any forward is ready.
    lab["build"].freeze()
    let fwd = try Ops.start(["--pidfile", pidFile] + Ops.echoForward(lab, through: ["build"]))
    usleep(1_000_000)
    #expect(access(pidFile, F_OK) != 0, "pidfile exists before the forward is ready")
    lab["build"].thaw()

    let ready = try fwd.waitForReadyLines()
    #expect(Ops.read(pidFile) == "\(fwd.pid)\n")
    #expect(try Ops.echoLine(port: ready[0].listenPort) == "ping")
    fwd.terminate()
    #expect(try fwd.waitForExit() == 0)
    #expect(access(pidFile, F_OK) != 0, "pidfile remains after exit")
  }

  @Test func pidFileNotWrittenOnFailure() throws {
    let lab = try Lab(hostNames: ["build"])
    defer { lab.shutdown() }
    let pidFile = lab.directory + "/fwd.pid"
    let outcome = try Ops.run(
      ["--pidfile", pidFile, "-o", "Port=\(try freePort())"] + Ops.echoForward(lab, through: ["build"]))
    #expect(outcome.status == 69)
    #expect(access(pidFile, F_OK) != 0)
  }

  @Test func pidFileDirectoryMustBeWritable() throws {
    let outcome = try Ops.run(["--pidfile", "/nonexistent/fwd.pid", "-L", "0:127.0.0.1:9", "build"])
    #expect(outcome.status == 64)
    #expect(outcome.errors.contains("--pidfile /nonexistent/fwd.pid: directory /nonexistent is not writable"))
  }
}
