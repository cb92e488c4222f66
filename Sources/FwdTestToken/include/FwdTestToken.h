// A PKCS#11 module for tests: SoftHSM behind a simulated card retry counter, PIN pad and
// card reader.
//
// Environment, read on every call so a test can change it between calls:
//   FWD_TEST_TOKEN_MODULE     the module to wrap (default /usr/lib/softhsm/libsofthsm2.so)
//   FWD_TEST_TOKEN_STATE      file holding the count of wrong user PINs since the last good one;
//                             unset means no counter (the wrapped module's behaviour)
//   FWD_TEST_TOKEN_MAX_TRIES  wrong PINs that lock the PIN (default 3)
//   FWD_TEST_TOKEN_PINPAD     a file holding the PIN: the token then reports a PIN pad
//                             (CKF_PROTECTED_AUTHENTICATION_PATH) and C_Login with no PIN
//                             reads the PIN from that file, as if typed on the reader
//   FWD_TEST_TOKEN_PRESENCE   a file whose first line is "removed" or "inserted N", where N
//                             counts the insertions. A missing file or an unset variable is
//                             insertion 0.
//                             While removed, every slot looks empty: C_GetSlotList with
//                             tokenPresent omits it, and C_GetTokenInfo, C_GetMechanismList and
//                             C_OpenSession return CKR_TOKEN_NOT_PRESENT. A session opened
//                             before a removal returns CKR_DEVICE_REMOVED once while the token
//                             is out, then CKR_SESSION_HANDLE_INVALID, also after the token is
//                             back. Its SoftHSM session is closed, so the login ends with the
//                             last such session, as a real card's does.
#ifndef FWD_TEST_TOKEN_H
#define FWD_TEST_TOKEN_H

#include <stddef.h>
#include <p11-kit/pkcs11.h>

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

#endif
