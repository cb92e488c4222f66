// See include/FwdKeystream.h for what this file does and why.

#define _GNU_SOURCE
#include "FwdKeystream.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

// Keystream computed per refill. 16 KiB is half an SSH packet of the usual 32 KiB, so a packet
// costs two OpenSSL calls instead of two thousand.
enum { KEYSTREAM_BYTES = 16384 };

struct keystream {
  unsigned char bytes[KEYSTREAM_BYTES];
  // Bytes of `bytes` already used; KEYSTREAM_BYTES when a refill is due.
  size_t used;
};

typedef int (*cipher_function)(EVP_CIPHER_CTX *, unsigned char *, const unsigned char *,
                               unsigned int);
typedef void (*free_function)(EVP_CIPHER_CTX *);

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
// Set once `setup` has run, so the calls per block skip pthread_once.
static atomic_int setup_done;
static cipher_function openssl_cipher;
static free_function openssl_free;
// The address range of libssh2's code: calls from there are the ones served from the cache.
static uintptr_t libssh2_start;
static uintptr_t libssh2_end;
static int active;
// Keystream computed so far. Added per refill: an atomic add per 16-byte call cost more than the
// XOR itself, with two hop threads sharing the counter's cache line.
static _Atomic uint64_t keystream_bytes;

static int find_libssh2(struct dl_phdr_info *info, size_t size, void *unused) {
  (void)size;
  (void)unused;
  if (info->dlpi_name == NULL || strstr(info->dlpi_name, "/libssh2.so") == NULL) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *header = &info->dlpi_phdr[i];
    if (header->p_type == PT_LOAD && (header->p_flags & PF_X)) {
      libssh2_start = info->dlpi_addr + header->p_vaddr;
      libssh2_end = libssh2_start + header->p_memsz;
      return 1;
    }
  }
  return 0;
}

static void setup(void) {
  openssl_cipher = (cipher_function)dlsym(RTLD_NEXT, "EVP_Cipher");
  openssl_free = (free_function)dlsym(RTLD_NEXT, "EVP_CIPHER_CTX_free");
  dl_iterate_phdr(find_libssh2, NULL);
  const char *setting = getenv("FWD_KEYSTREAM");
  int off = setting != NULL && strcmp(setting, "off") == 0;
  active = !off && libssh2_end > libssh2_start && openssl_cipher != NULL && openssl_free != NULL;
  atomic_store_explicit(&setup_done, 1, memory_order_release);
}

static void ensure_setup(void) {
  if (!atomic_load_explicit(&setup_done, memory_order_acquire)) pthread_once(&setup_once, setup);
}

static int called_from_libssh2(const void *return_address) {
  uintptr_t address = (uintptr_t)return_address;
  return active && address >= libssh2_start && address < libssh2_end;
}

// out = in XOR key, eight bytes at a time; memcpy keeps unaligned buffers legal.
static void xor_bytes(unsigned char *out, const unsigned char *in, const unsigned char *key,
                      size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    uint64_t data, mask;
    memcpy(&data, in + i, 8);
    memcpy(&mask, key + i, 8);
    data ^= mask;
    memcpy(out + i, &data, 8);
  }
  for (; i < count; i++) out[i] = in[i] ^ key[i];
}

int fwd_keystream_active(void) {
  ensure_setup();
  return active;
}

uint64_t fwd_keystream_bytes(void) { return atomic_load(&keystream_bytes); }

// The cached path; `setup` has run.
static int cipher_from_cache(EVP_CIPHER_CTX *context, unsigned char *out,
                             const unsigned char *in, unsigned int length) {
  // libssh2 never sets a context's application data, so on its contexts the slot is ours.
  struct keystream *stream = EVP_CIPHER_CTX_get_app_data(context);
  if (stream == NULL) {
    if (EVP_CIPHER_CTX_get_mode(context) != EVP_CIPH_CTR_MODE) {
      return openssl_cipher(context, out, in, length);
    }
    stream = malloc(sizeof *stream);
    if (stream == NULL) return openssl_cipher(context, out, in, length);
    stream->used = KEYSTREAM_BYTES;
    EVP_CIPHER_CTX_set_app_data(context, stream);
  }
  for (unsigned int done = 0; done < length;) {
    if (stream->used == KEYSTREAM_BYTES) {
      memset(stream->bytes, 0, KEYSTREAM_BYTES);
      // OpenSSL 3 returns the length written, older versions 1; both signal failure below 1.
      if (openssl_cipher(context, stream->bytes, stream->bytes, KEYSTREAM_BYTES) < 1) return -1;
      stream->used = 0;
      atomic_fetch_add_explicit(&keystream_bytes, KEYSTREAM_BYTES, memory_order_relaxed);
    }
    size_t available = KEYSTREAM_BYTES - stream->used;
    size_t count = length - done < available ? length - done : available;
    xor_bytes(out + done, in + done, stream->bytes + stream->used, count);
    stream->used += count;
    done += (unsigned int)count;
  }
  return (int)length;
}

int fwd_keystream_cipher(EVP_CIPHER_CTX *context, unsigned char *out, const unsigned char *in,
                         unsigned int length) {
  ensure_setup();
  if (openssl_cipher == NULL) return -1;
  return cipher_from_cache(context, out, in, length);
}

void fwd_keystream_release(EVP_CIPHER_CTX *context) {
  if (context == NULL) return;
  struct keystream *stream = EVP_CIPHER_CTX_get_app_data(context);
  if (stream == NULL) return;
  OPENSSL_cleanse(stream, sizeof *stream);
  free(stream);
  EVP_CIPHER_CTX_set_app_data(context, NULL);
}

// The two definitions the dynamic linker binds libssh2's references to (see the header).

int EVP_Cipher(EVP_CIPHER_CTX *context, unsigned char *out, const unsigned char *in,
               unsigned int length) {
  ensure_setup();
  if (called_from_libssh2(__builtin_return_address(0))) {
    return cipher_from_cache(context, out, in, length);
  }
  return openssl_cipher(context, out, in, length);
}

void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *context) {
  ensure_setup();
  if (called_from_libssh2(__builtin_return_address(0))) fwd_keystream_release(context);
  openssl_free(context);
}
