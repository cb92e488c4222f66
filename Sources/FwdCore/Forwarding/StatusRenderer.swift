/// Turns a `StatusSnapshot` into text: rows for the live status view and lines for the log.
enum StatusRenderer {
  /// Formats the rows of the live status view, each cut to `width` columns so it takes one terminal row.
  ///
  /// ```
  /// fwd: 2 of 2 hops up, 2 forwards, 3 connections
  ///   hop 1  build (127.0.0.1:2201)  up  keepalive 2 ms
  ///   hop 2  sign (127.0.0.1:2202)   up  keepalive -
  ///   local 127.0.0.1 4444 localhost 4444  3 active  1.2 MiB up  8.0 MiB down
  ///   remote localhost 5555 127.0.0.1 22  waiting  0 active  0 B up  0 B down
  /// ```
  static func rows(_ snapshot: StatusSnapshot, width: Int) -> [String] {
    let upCount = snapshot.hops.filter { $0.state == "up" }.count
    let active = snapshot.forwards.reduce(0) { $0 + $1.activeConnections }
    var rows = [
      "fwd: \(upCount) of \(plural(snapshot.hops.count, "hop")) up, "
        + "\(plural(snapshot.forwards.count, "forward")), \(plural(active, "connection"))"
    ]
    let labelWidth = snapshot.hops.map(\.label.count).max() ?? 0
    for (index, hop) in snapshot.hops.enumerated() {
      let label = hop.label + String(repeating: " ", count: labelWidth - hop.label.count)
      let state = hop.state + String(repeating: " ", count: max(0, 4 - hop.state.count))
      rows.append("  hop \(index + 1)  \(label)  \(state)  keepalive \(roundTrip(hop))")
    }
    for forward in snapshot.forwards {
      let state = forward.state.map { "\($0)  " } ?? ""
      rows.append(
        "  \(forward.description)  \(state)\(forward.activeConnections) active  "
          + "\(byteCount(forward.bytesUp)) up  \(byteCount(forward.bytesDown)) down")
    }
    return rows.map { cut($0, to: width) }
  }

  /// Formats one log line per hop and per forward, with exact byte counts, for SIGUSR1.
  static func logLines(_ snapshot: StatusSnapshot) -> [String] {
    var lines: [String] = []
    for (index, hop) in snapshot.hops.enumerated() {
      lines.append("hop \(index + 1) \(hop.label): \(hop.state), keepalive round trip \(roundTrip(hop))")
    }
    for forward in snapshot.forwards {
      let state = forward.state.map { "\($0), " } ?? ""
      lines.append(
        "\(forward.description): \(state)\(plural(forward.activeConnections, "active connection")), "
          + "\(forward.bytesUp) bytes up, \(forward.bytesDown) bytes down")
    }
    return lines
  }

  /// Formats bytes with binary prefixes: `512 B`, `1.5 KiB`, `20.0 MiB`, `3.2 GiB`.
  static func byteCount(_ bytes: UInt64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"]
    guard bytes >= 1024 else { return "\(bytes) B" }
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
  }

  private static func roundTrip(_ hop: StatusSnapshot.Hop) -> String {
    hop.keepaliveRoundTrip.map { "\($0) ms" } ?? "-"
  }

  private static func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
  }

  /// Cuts `text` to `width` characters; the last one becomes `>` to show the cut.
  private static func cut(_ text: String, to width: Int) -> String {
    guard width > 1, text.count > width else { return text }
    return String(text.prefix(width - 1)) + ">"
  }
}
