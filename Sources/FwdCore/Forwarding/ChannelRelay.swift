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
    case eof
    case read
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

  init(id: Int, label: String, fd: Int32, channel: SSHChannel) {
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
  func service() throws(SSHError) -> Outcome {
    if isFinished { return .finished }
    var progressed = false
    if let pending = pendingSend {
      switch try resume(pending) {
      case .sendBlocked: return .sendBlocked
      case .finished: return .finished
      default: progressed = true
      }
    }
    if closing { return try finishClose() }

    do {
      if try readSocket() { progressed = true }
      switch try writeChannel() {
      case .sendBlocked: return .sendBlocked
      case .progressed: progressed = true
      default: break
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
      return try finishClose()
    } catch let error as SSHError {
      if ChannelRelay.isSessionFailure(error) { throw error }
      logDebug(label, "channel failed: \(error.message)")
      beginClose()
      return try finishClose()
    } catch {
      preconditionFailure("unexpected error \(error)")
    }

    if socketReadClosed && eofSent && channelReadClosed && socketWriteClosed {
      beginClose()
      return try finishClose()
    }
    return progressed ? .progressed : .idle
  }

  /// Closes the channel and the socket now, dropping undelivered bytes (the session or the
  /// client is gone).
  func abort() throws(SSHError) -> Outcome {
    if !closing { beginClose() }
    if pendingSend != nil { return .sendBlocked }
    return try finishClose()
  }

  /// Releases the socket without talking to the session, for a session that is already dead.
  func discard() {
    if !isFinished {
      Socket.close(fd)
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

  /// Upstream buffer to channel, then EOF once the socket's EOF and every byte before it are sent.
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
    if socketReadClosed && !eofSent {
      switch try channel.sendEOF() {
      case .done:
        eofSent = true
        changed = true
      case .wouldBlock:
        if channel.session.blockDirections.outbound {
          pendingSend = .eof
          return .sendBlocked
        }
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
    case .eof:
      if case .wouldBlock = try channel.sendEOF() { return .sendBlocked }
      pendingSend = nil
      eofSent = true
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
      }
    case .close, .free:
      pendingSend = nil
      return try finishClose()
    }
    return .progressed
  }

  private func beginClose() {
    closing = true
    Socket.close(fd)
    socketReadClosed = true
    socketWriteClosed = true
  }

  private func finishClose() throws(SSHError) -> Outcome {
    if !closeSent {
      do {
        if case .wouldBlock = try channel.close() {
          if channel.session.blockDirections.outbound {
            pendingSend = .close
            return .sendBlocked
          }
          return .idle
        }
      } catch {
        if ChannelRelay.isSessionFailure(error) { throw error }
      }
      closeSent = true
    }
    if case .wouldBlock = channel.free() {
      if channel.session.blockDirections.outbound {
        pendingSend = .free
        return .sendBlocked
      }
      return .idle
    }
    isFinished = true
    return .finished
  }
}
