import CP11Kit

/// A read-only session on one token: login, object search, attributes and signatures.
///
/// Safe to use from several threads: each call holds the module's lock for its whole
/// exchange, so the `C_SignInit`/`C_Sign` pair of one signature is never interleaved with
/// another thread's.
public final class PKCS11Session: @unchecked Sendable {
  /// The module the session belongs to, kept alive while the session exists.
  public let module: PKCS11Module
  public let slot: UInt
  let handle: CK_SESSION_HANDLE

  init(module: PKCS11Module, slot: UInt, handle: CK_SESSION_HANDLE) {
    self.module = module
    self.slot = slot
    self.handle = handle
  }

  /// Closes the session, which also ends the token's login state when it is the last session.
  /// Calls `C_CloseSession`.
  deinit {
    guard let closeSession = module.functions.pointee.C_CloseSession else { return }
    let handle = handle
    _ = try? module.lock.run { () throws(PKCS11Error) in _ = closeSession(handle) }
  }

  private var functions: CK_FUNCTION_LIST { module.functions.pointee }

  /// Logs the user in with `pin`, then wipes `pin` whatever the outcome. A nil `pin` is for
  /// readers with a PIN pad (`CKF_PROTECTED_AUTHENTICATION_PATH`): the reader asks for it.
  ///
  /// `CKR_USER_ALREADY_LOGGED_IN` counts as success. Calls `C_Login`.
  public func login(pin: SecretBytes?) throws(PKCS11Error) {
    defer { pin?.wipe() }
    let login = try module.entry(functions.C_Login, "C_Login")
    let status = try module.lock.run { () throws(PKCS11Error) -> CK_RV in
      guard let pin else { return login(handle, CK_USER_TYPE(CKU_USER), nil, 0) }
      return pin.withBytes { bytes in
        // C_Login takes a non-const pointer but only reads the PIN.
        login(
          handle, CK_USER_TYPE(CKU_USER), UnsafeMutablePointer(mutating: bytes.baseAddress),
          CK_ULONG(bytes.count))
      }
    }
    if status == CKR_USER_ALREADY_LOGGED_IN { return }
    try PKCS11Error.check(status, "C_Login")
  }

  /// Returns whether the user is logged in to the token, which PKCS#11 shares among all the
  /// sessions of one application. Calls `C_GetSessionInfo`.
  public func isUserLoggedIn() throws(PKCS11Error) -> Bool {
    let getSessionInfo = try module.entry(functions.C_GetSessionInfo, "C_GetSessionInfo")
    var info = CK_SESSION_INFO()
    try module.lock.run { () throws(PKCS11Error) in
      try PKCS11Error.check(getSessionInfo(handle, &info), "C_GetSessionInfo")
    }
    return info.state == CKS_RO_USER_FUNCTIONS || info.state == CKS_RW_USER_FUNCTIONS
  }

  /// Returns the handles of the objects of `objectClass`, only those whose `CKA_ID` is `id`
  /// when `id` is given. Calls `C_FindObjectsInit`, `C_FindObjects` and `C_FindObjectsFinal`.
  public func findObjects(_ objectClass: PKCS11ObjectClass, id: [UInt8]? = nil)
    throws(PKCS11Error) -> [UInt]
  {
    let findInit = try module.entry(functions.C_FindObjectsInit, "C_FindObjectsInit")
    let find = try module.entry(functions.C_FindObjects, "C_FindObjects")
    let findFinal = try module.entry(functions.C_FindObjectsFinal, "C_FindObjectsFinal")
    var classValue = CK_OBJECT_CLASS(objectClass.rawValue)
    var idValue = id ?? []
    return try module.lock.run { () throws(PKCS11Error) -> [UInt] in
      let initStatus = withUnsafeMutableBytes(of: &classValue) { classBytes in
        idValue.withUnsafeMutableBytes { idBytes in
          var template = [
            CK_ATTRIBUTE(
              type: CK_ATTRIBUTE_TYPE(CKA_CLASS), pValue: classBytes.baseAddress,
              ulValueLen: CK_ULONG(classBytes.count)),
            CK_ATTRIBUTE(
              type: CK_ATTRIBUTE_TYPE(CKA_ID), pValue: idBytes.baseAddress,
              ulValueLen: CK_ULONG(idBytes.count)),
          ]
          return findInit(handle, &template, id == nil ? 1 : 2)
        }
      }
      try PKCS11Error.check(initStatus, "C_FindObjectsInit")
      defer { _ = findFinal(handle) }
      var found: [UInt] = []
      var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 32)
      while true {
        var count: CK_ULONG = 0
        try PKCS11Error.check(
          find(handle, &batch, CK_ULONG(batch.count), &count), "C_FindObjects")
        if count == 0 { return found }
        found += batch.prefix(Int(count))
      }
    }
  }

  /// Returns the values of `types` on `object`. Attributes the object lacks, or keeps
  /// sensitive, are left out of the result. Calls `C_GetAttributeValue`.
  public func attributes(of object: UInt, _ types: [PKCS11Attribute]) throws(PKCS11Error)
    -> [PKCS11Attribute: [UInt8]]
  {
    let getAttributes = try module.entry(functions.C_GetAttributeValue, "C_GetAttributeValue")
    return try module.lock.run { () throws(PKCS11Error) -> [PKCS11Attribute: [UInt8]] in
      var template = types.map {
        CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE($0.rawValue), pValue: nil, ulValueLen: 0)
      }
      try checkAttributeStatus(getAttributes(handle, object, &template, CK_ULONG(types.count)))
      // Second round: only the attributes the first round gave a length for.
      let lengths = template.map { $0.ulValueLen }
      let present = types.indices.filter { lengths[$0] != unavailableInformation }
      let buffers = present.map {
        UnsafeMutableRawBufferPointer.allocate(byteCount: max(Int(lengths[$0]), 1), alignment: 8)
      }
      defer { for buffer in buffers { buffer.deallocate() } }
      var filled = zip(present, buffers).map { index, buffer in
        CK_ATTRIBUTE(
          type: CK_ATTRIBUTE_TYPE(types[index].rawValue), pValue: buffer.baseAddress,
          ulValueLen: lengths[index])
      }
      try checkAttributeStatus(getAttributes(handle, object, &filled, CK_ULONG(filled.count)))
      var result: [PKCS11Attribute: [UInt8]] = [:]
      for (offset, index) in present.enumerated() {
        let count = filled[offset].ulValueLen
        if count == unavailableInformation { continue }
        result[types[index]] = Array(buffers[offset].prefix(Int(count)))
      }
      return result
    }
  }

  /// Signs `data` with the private key `key` and returns the token's raw signature.
  ///
  /// The mechanism takes no parameters. `C_SignInit` and both `C_Sign` calls (the length
  /// query and the signature) run under the module's lock, so concurrent callers are
  /// serialized. Calls `C_SignInit` and `C_Sign`.
  public func sign(key: UInt, mechanism: PKCS11Mechanism, data: [UInt8]) throws(PKCS11Error)
    -> [UInt8]
  {
    let signInit = try module.entry(functions.C_SignInit, "C_SignInit")
    let sign = try module.entry(functions.C_Sign, "C_Sign")
    var input = data
    return try module.lock.run { () throws(PKCS11Error) -> [UInt8] in
      var mechanismValue = CK_MECHANISM(
        mechanism: CK_MECHANISM_TYPE(mechanism.rawValue), pParameter: nil, ulParameterLen: 0)
      try PKCS11Error.check(signInit(handle, &mechanismValue, key), "C_SignInit")
      let inputCount = CK_ULONG(input.count)
      var length: CK_ULONG = 0
      try PKCS11Error.check(sign(handle, &input, inputCount, nil, &length), "C_Sign")
      var signature = [UInt8](repeating: 0, count: Int(length))
      try PKCS11Error.check(sign(handle, &input, inputCount, &signature, &length), "C_Sign")
      return Array(signature.prefix(Int(length)))
    }
  }
}

/// `CK_UNAVAILABLE_INFORMATION`, `(unsigned long)-1`, which Swift does not import.
private let unavailableInformation = CK_ULONG.max

/// Accepts the codes `C_GetAttributeValue` returns while still filling in the other
/// attributes: a missing or sensitive attribute only marks its own length unavailable.
private func checkAttributeStatus(_ status: CK_RV) throws(PKCS11Error) {
  if status == CKR_ATTRIBUTE_SENSITIVE || status == CKR_ATTRIBUTE_TYPE_INVALID { return }
  try PKCS11Error.check(status, "C_GetAttributeValue")
}
