// A PKCS#11 module for tests: SoftHSM behind a simulated card retry counter.
//
// Environment, read on every call so a test can change it between calls:
//   FWD_TEST_TOKEN_MODULE     the module to wrap (default /usr/lib/softhsm/libsofthsm2.so)
//   FWD_TEST_TOKEN_STATE      file holding the count of wrong user PINs since the last good one;
//                             unset means no counter (the wrapped module's behaviour)
//   FWD_TEST_TOKEN_MAX_TRIES  wrong PINs that lock the PIN (default 3)
//   FWD_TEST_TOKEN_PINPAD     a file holding the PIN: the token then reports a PIN pad
//                             (CKF_PROTECTED_AUTHENTICATION_PATH) and C_Login with no PIN
//                             reads the PIN from that file, as if typed on the reader
#ifndef FWD_TEST_TOKEN_H
#define FWD_TEST_TOKEN_H

#include <stddef.h>
#include <p11-kit/pkcs11.h>

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

#endif
