import Foundation
import FwdLab
import Testing

/// Bulk data and many connections through the walking chain.
///
/// The suite runs one test at a time: each moves hundreds of MiB or opens hundreds of
/// channels, and together they would only compete for the same two cores of a CI machine.
@Suite(.serialized) struct ChainTransferTests {
  static let bulkCount = 256 << 20

  /// Checks one upload to the sink: every byte arrived and the hashes on both ends agree.
  static func expectIntact(_ upload: UploadResult, _ route: String) {
    #expect(upload.sent.count == bulkCount, "\(route): bytes sent")
    #expect(upload.received.count == bulkCount, "\(route): bytes the sink received")
    #expect(upload.received.sha256 == upload.sent.sha256, "\(route): sha256 at the sink")
  }

  /// Checks one download from the source: every byte arrived in order.
  static func expectIntact(_ download: DownloadResult, _ route: String) {
    #expect(download.count == bulkCount, "\(route): bytes received")
    #expect(download.firstMismatch == nil, "\(route): first byte that differs")
    #expect(
      download.sha256 == LabClient.expectedSourceSHA256(count: bulkCount),
      "\(route): sha256 of the bytes received")
  }

  @Test func twoHopsCarry256MiBBothWaysAtOnce() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab,
      [
        "-vv", "-J", "build", "sign",
        "-L", "0:127.0.0.1:\(lab.sinkPort)",
        "-L", "0:127.0.0.1:\(lab.sourcePort)",
      ],
      forwardCount: 2)
    let sink = fwd.forward(to: lab.sinkPort)
    let source = fwd.forward(to: lab.sourcePort)

    let (upload, download) = try fwd.explainingFailure(lab) {
      try ChainHarness.runConcurrently(
        {
          try LabClient.upload(
            host: sink.listenAddress, port: sink.listenPort, count: Self.bulkCount,
            timeout: ChainHarness.transferTimeout)
        },
        {
          try LabClient.download(
            host: source.listenAddress, port: source.listenPort, count: Self.bulkCount,
            timeout: ChainHarness.transferTimeout)
        })
    }
    Self.expectIntact(upload, "upload through build and sign")
    Self.expectIntact(download, "download through build and sign")
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  @Test func threeHopsCarry256MiBEachWay() throws {
    let lab = try Lab()
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab,
      [
        "-vv", "-J", "build,sign", "deep",
        "-L", "0:127.0.0.1:\(lab.sinkPort)",
        "-L", "0:127.0.0.1:\(lab.sourcePort)",
      ],
      forwardCount: 2)
    let sink = fwd.forward(to: lab.sinkPort)
    let source = fwd.forward(to: lab.sourcePort)

    let upload = try fwd.explainingFailure(lab) {
      try LabClient.upload(
        host: sink.listenAddress, port: sink.listenPort, count: Self.bulkCount,
        timeout: ChainHarness.transferTimeout)
    }
    Self.expectIntact(upload, "upload through build, sign and deep")
    let download = try fwd.explainingFailure(lab) {
      try LabClient.download(
        host: source.listenAddress, port: source.listenPort, count: Self.bulkCount,
        timeout: ChainHarness.transferTimeout)
    }
    Self.expectIntact(download, "download through build, sign and deep")

    #expect(
      lab["sign"].waitForLog(containing: "target 127.0.0.1 port \(lab["deep"].port)"),
      "sign's sshd opened the channel to deep's sshd")
    #expect(
      lab["deep"].waitForLog(containing: "target 127.0.0.1 port \(lab.sinkPort)"),
      "deep's sshd opened the channel to the sink")
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  /// Many uploads end with a half-close while fwd's inner session socket is full, so some EOF
  /// packets go out only in part and must be resumed. libssh2 1.10 resumes such a packet only
  /// from the same stack address, and a failed resume used to end the whole chain with
  /// "Unable to send EOF on channel".
  @Test func uploadsEndingOnFullSocketKeepChain() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab, ["-vv", "-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.sinkPort)"], forwardCount: 1)
    let sink = fwd.forward(to: lab.sinkPort)

    // Sizes vary so that the EOF follows data packets of many lengths.
    let counts = (0..<32).map { (8 << 20) + $0 * 4099 }
    let uploads = try fwd.explainingFailure(lab) {
      try counts.map { count in
        try LabClient.upload(
          host: sink.listenAddress, port: sink.listenPort, count: count,
          timeout: ChainHarness.transferTimeout)
      }
    }
    for (index, upload) in uploads.enumerated() {
      #expect(upload.received == upload.sent, "upload \(index) of \(uploads.count)")
    }
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }

  @Test func twoHundredConcurrentConnectionsEcho() throws {
    let lab = try Lab(hostNames: ["build", "sign"])
    defer { lab.shutdown() }
    let fwd = try ChainHarness.start(
      lab, ["-J", "build", "sign", "-L", "0:127.0.0.1:\(lab.echoPort)"], forwardCount: 1)
    let echo = fwd.forward(to: lab.echoPort)
    let count = 200

    // Every connection is open before any reply is read, so all 200 channels are open on
    // sign's session at the same time. Each payload differs, so a reply delivered to the
    // wrong client is caught.
    var connections: [LabConnection] = []
    var payloads: [[UInt8]] = []
    for index in 0..<count {
      let connection = try LabConnection(
        host: echo.listenAddress, port: echo.listenPort, timeout: .seconds(60))
      let payload =
        Array("connection \(index)\n".utf8)
        + TestPattern.bytes(offset: index * 7919, count: 4096 + index * 61)
      try connection.write(payload, timeout: .seconds(60))
      connections.append(connection)
      payloads.append(payload)
    }
    for (index, connection) in connections.enumerated() {
      var received: [UInt8] = []
      while received.count < payloads[index].count {
        let chunk = try connection.read(timeout: .seconds(60))
        if chunk.isEmpty { break }
        received += chunk
      }
      #expect(received == payloads[index], "connection \(index): echoed bytes")
    }
    #expect(lab.echoService.acceptedConnections == count)
    for connection in connections { connection.close() }

    #expect(fwd.process.isRunning)
    #expect(try fwd.stop() == 0, "stderr: \(fwd.process.standardError)")
  }
}
