import CP11Kit
import Synchronization

/// A PKCS#11 module loaded and initialized through p11-kit, with the slots and tokens it offers.
///
/// fwd makes every call into the module, and into its sessions, under one lock, so the module
/// never sees two calls at once from this process whatever locking it was initialized with.
/// `deinit` finalizes and releases the module; sessions keep their module alive.
public final class PKCS11Module: @unchecked Sendable {
  /// The path or name the module was loaded from.
  public let path: String
  let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
  let lock = PKCS11Lock()

  /// Loads the module at `path` and initializes it.
  ///
  /// Calls `p11_kit_module_load` and `p11_kit_module_initialize`.
  public init(path: String) throws(PKCS11Error) {
    guard let functions = p11_kit_module_load(path, 0) else {
      let detail = p11_kit_message().map { String(cString: $0) } ?? "cannot load \(path)"
      throw PKCS11Error(
        function: "p11_kit_module_load", code: UInt(CKR_GENERAL_ERROR), detail: detail)
    }
    let status = p11_kit_module_initialize(functions)
    if status != CKR_OK {
      p11_kit_module_release(functions)
      throw PKCS11Error(function: "C_Initialize", code: status)
    }
    self.path = path
    self.functions = functions
  }

  /// Finalizes and releases the module. Calls `p11_kit_module_finalize` and
  /// `p11_kit_module_release`.
  deinit {
    _ = p11_kit_module_finalize(functions)
    p11_kit_module_release(functions)
  }

  /// Lists slots, or only the slots that hold a token when `withTokenOnly` is true.
  ///
  /// Calls `C_GetSlotList`.
  public func slots(withTokenOnly: Bool) throws(PKCS11Error) -> [UInt] {
    let getSlotList = try entry(functions.pointee.C_GetSlotList, "C_GetSlotList")
    let present = CK_BBOOL(withTokenOnly ? CK_TRUE : CK_FALSE)
    return try lock.run { () throws(PKCS11Error) -> [UInt] in
      while true {
        var count: CK_ULONG = 0
        try PKCS11Error.check(getSlotList(present, nil, &count), "C_GetSlotList")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        let status = getSlotList(present, &slots, &count)
        // A reader plugged in between the two calls makes the list longer: ask again.
        if status == CKR_BUFFER_TOO_SMALL { continue }
        try PKCS11Error.check(status, "C_GetSlotList")
        return Array(slots.prefix(Int(count)))
      }
    }
  }

  /// Returns the description and flags of the token in `slot`. Calls `C_GetTokenInfo`.
  public func tokenInfo(slot: UInt) throws(PKCS11Error) -> PKCS11TokenInfo {
    let info = try rawTokenInfo(slot: slot)
    return PKCS11TokenInfo(
      slot: slot,
      label: paddedText(info.label),
      manufacturer: paddedText(info.manufacturerID),
      model: paddedText(info.model),
      serialNumber: paddedText(info.serialNumber),
      flags: info.flags)
  }

  /// Returns the token description as the C structure, which p11-kit's URI matcher takes.
  func rawTokenInfo(slot: UInt) throws(PKCS11Error) -> CK_TOKEN_INFO {
    let getTokenInfo = try entry(functions.pointee.C_GetTokenInfo, "C_GetTokenInfo")
    var info = CK_TOKEN_INFO()
    try lock.run { () throws(PKCS11Error) in
      try PKCS11Error.check(getTokenInfo(slot, &info), "C_GetTokenInfo")
    }
    return info
  }

  /// Returns the mechanisms the token in `slot` supports. Calls `C_GetMechanismList`.
  public func mechanisms(slot: UInt) throws(PKCS11Error) -> Set<PKCS11Mechanism> {
    let getMechanismList = try entry(functions.pointee.C_GetMechanismList, "C_GetMechanismList")
    let list = try lock.run { () throws(PKCS11Error) -> [CK_MECHANISM_TYPE] in
      var count: CK_ULONG = 0
      try PKCS11Error.check(getMechanismList(slot, nil, &count), "C_GetMechanismList")
      var list = [CK_MECHANISM_TYPE](repeating: 0, count: Int(count))
      try PKCS11Error.check(getMechanismList(slot, &list, &count), "C_GetMechanismList")
      return Array(list.prefix(Int(count)))
    }
    return Set(list.map { PKCS11Mechanism(rawValue: $0) })
  }

  /// Opens a read-only session on the token in `slot`. Calls `C_OpenSession`.
  public func openSession(slot: UInt) throws(PKCS11Error) -> PKCS11Session {
    let openSession = try entry(functions.pointee.C_OpenSession, "C_OpenSession")
    var handle: CK_SESSION_HANDLE = 0
    try lock.run { () throws(PKCS11Error) in
      let flags = CK_FLAGS(CKF_SERIAL_SESSION)
      try PKCS11Error.check(openSession(slot, flags, nil, nil, &handle), "C_OpenSession")
    }
    return PKCS11Session(module: self, slot: slot, handle: handle)
  }

  /// Returns the module's entry point, or `CKR_FUNCTION_NOT_SUPPORTED` when its function list
  /// leaves it empty.
  func entry<Function>(_ function: Function?, _ name: String) throws(PKCS11Error) -> Function {
    guard let function else {
      throw PKCS11Error(function: name, code: UInt(CKR_FUNCTION_NOT_SUPPORTED))
    }
    return function
  }
}

/// The lock around every call into one module.
final class PKCS11Lock: Sendable {
  private let mutex = Mutex<Void>(())

  func run<Result>(_ body: () throws(PKCS11Error) -> Result) throws(PKCS11Error) -> Result {
    try mutex.withLock { _ throws(PKCS11Error) -> Result in try body() }
  }
}

/// Decodes one of the space-padded, unterminated UTF-8 fields of `CK_TOKEN_INFO`.
func paddedText<Field>(_ field: Field) -> String {
  withUnsafeBytes(of: field) { bytes in
    var end = bytes.count
    while end > 0 && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0) { end -= 1 }
    return String(decoding: bytes[0..<end], as: UTF8.self)
  }
}
