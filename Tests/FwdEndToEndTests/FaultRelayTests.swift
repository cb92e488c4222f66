import Foundation
import FwdLab
import Glibc
import Testing

/// Tests of the lab's fault relay against the lab's TCP services, without sshd or fwd, so
/// the relay is known to work before the resilience tests rely on it.
@Suite struct FaultRelayTests {
  /// How long a read must find nothing while the relay keeps the bytes back.
  static let quietPeriod: Duration = .milliseconds(300)

  /// Waits until `condition` holds, polling every 10 ms; returns false after `timeout`.
  static func wait(timeout: Duration = .seconds(5), until condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
      if ContinuousClock.now >= deadline { return false }
      usleep(10_000)
    }
    return true
  }

  /// Returns whether nothing arrives on `connection` within `quietPeriod`.
  static func staysQuiet(_ connection: LabConnection) -> Bool {
    do {
      _ = try connection.read(timeout: quietPeriod)
      return false
    } catch {
      return "\(error)".contains("timed out")
    }
  }

  @Test func relaysBothWaysAndCounts() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    defer { relay.stop() }

    #expect(try LabClient.echo(port: relay.port, bytes: 1 << 20) == 1 << 20)
    #expect(relay.acceptedConnections == 1)
    #expect(echo.acceptedConnections == 1)
    #expect(relay.bytesToTarget == 1 << 20)
    #expect(Self.wait { relay.bytesFromTarget == 1 << 20 }, "\(relay.counters)")
  }

  @Test func halfClosePassesThrough() throws {
    let sink = try LabService(.sink)
    defer { sink.stop() }
    let relay = try FaultRelay(targetPort: sink.port)
    defer { relay.stop() }

    let upload = try LabClient.upload(port: relay.port, count: 3 << 20)
    #expect(upload.isIntact, "sent \(upload.sent), sink received \(upload.received)")
    #expect(Self.wait { relay.openConnections == 0 }, "\(relay.counters)")
  }

  @Test func pauseHoldsBytesUntilResume() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    defer { relay.stop() }
    let connection = try LabConnection(port: relay.port)
    try connection.write("before\n")
    #expect(try connection.readLine() == "before")

    relay.pause()
    let sentBefore = relay.bytesToTarget
    try connection.write("held\n")
    #expect(Self.staysQuiet(connection))
    #expect(relay.bytesToTarget == sentBefore)
    #expect(relay.openConnections == 1)

    relay.resume()
    #expect(try connection.readLine() == "held")
  }

  @Test func pauseBuildsBackpressure() throws {
    let sink = try LabService(.sink)
    defer { sink.stop() }
    let relay = try FaultRelay(targetPort: sink.port)
    defer { relay.stop() }
    let connection = try LabConnection(port: relay.port)
    try connection.write("first bytes")
    #expect(Self.wait { relay.bytesToTarget == 11 })

    relay.pause()
    // The socket buffers on the path hold a few MiB at most, so 64 MiB cannot all be sent.
    let bytes = [UInt8](repeating: 7, count: 64 << 20)
    #expect(throws: LabError.self) { try connection.write(bytes, timeout: .seconds(1)) }
    #expect(relay.bytesToTarget == 11)
    #expect(relay.openConnections == 1)
  }

  @Test func connectionAcceptedWhilePausedIsHeld() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    defer { relay.stop() }

    relay.pause()
    let connection = try LabConnection(port: relay.port)
    try connection.write("waiting\n")
    #expect(Self.staysQuiet(connection))
    #expect(relay.acceptedConnections == 1)

    relay.resume()
    #expect(try connection.readLine() == "waiting")
  }

  @Test func dropAllResetsEveryConnection() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    defer { relay.stop() }
    let connections = try (0..<2).map { _ in try LabConnection(port: relay.port) }
    for (index, connection) in connections.enumerated() {
      try connection.write("open \(index)\n")
      #expect(try connection.readLine() == "open \(index)")
    }

    relay.dropAll()
    #expect(relay.openConnections == 0)
    for connection in connections {
      do {
        let bytes = try connection.read(timeout: .seconds(2))
        Issue.record("read \(bytes.count) bytes after dropAll, expected a reset")
      } catch {
        #expect("\(error)".contains("Connection reset by peer"), "\(error)")
      }
    }
    #expect(try LabClient.echo(port: relay.port, bytes: 4096) == 4096)
  }

  @Test func refuseNewClosesOnlyNewConnections() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    defer { relay.stop() }
    // A connect returns once the kernel has queued the connection, before the relay accepts
    // it, so an exchange first makes sure this one is not refused.
    let existing = try LabConnection(port: relay.port)
    try existing.write("open\n")
    #expect(try existing.readLine() == "open")

    relay.refuseNew(true)
    let refused = try LabConnection(port: relay.port)
    #expect(refused.waitForClose(timeout: .seconds(2)))
    #expect(relay.counters.refused == 1)
    #expect(echo.acceptedConnections == 1)
    try existing.write("still open\n")
    #expect(try existing.readLine() == "still open")

    relay.refuseNew(false)
    #expect(try LabClient.echo(port: relay.port, bytes: 4096) == 4096)
    #expect(relay.acceptedConnections == 3)
  }

  @Test func delayHoldsEachChunkInOrder() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    defer { relay.stop() }
    relay.delay(milliseconds: 100)
    let connection = try LabConnection(port: relay.port)

    // The line is held on the way to the echo service and again on the way back.
    let roundTrip = try Self.measure {
      try connection.write("delayed\n")
      #expect(try connection.readLine() == "delayed")
    }
    #expect(roundTrip >= .milliseconds(200), "round trip \(roundTrip)")

    let lines = (0..<50).map { "line \($0)" }
    for line in lines {
      try connection.write(line + "\n")
      usleep(2_000)
    }
    for line in lines {
      #expect(try connection.readLine() == line)
    }

    relay.delay(milliseconds: 0)
    let fast = try Self.measure {
      try connection.write("fast\n")
      #expect(try connection.readLine() == "fast")
    }
    #expect(fast < .milliseconds(200), "round trip \(fast)")
  }

  @Test func delayedUploadKeepsHalfCloseLast() throws {
    let sink = try LabService(.sink)
    defer { sink.stop() }
    let relay = try FaultRelay(targetPort: sink.port)
    defer { relay.stop() }
    relay.delay(milliseconds: 50)

    let upload = try LabClient.upload(port: relay.port, count: 4 << 20)
    #expect(upload.isIntact, "sent \(upload.sent), sink received \(upload.received)")
  }

  @Test func unreachableTargetResetsClient() throws {
    let relay = try FaultRelay(targetPort: try freePort())
    defer { relay.stop() }

    do {
      let connection = try LabConnection(port: relay.port)
      #expect(connection.waitForClose(timeout: .seconds(2)))
    } catch {
      // In a slow (sanitized) run the reset can arrive before the connect has completed.
      #expect("\(error)".contains("Connection reset by peer"), "\(error)")
    }
    #expect(Self.wait { relay.counters.targetConnectFailures == 1 }, "\(relay.counters)")
  }

  @Test func stopClosesConnectionsAndListener() throws {
    let echo = try LabService(.echo)
    defer { echo.stop() }
    let relay = try FaultRelay(targetPort: echo.port)
    let connection = try LabConnection(port: relay.port)
    try connection.write("open\n")
    #expect(try connection.readLine() == "open")

    relay.stop()
    #expect(connection.waitForClose(timeout: .seconds(2)))
    #expect(throws: LabError.self) { try LabConnection(port: relay.port, timeout: .seconds(2)) }
    relay.stop()
  }

  /// Calls after `stop()` must not touch the relay's closed descriptors, whose numbers the
  /// next descriptors opened reuse. A stray wakeup byte there can stop another test's service,
  /// e.g. an echo service whose wakeup pipe took the number.
  @Test func callsAfterStopWriteNothing() throws {
    let relay = try FaultRelay(targetPort: try freePort())
    relay.stop()
    // Socket pairs take the lowest free numbers, those the relay closed among them, and a byte
    // written to either end of a pair can be read at the other.
    var pairs: [[Int32]] = []
    for _ in 0..<4 {
      var pair: [Int32] = [0, 0]
      #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
      pairs.append(pair)
    }
    defer {
      for fd in pairs.joined() { close(fd) }
    }

    relay.pause()
    relay.dropAll()
    relay.stop()
    for fd in pairs.joined() {
      var byte: UInt8 = 0
      let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
      #expect(count == -1, "a call after stop() wrote to the pair of descriptor \(fd)")
    }
  }

  static func measure(_ body: () throws -> Void) rethrows -> Duration {
    let start = ContinuousClock.now
    try body()
    return ContinuousClock.now - start
  }
}
