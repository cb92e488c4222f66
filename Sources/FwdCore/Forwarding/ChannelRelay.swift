import FwdBindings

/// Moves bytes both ways between a socket and an SSH channel, for one forwarded connection or
/// for the tunnel that carries the next hop's SSH session.
///
/// Owned by one hop loop and used only on its thread. Each direction passes EOF on (half-close)
/// only after every byte before it was delivered.
final class ChannelRelay {
  /// What the relay could do in one service pass.
  enum Outcome {
    /// Moved bytes or changed state; poll interest may have changed.
    case progressed
    /// Nothing to do until a descriptor becomes ready.
    case idle
    /// A libssh2 send returned EAGAIN with part of a packet sent. Until `resume` completes it,
    /// no other libssh2 call may send on this session.
    case sendBlocked
    /// Both directions are done and the channel is freed.
    case finished
  }

  /// The libssh2 call that was interrupted by EAGAIN and must be repeated first.
  private enum PendingSend {
    case write(UnsafeMutableRawPointer, Int)
    case read
    /// EOF, close and free, repeated by `sendControl`.
    case eof
    case close
    case free
  }

  static let bufferSize = 64 * 1024

  let id: Int
  let label: String
  let fd: Int32
  private let channel: SSHChannel
  private let upstream = RelayBuffer(capacity: ChannelRelay.bufferSize)
  private let downstream = RelayBuffer(capacity: ChannelRelay.bufferSize)
  private var pendingSend: PendingSend?

  private var socketReadClosed = false
  private var eofSent = false
  private var channelReadClosed = false
  private var socketWriteClosed = false
  private var closing = false
  private var closeSent = false
  private(set) var isFinished = false

  private(set) var bytesUp = 0
  private(set) var bytesDown = 0

  /// The forward's live counters, when the relay carries a local client's connection.
  let counters: ForwardCounters?

  init(id: Int, label: String, fd: Int32, channel: SSHChannel, counters: ForwardCounters? = nil) {
    self.counters = counters
    self.id = id
    self.label = label
    self.fd = fd
    self.channel = channel
  }

  /// Whether the hop loop should poll the socket for reading.
  var wantsSocketRead: Bool { !closing && !socketReadClosed && upstream.hasSpace && pendingSend == nil }
  /// Whether the hop loop should poll the socket for writing.
  var wantsSocketWrite: Bool { !closing && !downstream.isEmpty }
  /// Whether a channel read or write could drain the session's socket.
  var canDrainSession: Bool {
    !closing && ((!channelReadClosed && downstream.hasSpace) || !upstream.isEmpty)
  }

  /// Runs one pass over both directions. Throws `SSHError` only for failures of the session.
  ///
  /// The hop loop calls this from one fixed stack depth, because `sendControl` relies on it.
  @inline(never)
  func service() throws(SSHError) -> Outcome {
    if isFinished { return .finished }
    var progressed = false
    if let pending = pendingSend {
      let resumed: Outcome
      switch pending {
      case .write, .read: resumed = try resume(pending)
      case .eof, .close, .free: resumed = try sendControl()
      }
      switch resumed {
      case .sendBlocked: return .sendBlocked
      case .finished: return .finished
      default: progressed = true
      }
    }
    if closing { return try sendControl() }

    do {
      if try readSocket() { progressed = true }
      switch try writeChannel() {
      case .sendBlocked: return .sendBlocked
      case .progressed: progressed = true
      default: break
      }
      if socketReadClosed && !eofSent && upstream.isEmpty {
        switch try sendControl() {
        case .sendBlocked: return .sendBlocked
        case .progressed: progressed = true
        default: break
        }
      }
      switch try readChannel() {
      case .sendBlocked: return .sendBlocked
      case .progressed: progressed = true
      default: break
      }
      if try writeSocket() { progressed = true }
    } catch let error as SystemError {
      logDebug(label, "socket \(error.description); closing the channel")
      beginClose()
      return try sendControl()
    } catch let error as SSHError {
      if ChannelRelay.isSessionFailure(error) { throw error }
      logDebug(label, "channel failed: \(error.message)")
      beginClose()
      return try sendControl()
    } catch {
      preconditionFailure("unexpected error \(error)")
    }

    if socketReadClosed && eofSent && channelReadClosed && socketWriteClosed {
      beginClose()
      return try sendControl()
    }
    return progressed ? .progressed : .idle
  }

  /// Closes the socket now and makes the next `service` close the channel, dropping
  /// undelivered bytes (the session or the client is gone).
  func abort() {
    if !closing { beginClose() }
  }

  /// Releases the socket without talking to the session, for a session that is already dead.
  func discard() {
    if !isFinished {
      Socket.close(fd)
      counters?.connectionClosed()
      isFinished = true
    }
  }

  static func isSessionFailure(_ error: SSHError) -> Bool { error.endsSession }

  // MARK: - Directions

  /// Socket to upstream buffer. Returns whether anything changed.
  private func readSocket() throws(SystemError) -> Bool {
    var changed = false
    while !socketReadClosed && upstream.hasSpace {
      let space = upstream.reserve()
      switch try Socket.read(fd, into: space.pointer, count: space.count) {
      case .bytes(let n):
        upstream.commit(n)
        bytesUp += n
        counters?.addBytesUp(n)
        changed = true
      case .endOfFile:
        socketReadClosed = true
        changed = true
      case .wouldBlock:
        return changed
      }
    }
    return changed
  }

  /// Upstream buffer to channel.
  private func writeChannel() throws(SSHError) -> Outcome {
    var changed = false
    while !upstream.isEmpty {
      let pending = upstream.pending
      switch try channel.write(pending.pointer, count: pending.count) {
      case .done(let n):
        upstream.consume(n)
        changed = true
        if n == 0 { return changed ? .progressed : .idle }
      case .wouldBlock:
        if channel.session.blockDirections.outbound {
          pendingSend = .write(pending.pointer, pending.count)
          return .sendBlocked
        }
        // The server's window for this channel is closed; libssh2 read the socket looking for
        // a window adjustment and will see it when the socket is readable again.
        return changed ? .progressed : .idle
      }
    }
    return changed ? .progressed : .idle
  }

  /// Channel to downstream buffer, noting the server's EOF once all data before it is read.
  private func readChannel() throws(SSHError) -> Outcome {
    var changed = false
    while !channelReadClosed && downstream.hasSpace {
      let space = downstream.reserve()
      switch try channel.read(into: space.pointer, count: space.count) {
      case .done(let n) where n > 0:
        downstream.commit(n)
        bytesDown += n
        counters?.addBytesDown(n)
        changed = true
      case .done:
        if channel.receivedEOF {
          channelReadClosed = true
          changed = true
        }
        return changed ? .progressed : .idle
      case .wouldBlock:
        if channel.session.blockDirections.outbound {
          // The read queued a window adjustment that is only partly sent.
          pendingSend = .read
          return .sendBlocked
        }
        if channel.receivedEOF {
          channelReadClosed = true
          changed = true
        }
        return changed ? .progressed : .idle
      }
    }
    return changed ? .progressed : .idle
  }

  /// Downstream buffer to socket, then shutdown(SHUT_WR) once the channel's EOF is reached.
  private func writeSocket() throws(SystemError) -> Bool {
    var changed = false
    while !downstream.isEmpty {
      let pending = downstream.pending
      switch try Socket.write(fd, from: pending.pointer, count: pending.count) {
      case .bytes(let n):
        downstream.consume(n)
        changed = true
      case .wouldBlock, .endOfFile:
        return changed
      }
    }
    if channelReadClosed && !socketWriteClosed {
      Socket.shutdownWrite(fd)
      socketWriteClosed = true
      changed = true
    }
    return changed
  }

  // MARK: - Interrupted sends and closing

  private func resume(_ pending: PendingSend) throws(SSHError) -> Outcome {
    switch pending {
    case .write(let pointer, let count):
      switch try channel.write(pointer, count: count) {
      case .wouldBlock: return .sendBlocked
      case .done(let n):
        pendingSend = nil
        upstream.consume(n)
      }
    case .read:
      let space = downstream.reserve()
      switch try channel.read(into: space.pointer, count: space.count) {
      case .wouldBlock:
        if channel.session.blockDirections.outbound { return .sendBlocked }
        pendingSend = nil
      case .done(let n):
        pendingSend = nil
        downstream.commit(n)
        bytesDown += n
        counters?.addBytesDown(n)
      }
    case .eof, .close, .free:
      preconditionFailure("EOF and close are resumed by sendControl")
    }
    return .progressed
  }

  private func beginClose() {
    closing = true
    Socket.close(fd)
    socketReadClosed = true
    socketWriteClosed = true
  }

  /// Sends EOF (while open) or closes and frees the channel (once closing), and is the only
  /// place that calls those libssh2 functions.
  ///
  /// libssh2 1.10 builds the EOF packet in a buffer on its own stack, also when close sends EOF
  /// first, and after EAGAIN it accepts the repeated call only if that buffer has the same
  /// address; a different one fails the session with LIBSSH2_ERROR_BAD_USE ("Unable to send
  /// EOF on channel"). Every call therefore comes from this one never-inlined function, reached
  /// only through `service`, which the hop loop calls from one stack depth.
  @inline(never)
  private func sendControl() throws(SSHError) -> Outcome {
    var resumingEOF = false
    if case .eof = pendingSend { resumingEOF = true }
    pendingSend = nil
    // An interrupted EOF is finished before a close, which would build the packet again.
    if resumingEOF || !closing {
      switch try channel.sendEOF() {
      case .done:
        eofSent = true
        if !closing { return .progressed }
      case .wouldBlock:
        return blocked(.eof)
      }
    }
    if !closeSent {
      do {
        if case .wouldBlock = try channel.close() { return blocked(.close) }
      } catch {
        if ChannelRelay.isSessionFailure(error) { throw error }
      }
      closeSent = true
    }
    if case .wouldBlock = channel.free() { return blocked(.free) }
    counters?.connectionClosed()
    isFinished = true
    return .finished
  }

  private func blocked(_ step: PendingSend) -> Outcome {
    guard channel.session.blockDirections.outbound else { return .idle }
    pendingSend = step
    return .sendBlocked
  }
}
