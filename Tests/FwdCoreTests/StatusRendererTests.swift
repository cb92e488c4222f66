import Testing

@testable import FwdCore

@Suite struct StatusRendererTests {
  static let snapshot = StatusSnapshot(
    hops: [
      .init(label: "build (127.0.0.1:2201)", state: "up", keepaliveRoundTrip: 3),
      .init(label: "sign (127.0.0.1:2202)", state: "lost", keepaliveRoundTrip: nil),
    ],
    forwards: [
      .init(
        description: "local 127.0.0.1 4444 localhost 4444", activeConnections: 2,
        bytesUp: 1536, bytesDown: 5 << 20)
    ])

  @Test func rowsShowHopsAndForwards() {
    #expect(
      StatusRenderer.rows(Self.snapshot, width: 200) == [
        "fwd: 1 of 2 hops up, 1 forward, 2 connections",
        "  hop 1  build (127.0.0.1:2201)  up    keepalive 3 ms",
        "  hop 2  sign (127.0.0.1:2202)   lost  keepalive -",
        "  local 127.0.0.1 4444 localhost 4444  2 active  1.5 KiB up  5.0 MiB down",
      ])
  }

  @Test func rowsFitTheWidth() {
    let rows = StatusRenderer.rows(Self.snapshot, width: 30)
    #expect(rows.allSatisfy { $0.count <= 30 })
    #expect(rows[3] == "  local 127.0.0.1 4444 localh>")
  }

  @Test func logLinesHaveExactCounts() {
    #expect(
      StatusRenderer.logLines(Self.snapshot) == [
        "hop 1 build (127.0.0.1:2201): up, keepalive round trip 3 ms",
        "hop 2 sign (127.0.0.1:2202): lost, keepalive round trip -",
        "local 127.0.0.1 4444 localhost 4444: 2 active connections, 1536 bytes up, "
          + "5242880 bytes down",
      ])
  }

  @Test func remoteForwardsShowTheirState() {
    var snapshot = Self.snapshot
    snapshot.forwards.append(
      .init(
        description: "remote localhost 5555 127.0.0.1 22", activeConnections: 0, bytesUp: 0,
        bytesDown: 0, state: "waiting"))
    let rows = StatusRenderer.rows(snapshot, width: 200)
    #expect(rows[0] == "fwd: 1 of 2 hops up, 2 forwards, 2 connections")
    #expect(rows[4] == "  remote localhost 5555 127.0.0.1 22  waiting  0 active  0 B up  0 B down")
    let lines = StatusRenderer.logLines(snapshot)
    #expect(
      lines[3]
        == "remote localhost 5555 127.0.0.1 22: waiting, 0 active connections, 0 bytes up, "
        + "0 bytes down")
  }

  @Test(arguments: [
    (UInt64(0), "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
    (10 << 20, "10.0 MiB"), (3 << 30, "3.0 GiB"), (5 << 40, "5.0 TiB"),
  ])
  func byteCounts(_ bytes: UInt64, _ text: String) {
    #expect(StatusRenderer.byteCount(bytes) == text)
  }
}
