/// SSH wire encodings (RFC 4251 section 5) for channel-open payloads libssh2 1.10 has no
/// helper for.
enum SSHWire {
  static func uint32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
  }

  static func string(_ bytes: [UInt8]) -> [UInt8] {
    uint32(UInt32(bytes.count)) + bytes
  }

  /// The payload of a `direct-streamlocal@openssh.com` open (OpenSSH PROTOCOL, section 2.4):
  /// string socket path, string reserved, uint32 reserved.
  static func streamLocalPayload(path: String) -> [UInt8] {
    string(Array(path.utf8)) + string([]) + uint32(0)
  }
}
