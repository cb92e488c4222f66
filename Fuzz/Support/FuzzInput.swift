import FwdCore

/// Conversions from the raw bytes libFuzzer passes to each target.
enum FuzzInput {
  /// Copies libFuzzer's input, which may be a null pointer when `size` is 0.
  static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
  }

  /// Decodes the input as UTF-8, with U+FFFD for invalid bytes, as fwd decodes files.
  static func text(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: bytes(data, size), as: UTF8.self)
  }

  /// Silences fwd's logger, which would otherwise write to stderr on every input.
  static func silenceLog() {
    Log.shared.level = .quiet
  }
}

/// Stops the process when an invariant fails. libFuzzer reports the stop as a crash and
/// saves the input, which then becomes a regression test in Tests/FwdCoreTests.
func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition {
    fatalError("fuzz invariant failed: " + message())
  }
}
