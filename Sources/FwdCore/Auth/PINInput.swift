import FwdBindings
import Glibc

/// Reads the PIN from a descriptor the caller opened, once per run (`--pin-fd N`).
final class DescriptorPINReader: PINReader {
  let descriptor: Int32
  let isInteractive = false
  var sourceName: String { "--pin-fd \(descriptor)" }
  /// The token whose login used the line, once read.
  private var usedBy: String?

  init(descriptor: Int32) { self.descriptor = descriptor }

  /// Closes the descriptor when no login read it, so the PIN does not stay readable by
  /// child processes for the rest of the run.
  func closeUnlessRead() {
    if usedBy == nil && fcntl(descriptor, F_GETFD) >= 0 {
      usedBy = "none"
      close(descriptor)
    }
  }

  /// Reads one line, then closes the descriptor so no child process inherits it.
  func readPIN(token: String, notice: String?) throws(FwdError) -> SecretBytes {
    if let usedBy {
      throw FwdError(
        .authentication,
        "token '\(token)': PIN needed, but \(sourceName) gave its one line to token '\(usedBy)':"
          + " use --pin-file, or name keys of one token with pkcs11: URIs")
    }
    guard fcntl(descriptor, F_GETFD) >= 0 else {
      throw FwdError(
        .authentication,
        "\(sourceName): descriptor is not open: open it in the calling shell, e.g. 3<pinfile")
    }
    usedBy = token
    defer { close(descriptor) }
    return try readPINLine(descriptor, source: sourceName)
  }
}

/// Reads the PIN from the first line of a private file, again for each login (`--pin-file`).
final class FilePINReader: PINReader {
  let path: String
  let isInteractive = false
  var sourceName: String { "--pin-file \(path)" }

  init(path: String) { self.path = path }

  func readPIN(token: String, notice: String?) throws(FwdError) -> SecretBytes {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
    guard descriptor >= 0 else {
      throw FwdError(.authentication, "\(sourceName): cannot open: \(errnoText())")
    }
    defer { close(descriptor) }
    try checkPrivate(descriptor)
    return try readPINLine(descriptor, source: sourceName)
  }

  /// Rejects a file that is not a regular file owned by the user with mode 0600 or 0400.
  /// The checks run on the open descriptor, so a swapped path cannot slip through.
  private func checkPrivate(_ descriptor: Int32) throws(FwdError) {
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      throw FwdError(.authentication, "\(sourceName): cannot stat: \(errnoText())")
    }
    guard status.st_mode & S_IFMT == S_IFREG else {
      throw FwdError(
        .authentication, "\(sourceName): not a regular file: give a file holding only the PIN")
    }
    guard status.st_uid == geteuid() else {
      throw FwdError(
        .authentication,
        "\(sourceName): owned by uid \(status.st_uid), not by uid \(geteuid()):"
          + " chown it to the user running fwd")
    }
    let permissions = status.st_mode & 0o777
    guard permissions == 0o600 || permissions == 0o400 else {
      throw FwdError(
        .authentication,
        "\(sourceName): mode \(String(permissions, radix: 8)) is not 600 or 400:"
          + " run chmod 600 \(path)")
    }
  }
}

/// Reads one line from `descriptor` into a fresh buffer, without the line ending. Reads byte
/// by byte so nothing after the line is consumed.
func readPINLine(_ descriptor: Int32, source: String) throws(FwdError) -> SecretBytes {
  let pin = SecretBytes(capacity: maximumPINLength)
  var byte: UInt8 = 0
  defer { byte = 0 }
  while true {
    let count = read(descriptor, &byte, 1)
    if count < 0 && errno == EINTR { continue }
    if count < 0 {
      throw FwdError(.authentication, "\(source): cannot read the PIN: \(errnoText())")
    }
    if count == 0 || byte == 0x0a { break }
    if !pin.append(byte) {
      pin.wipe()
      throw FwdError(.authentication, "\(source): PIN longer than \(maximumPINLength) bytes")
    }
  }
  pin.dropLast(ifEqualTo: 0x0d)
  if pin.isEmpty {
    throw FwdError(.authentication, "\(source): no PIN: write the PIN on the first line")
  }
  return pin
}
