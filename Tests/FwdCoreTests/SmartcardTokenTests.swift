import FwdBindings
import Testing

@testable import FwdCore

/// The parts of logging in to a token again that need no token: which token counts as the
/// same one, which PKCS#11 failures end a login, and which errors end the run.
@Suite struct SmartcardTokenTests {
  private let original = PKCS11TokenInfo(
    slot: 0, label: "fwd", manufacturer: "SoftHSM project", model: "SoftHSM v2",
    serialNumber: "1f2e3d4c5b6a7988",
    flags: PKCS11TokenInfo.Flag.tokenInitialized | PKCS11TokenInfo.Flag.loginRequired)

  @Test func sameTokenInAnotherSlot() {
    var moved = original
    moved.slot = 7
    moved.flags |= PKCS11TokenInfo.Flag.userPINCountLow
    #expect(moved.isSameToken(as: original))
  }

  @Test func otherTokenIsNotSame() {
    var serial = original
    serial.serialNumber = "0000000000000001"
    #expect(!serial.isSameToken(as: original))
    var label = original
    label.label = "fwd2"
    #expect(!label.isSameToken(as: original))
    var manufacturer = original
    manufacturer.manufacturer = "OpenSC"
    #expect(!manufacturer.isSameToken(as: original))
    var model = original
    model.model = "PIV II"
    #expect(!model.isSameToken(as: original))
  }

  /// `CK_RV` values as p11-kit 0.24's pkcs11.h defines them.
  @Test(arguments: [
    (0x32, "CKR_DEVICE_REMOVED", true),
    (0xE0, "CKR_TOKEN_NOT_PRESENT", true),
    (0xB3, "CKR_SESSION_HANDLE_INVALID", true),
    (0xB0, "CKR_SESSION_CLOSED", true),
    (0x101, "CKR_USER_NOT_LOGGED_IN", true),
    (0xA0, "CKR_PIN_INCORRECT", false),
    (0xA4, "CKR_PIN_LOCKED", false),
    (0x60, "CKR_KEY_HANDLE_INVALID", false),
    (0x05, "CKR_GENERAL_ERROR", false),
  ])
  func loginEndingCodes(code: Int, name: String, endsLogin: Bool) {
    let error = PKCS11Error(function: "C_SignInit", code: UInt(code))
    #expect(error.name == name)
    #expect(error.endsLogin == endsLogin, "\(name)")
  }

  @Test func removedTokenErrorIsRetried() {
    let error = SmartcardToken.removedError(token: "fwd")
    #expect(
      error.message
        == "token 'fwd' was removed: insert it again so that the next rebuild attempt can log in")
    #expect(error.status == .authentication)
    #expect(!error.isPermanent)
  }

  @Test func spentPINDescriptorEndsRun() {
    let error = SmartcardToken.descriptorReadError(token: "fwd", descriptor: 3)
    #expect(
      error.message
        == "token 'fwd': PIN needed to log in again after the token was removed, but --pin-fd 3"
        + " can be read only once: start fwd again, with --pin-file or SSH_ASKPASS so that it"
        + " can log in again by itself")
    #expect(error.status == .authentication)
    #expect(error.isPermanent)
  }

  @Test func permanentKeepsStatusAndMessage() {
    let error = FwdError(.authentication, "token 'fwd': login failed: wrong PIN")
    #expect(!error.isPermanent)
    let permanent = error.permanent()
    #expect(permanent.isPermanent)
    #expect(permanent.status == .authentication)
    #expect(permanent.message == error.message)
  }
}
