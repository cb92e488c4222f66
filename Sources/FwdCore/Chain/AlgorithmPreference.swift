import FwdBindings

/// An algorithm keyword set for a hop: Ciphers, MACs, KexAlgorithms or HostKeyAlgorithms.
public struct AlgorithmSetting: Equatable, Sendable {
  public enum Keyword: String, CaseIterable, Sendable {
    case ciphers = "Ciphers"
    case macs = "MACs"
    case kexAlgorithms = "KexAlgorithms"
    case hostKeyAlgorithms = "HostKeyAlgorithms"

    /// The libssh2 method kinds the keyword sets; ciphers and MACs apply in both directions.
    public var methodKinds: [SSHMethodKind] {
      switch self {
      case .ciphers: [.cipherClientToServer, .cipherServerToClient]
      case .macs: [.macClientToServer, .macServerToClient]
      case .kexAlgorithms: [.keyExchange]
      case .hostKeyAlgorithms: [.hostKey]
      }
    }
  }

  public var keyword: Keyword
  /// The value as written, with its `+`, `-` or `^` prefix.
  public var value: String
  /// `FILE:LINE` or `command line`, for messages.
  public var origin: String

  public init(keyword: Keyword, value: String, origin: String) {
    self.keyword = keyword
    self.value = value
    self.origin = origin
  }

  /// Returns the algorithms to offer, in order of preference, given what libssh2 supports in
  /// its own order of preference (which is also its default list).
  ///
  /// - Throws: `FwdError` with status `.configuration` when libssh2 supports none of the
  ///   algorithms the value leaves, naming the ones it supports.
  public func resolve(supported: [String]) throws(FwdError) -> [String] {
    let names = AlgorithmList.apply(value, defaults: supported)
    guard names.isEmpty else { return names }
    throw .configuration(
      "\(origin): invalid \(keyword.rawValue) '\(value)': libssh2 \(LibSSH2.version) supports "
        + "none of these algorithms; it supports \(supported.joined(separator: ","))")
  }
}

/// ssh_config algorithm lists as OpenSSH applies them to its default list, with libssh2's
/// default list in place of OpenSSH's.
///
/// - `a,b`: these algorithms, in this order.
/// - `+a,b`: the defaults, then these.
/// - `-a,b`: the defaults without these.
/// - `^a,b`: these, then the rest of the defaults.
///
/// Elements may use the `*` and `?` wildcards, as ssh allows. A name libssh2 does not
/// support is dropped because libssh2 cannot offer it, and it is not an error, because
/// ssh_config written for a newer OpenSSH may name algorithms that OpenSSH 9.2 lacks too.
enum AlgorithmList {
  static func apply(_ value: String, defaults: [String]) -> [String] {
    guard let first = value.first else { return [] }
    let body = "+-^".contains(first) ? String(value.dropFirst()) : value
    let patterns = body.split(separator: ",").map(String.init)
    switch first {
    case "+":
      return appendingNew(expand(patterns, among: defaults), to: defaults)
    case "-":
      return defaults.filter { name in
        !patterns.contains { HostPattern.matches(name, pattern: $0) }
      }
    case "^":
      let head = expand(patterns, among: defaults)
      return appendingNew(defaults, to: head)
    default:
      return expand(patterns, among: defaults)
    }
  }

  /// Returns the supported names each pattern matches, in pattern order, without repeats.
  private static func expand(_ patterns: [String], among supported: [String]) -> [String] {
    var names: [String] = []
    for pattern in patterns {
      let matching = supported.filter { HostPattern.matches($0, pattern: pattern) }
      names = appendingNew(matching, to: names)
    }
    return names
  }

  private static func appendingNew(_ names: [String], to list: [String]) -> [String] {
    var result = list
    for name in names where !result.contains(name) { result.append(name) }
    return result
  }
}
