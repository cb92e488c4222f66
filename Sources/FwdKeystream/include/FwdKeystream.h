#ifndef FWD_KEYSTREAM_H
#define FWD_KEYSTREAM_H

// A keystream cache under libssh2's AES-CTR calls.
//
// libssh2 1.10 calls OpenSSL's EVP_Cipher once per 16-byte block, and each call costs about
// ten times the AES work it does (876 MB/s against 9.1 GB/s for one call per 32 KiB on this
// project's 2 vCPU machine). fwd defines EVP_Cipher and EVP_CIPHER_CTX_free itself; the
// dynamic linker binds libssh2's references to these definitions. For a counter-mode context
// used by libssh2, EVP_Cipher XORs the data with keystream that one real EVP_Cipher call
// computes 16 KiB at a time from zeros. The output is the same, because counter mode encrypts
// by XOR with the cipher of successive counter blocks. Other callers and other modes go
// straight to OpenSSL.

#include <openssl/types.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Whether libssh2's counter-mode contexts are served from the cache: 1 once libssh2's code
// was found in this process and FWD_KEYSTREAM is not "off", 0 otherwise.
int fwd_keystream_active(void);

// Bytes of keystream the cache computed so far, across all contexts and threads: at most 16 KiB
// per context more than the bytes it ciphered.
uint64_t fwd_keystream_bytes(void);

// Ciphers through the cache for any caller, so tests (which are not libssh2) can reach it.
// Returns the length on success and -1 on failure, as EVP_Cipher does in OpenSSL 3.
int fwd_keystream_cipher(EVP_CIPHER_CTX *context, unsigned char *out, const unsigned char *in,
                         unsigned int length);

// Wipes and frees the cache of a context, if it has one. EVP_CIPHER_CTX_free does this for
// libssh2's contexts; tests call it before freeing their own.
void fwd_keystream_release(EVP_CIPHER_CTX *context);

#ifdef __cplusplus
}
#endif

#endif
