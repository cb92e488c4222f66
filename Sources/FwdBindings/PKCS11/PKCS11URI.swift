import CP11Kit

/// A `pkcs11:` URI (RFC 7512) parsed and matched by p11-kit.
///
/// Token attributes (`token`, `manufacturer`, `serial`, `model`) match a token's description;
/// object attributes (`object`, `id`, `type`) match a key's objects. A URI with an attribute
/// p11-kit does not know matches nothing.
public final class PKCS11URI: @unchecked Sendable {
  /// The URI as given.
  public let text: String
  private let raw: OpaquePointer

  /// Parses `text`. Calls `p11_kit_uri_parse`.
  public init(_ text: String) throws(PKCS11Error) {
    guard let raw = p11_kit_uri_new() else {
      throw PKCS11Error(function: "p11_kit_uri_new", code: UInt(CKR_HOST_MEMORY))
    }
    let status = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, raw)
    if status != P11_KIT_URI_OK.rawValue {
      p11_kit_uri_free(raw)
      let detail = p11_kit_uri_message(status).map { String(cString: $0) } ?? "code \(status)"
      throw PKCS11Error(
        function: "p11_kit_uri_parse", code: UInt(CKR_ARGUMENTS_BAD), detail: detail)
    }
    self.text = text
    self.raw = raw
  }

  deinit { p11_kit_uri_free(raw) }

  /// Returns true when `text` starts with the `pkcs11:` scheme.
  public static func isURI(_ text: String) -> Bool {
    text.lowercased().hasPrefix("pkcs11:")
  }

  /// The `module-path` attribute, when the URI names the module to load.
  public var modulePath: String? {
    p11_kit_uri_get_module_path(raw).map { String(cString: $0) }
  }

  /// True when the URI carries a PIN (`pin-value`) or names a PIN file (`pin-source`).
  public var carriesPIN: Bool {
    p11_kit_uri_get_pin_value(raw) != nil || p11_kit_uri_get_pin_source(raw) != nil
  }

  /// Returns whether the URI's token attributes match `token`; a URI without token
  /// attributes matches every token. Calls `p11_kit_uri_match_token_info`.
  public func matches(token: PKCS11TokenInfo) -> Bool {
    var info = CK_TOKEN_INFO()
    fillPadded(&info.label, token.label)
    fillPadded(&info.manufacturerID, token.manufacturer)
    fillPadded(&info.model, token.model)
    fillPadded(&info.serialNumber, token.serialNumber)
    info.flags = token.flags
    return p11_kit_uri_match_token_info(raw, &info) == 1
  }

  /// Returns whether the URI's object attributes match an object of `objectClass` with
  /// `id` and `label`. Calls `p11_kit_uri_match_attributes`.
  public func matches(objectClass: PKCS11ObjectClass, id: [UInt8], label: String) -> Bool {
    var classValue = CK_OBJECT_CLASS(objectClass.rawValue)
    var idValue = id
    var labelValue = Array(label.utf8)
    return withUnsafeMutableBytes(of: &classValue) { classBytes in
      idValue.withUnsafeMutableBytes { idBytes in
        labelValue.withUnsafeMutableBytes { labelBytes in
          var attributes = [
            attribute(CKA_CLASS, classBytes),
            attribute(CKA_ID, idBytes),
            attribute(CKA_LABEL, labelBytes),
          ]
          return p11_kit_uri_match_attributes(raw, &attributes, CK_ULONG(attributes.count)) == 1
        }
      }
    }
  }
}

private func attribute(_ type: UInt, _ bytes: UnsafeMutableRawBufferPointer) -> CK_ATTRIBUTE {
  CK_ATTRIBUTE(
    type: CK_ATTRIBUTE_TYPE(type), pValue: bytes.baseAddress, ulValueLen: CK_ULONG(bytes.count))
}

/// Writes `text` into a fixed-size `CK_TOKEN_INFO` field, padded with spaces as PKCS#11 does.
private func fillPadded<Field>(_ field: inout Field, _ text: String) {
  withUnsafeMutableBytes(of: &field) { bytes in
    bytes.initializeMemory(as: UInt8.self, repeating: 0x20)
    for (index, byte) in text.utf8.prefix(bytes.count).enumerated() { bytes[index] = byte }
  }
}
