import Glibc

/// Many connections opened at once, each sending one short line and waiting for its echo.
struct ConnectionBurst {
  struct Outcome {
    /// Connections whose echo came back intact.
    var served = 0
    var failed = 0
    /// Seconds from the first connect until the last connection succeeded or failed.
    var seconds = 0.0
    var firstError: String?
  }

  private enum Phase {
    case connecting
    case awaitingEcho(received: Int)
    case finished
  }

  private struct Connection {
    let socket: BenchSocket
    let message: [UInt8]
    var phase = Phase.connecting
  }

  let port: Int
  let count: Int
  /// Seconds after which connections still open count as failed.
  let timeout: Double

  /// Opens all `count` connections without waiting, then serves them in one poll loop.
  func run() -> Outcome {
    var outcome = Outcome()
    var connections: [Connection] = []
    connections.reserveCapacity(count)
    let start = monotonicNanoseconds()
    for index in 0..<count {
      do {
        let message = Array("burst connection \(index)\n".utf8)
        connections.append(
          Connection(socket: try BenchSocket(startingConnectionTo: port), message: message))
      } catch {
        record(failure: "\(error)", in: &outcome)
      }
    }
    var buffer = [UInt8](repeating: 0, count: 256)
    while secondsSince(start) < timeout {
      var entries: [pollfd] = []
      var indices: [Int] = []
      for (index, connection) in connections.enumerated() {
        switch connection.phase {
        case .connecting:
          entries.append(pollfd(fd: connection.socket.fd, events: Int16(POLLOUT), revents: 0))
        case .awaitingEcho:
          entries.append(pollfd(fd: connection.socket.fd, events: Int16(POLLIN), revents: 0))
        case .finished:
          continue
        }
        indices.append(index)
      }
      if entries.isEmpty { break }
      let ready = poll(&entries, nfds_t(entries.count), 100)
      if ready < 0 && errno != EINTR {
        record(failure: "poll failed: \(errnoText())", in: &outcome)
        break
      }
      for (entry, index) in zip(entries, indices) where entry.revents != 0 {
        advance(&connections[index], buffer: &buffer, outcome: &outcome)
      }
    }
    // The loop ends right after the last connection finished, or at the timeout.
    outcome.seconds = secondsSince(start)
    for index in connections.indices {
      if case .finished = connections[index].phase { continue }
      record(failure: "no echo within \(timeout) s", in: &outcome)
      connections[index].socket.close()
    }
    return outcome
  }

  private func advance(
    _ connection: inout Connection, buffer: inout [UInt8], outcome: inout Outcome
  ) {
    let socket = connection.socket
    switch connection.phase {
    case .connecting:
      if let error = socket.pendingError {
        finish(&connection, failure: "connect failed: \(errnoText(error))", outcome: &outcome)
        return
      }
      // A message of a few bytes fits in an empty socket buffer, so one send suffices.
      let sent = connection.message.withUnsafeBytes {
        send(socket.fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard sent == connection.message.count else {
        finish(&connection, failure: "send failed: \(errnoText())", outcome: &outcome)
        return
      }
      connection.phase = .awaitingEcho(received: 0)
    case .awaitingEcho(let received):
      let missing = connection.message.count - received
      let count = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress!, missing, 0) }
      if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
      guard count > 0 else {
        let reason = count == 0 ? "EOF before the echo" : "recv failed: \(errnoText())"
        finish(&connection, failure: reason, outcome: &outcome)
        return
      }
      guard Array(buffer[0..<count]) == Array(connection.message[received..<(received + count)])
      else {
        finish(&connection, failure: "the echo differs from the message", outcome: &outcome)
        return
      }
      if received + count < connection.message.count {
        connection.phase = .awaitingEcho(received: received + count)
        return
      }
      outcome.served += 1
      connection.phase = .finished
      socket.close()
    case .finished:
      return
    }
  }

  private func finish(_ connection: inout Connection, failure: String, outcome: inout Outcome) {
    record(failure: failure, in: &outcome)
    connection.phase = .finished
    connection.socket.close()
  }

  private func record(failure: String, in outcome: inout Outcome) {
    outcome.failed += 1
    if outcome.firstError == nil { outcome.firstError = failure }
  }
}
