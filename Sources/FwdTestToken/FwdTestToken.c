#include "FwdTestToken.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The wrapped module's function list, and the copy handed out with two entries replaced.
static CK_FUNCTION_LIST_PTR wrapped_module;
static CK_FUNCTION_LIST test_token;

static const char *state_path(void) { return getenv("FWD_TEST_TOKEN_STATE"); }

static long max_tries(void) {
  const char *text = getenv("FWD_TEST_TOKEN_MAX_TRIES");
  long value = text ? strtol(text, NULL, 10) : 0;
  return value > 0 ? value : 3;
}

// Returns the wrong PINs on record; a missing state file counts as none.
static long read_wrong_count(void) {
  const char *path = state_path();
  if (path == NULL) return 0;
  FILE *file = fopen(path, "r");
  if (file == NULL) return 0;
  long count = 0;
  if (fscanf(file, "%ld", &count) != 1) count = 0;
  fclose(file);
  return count;
}

static void write_wrong_count(long count) {
  const char *path = state_path();
  if (path == NULL) return;
  FILE *file = fopen(path, "w");
  if (file == NULL) return;
  fprintf(file, "%ld\n", count);
  fclose(file);
}

static CK_RV test_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  CK_RV rv = wrapped_module->C_GetTokenInfo(slot, info);
  if (rv != CKR_OK) return rv;
  if (getenv("FWD_TEST_TOKEN_PINPAD") != NULL) info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
  if (state_path() == NULL) return CKR_OK;
  long wrong = read_wrong_count();
  long limit = max_tries();
  info->flags &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
  if (wrong > 0) info->flags |= CKF_USER_PIN_COUNT_LOW;
  if (wrong == limit - 1) info->flags |= CKF_USER_PIN_FINAL_TRY;
  if (wrong >= limit) info->flags |= CKF_USER_PIN_LOCKED;
  return CKR_OK;
}

// Reads the PIN pad file's first line into buffer; returns its length, or -1.
static long read_pinpad(char *buffer, size_t size) {
  FILE *file = fopen(getenv("FWD_TEST_TOKEN_PINPAD"), "r");
  if (file == NULL) return -1;
  char *line = fgets(buffer, (int)size, file);
  fclose(file);
  if (line == NULL) return -1;
  buffer[strcspn(buffer, "\r\n")] = 0;
  return (long)strlen(buffer);
}

static CK_RV test_login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                        CK_ULONG pin_length) {
  if (user != CKU_USER) return wrapped_module->C_Login(session, user, pin, pin_length);
  if (state_path() != NULL && read_wrong_count() >= max_tries()) return CKR_PIN_LOCKED;
  char typed[256];
  if (pin == NULL && getenv("FWD_TEST_TOKEN_PINPAD") != NULL) {
    long length = read_pinpad(typed, sizeof typed);
    if (length < 0) return CKR_FUNCTION_CANCELED;
    pin = (CK_UTF8CHAR_PTR)typed;
    pin_length = (CK_ULONG)length;
  }
  CK_RV rv = wrapped_module->C_Login(session, user, pin, pin_length);
  memset(typed, 0, sizeof typed);
  if (rv == CKR_PIN_INCORRECT) write_wrong_count(read_wrong_count() + 1);
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) write_wrong_count(0);
  return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (list == NULL) return CKR_ARGUMENTS_BAD;
  if (wrapped_module == NULL) {
    const char *path = getenv("FWD_TEST_TOKEN_MODULE");
    void *library = dlopen(path ? path : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return CKR_GENERAL_ERROR;
    CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(library, "C_GetFunctionList");
    if (get_list == NULL || get_list(&wrapped_module) != CKR_OK) return CKR_GENERAL_ERROR;
    test_token = *wrapped_module;
    test_token.C_GetTokenInfo = test_get_token_info;
    test_token.C_Login = test_login;
  }
  *list = &test_token;
  return CKR_OK;
}
