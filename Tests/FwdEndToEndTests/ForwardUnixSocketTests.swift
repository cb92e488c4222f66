import Foundation
import FwdLab
import Glibc
import Testing

/// `-L /local/path:host:port` (a Unix-socket listener here) and `-L port:/remote/path` (a
/// Unix socket on the last hop, through direct-streamlocal@openssh.com).
///
/// The lab's clients and services speak TCP, so `ForwardBridge`s stand between them and the
/// Unix sockets. The lab's hosts share this machine, so a socket the test creates is one that
/// sign's sshd can reach.
@Suite struct ForwardUnixSocketTests {
  @Test func unixListenerCarries16MiB() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let names = ["sink.sock", "source.sock", "echo.sock"]
    let paths = names.map(directory.file)
    let targets = [lab.sinkPort, lab.sourcePort, lab.echoPort]
    var arguments = ["-J", "build", "sign"]
    for (path, port) in zip(paths, targets) { arguments += ["-L", "\(path):127.0.0.1:\(port)"] }
    let (fwd, ready) = try ForwardHarness.start(lab, arguments, readyCount: 3)

    #expect(ready.map(\.kind) == ["local", "local", "local"])
    #expect(ready.map(\.listenAddress) == paths)
    #expect(ready.allSatisfy { $0.listenPort == "-" })
    #expect(ready.allSatisfy { $0.targetHost == "127.0.0.1" })
    #expect(ready.map(\.targetPort) == targets.map(String.init))
    for path in paths {
      let mode = forwardFileMode(path)
      #expect(mode?.isSocket == true, "\(path) is a socket")
      #expect(mode?.permissions == 0o600, "\(path) has mode 0600")
    }

    let bridges = try paths.map {
      try ForwardBridge(listen: .tcp(host: "127.0.0.1", port: 0), to: .unix(path: $0))
    }
    defer { bridges.forEach { $0.stop() } }
    try ForwardHarness.expectTransfers(
      sinkPort: bridges[0].port, sourcePort: bridges[1].port, count: 16 << 20)
    try ForwardHarness.expectEcho(port: bridges[2].port)

    #expect(try ForwardHarness.stop(fwd) == 0)
    for path in paths {
      #expect(forwardFileMode(path) == nil, "fwd removed \(path) on exit")
    }
  }

  @Test func staleSocketFileIsReplaced() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let path = directory.file("stale.sock")
    // A listener that closes without unlinking leaves a socket file that refuses connections.
    let (stale, _) = try ForwardSockets.listen(.unix(path: path))
    close(stale)
    #expect(forwardFileMode(path)?.isSocket == true)

    let (fwd, ready) = try ForwardHarness.start(
      lab, ["-J", "build", "sign", "-L", "\(path):127.0.0.1:\(lab.echoPort)"], readyCount: 1)
    #expect(ready[0].listenAddress == path)
    #expect(fwd.standardError.contains("removing stale socket \(path)"))
    #expect(forwardFileMode(path)?.permissions == 0o600)

    let bridge = try ForwardBridge(listen: .tcp(host: "127.0.0.1", port: 0), to: .unix(path: path))
    defer { bridge.stop() }
    try ForwardHarness.expectEcho(port: bridge.port, count: 64 << 10)
    #expect(try ForwardHarness.stop(fwd) == 0)
    #expect(forwardFileMode(path) == nil)
  }

  @Test func pathInUseOrInvalidExits73() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let path = directory.file("live.sock")
    let live = try ForwardBridge(listen: .unix(path: path), to: .tcp(host: "127.0.0.1", port: lab.echoPort))
    defer { live.stop() }

    let result = try ForwardHarness.runToExit(
      lab, ["-J", "build", "sign", "-L", "\(path):127.0.0.1:\(lab.echoPort)"])
    #expect(result.status == 73)
    #expect(result.errors.contains("\(path) is in use"), "stderr: \(result.errors)")
    // fwd leaves the other listener's socket alone.
    let viaLive = try ForwardBridge(listen: .tcp(host: "127.0.0.1", port: 0), to: .unix(path: path))
    defer { viaLive.stop() }
    try ForwardHarness.expectEcho(port: viaLive.port, count: 4096)

    let regularFile = directory.file("notes.txt")
    try "keep me\n".write(toFile: regularFile, atomically: true, encoding: .utf8)
    let overFile = try ForwardHarness.runToExit(
      lab, ["-J", "build", "sign", "-L", "\(regularFile):127.0.0.1:\(lab.echoPort)"])
    #expect(overFile.status == 73)
    #expect(
      overFile.errors.contains("\(regularFile) exists and is not a socket"),
      "stderr: \(overFile.errors)")
    #expect(try String(contentsOfFile: regularFile, encoding: .utf8) == "keep me\n")

    let longPath = directory.file(String(repeating: "s", count: 110) + ".sock")
    let tooLong = try ForwardHarness.runToExit(
      lab, ["-J", "build", "sign", "-L", "\(longPath):127.0.0.1:\(lab.echoPort)"])
    #expect(tooLong.status == 73)
    #expect(tooLong.errors.contains("at most 107 bytes"), "stderr: \(tooLong.errors)")
  }

  @Test func socketFileRemovedWhenChainFails() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let path = directory.file("unreached.sock")
    lab["sign"].stop()

    let result = try ForwardHarness.runToExit(
      lab, ["-J", "build", "sign", "-L", "\(path):127.0.0.1:\(lab.echoPort)"])
    #expect(result.status == 69, "stderr: \(result.errors)")
    #expect(forwardFileMode(path) == nil, "fwd removed \(path) after the chain failed")
  }

  @Test func remoteUnixTargetCarries16MiB() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let directory = try ForwardTempDirectory()
    let remotePaths = ["remote-sink.sock", "remote-source.sock", "remote-echo.sock"].map(
      directory.file)
    let services = [lab.sinkPort, lab.sourcePort, lab.echoPort]
    let servers = try zip(remotePaths, services).map { path, port in
      try ForwardBridge(listen: .unix(path: path), to: .tcp(host: "127.0.0.1", port: port))
    }
    defer { servers.forEach { $0.stop() } }

    let bothEnds = directory.file("both-ends.sock")
    var arguments = ["-J", "build", "sign"]
    for path in remotePaths { arguments += ["-L", "0:\(path)"] }
    // A Unix-socket listener here whose target is a Unix socket on sign.
    arguments += ["-L", "\(bothEnds):\(remotePaths[2])"]
    let (fwd, ready) = try ForwardHarness.start(lab, arguments, readyCount: 4)

    #expect(ready.map(\.targetHost) == remotePaths + [remotePaths[2]])
    #expect(ready.allSatisfy { $0.kind == "local" })
    #expect(ready.allSatisfy { $0.targetPort == "-" })
    #expect(ready.prefix(3).allSatisfy { $0.listenAddress == "127.0.0.1" })
    #expect(ready.prefix(3).allSatisfy { $0.port > 0 })
    #expect(ready[3].listenAddress == bothEnds)

    try ForwardHarness.expectTransfers(
      sinkPort: ready[0].port, sourcePort: ready[1].port, count: 16 << 20)
    try ForwardHarness.expectEcho(port: ready[2].port)
    let viaBothEnds = try ForwardBridge(
      listen: .tcp(host: "127.0.0.1", port: 0), to: .unix(path: bothEnds))
    defer { viaBothEnds.stop() }
    try ForwardHarness.expectEcho(port: viaBothEnds.port, count: 64 << 10)

    for path in remotePaths {
      #expect(
        ForwardHarness.waitForLogLine(
          lab, "sign", containing: "server_request_direct_streamlocal", "target \(path)"),
        "sign's sshd opened a direct-streamlocal channel to \(path)")
    }
    #expect(servers.map(\.acceptedConnections) == [1, 1, 4])
    #expect(try ForwardHarness.stop(fwd) == 0)
  }
}
