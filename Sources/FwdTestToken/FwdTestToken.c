#include "FwdTestToken.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The wrapped module's function list, and the copy handed out with some entries replaced.
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

// Removal and reinsertion (FWD_TEST_TOKEN_PRESENCE).

// Returns the insertion number the presence file names, or -1 while the token is removed.
static long current_insertion(void) {
  const char *path = getenv("FWD_TEST_TOKEN_PRESENCE");
  if (path == NULL) return 0;
  FILE *file = fopen(path, "r");
  if (file == NULL) return 0;
  char word[16] = "";
  long insertion = 0;
  int fields = fscanf(file, "%15s %ld", word, &insertion);
  fclose(file);
  if (fields >= 1 && strcmp(word, "removed") == 0) return -1;
  return fields == 2 ? insertion : 0;
}

// A session opened through this module, with the insertion it belongs to.
struct tracked_session {
  CK_SESSION_HANDLE handle;
  long insertion;
  // The wrapped session was closed because the token it was opened on went away.
  int closed;
  // CKR_DEVICE_REMOVED was returned once for it.
  int removal_reported;
};

// Each thread of a caller may open sessions, so the table is shared under a lock.
static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tracked_session *sessions;
static size_t session_count;
static size_t session_capacity;

// Returns the entry of `handle`, or NULL. Call it with sessions_lock held.
static struct tracked_session *find_session(CK_SESSION_HANDLE handle) {
  for (size_t index = 0; index < session_count; index++) {
    if (sessions[index].handle == handle) return &sessions[index];
  }
  return NULL;
}

static void track_session(CK_SESSION_HANDLE handle, long insertion) {
  pthread_mutex_lock(&sessions_lock);
  // SoftHSM may hand out a handle again after C_Finalize, whose sessions were never closed
  // through this module.
  struct tracked_session *reused = find_session(handle);
  if (reused != NULL) {
    *reused = (struct tracked_session){handle, insertion, 0, 0};
    pthread_mutex_unlock(&sessions_lock);
    return;
  }
  if (session_count == session_capacity) {
    size_t capacity = session_capacity ? 2 * session_capacity : 16;
    struct tracked_session *grown = realloc(sessions, capacity * sizeof *grown);
    if (grown == NULL) {
      pthread_mutex_unlock(&sessions_lock);
      return;
    }
    sessions = grown;
    session_capacity = capacity;
  }
  sessions[session_count++] = (struct tracked_session){handle, insertion, 0, 0};
  pthread_mutex_unlock(&sessions_lock);
}

static void forget_session(CK_SESSION_HANDLE handle) {
  pthread_mutex_lock(&sessions_lock);
  struct tracked_session *entry = find_session(handle);
  if (entry != NULL) *entry = sessions[--session_count];
  pthread_mutex_unlock(&sessions_lock);
}

// Closes the wrapped session of every entry from another insertion than `insertion`. SoftHSM
// logs the token out when its last session closes, so once the caller's sessions from before
// a removal are all closed, the next session starts logged out, as after a card reinsertion.
static void close_stale_sessions(long insertion) {
  pthread_mutex_lock(&sessions_lock);
  for (size_t index = 0; index < session_count; index++) {
    struct tracked_session *entry = &sessions[index];
    if (entry->insertion == insertion || entry->closed) continue;
    wrapped_module->C_CloseSession(entry->handle);
    entry->closed = 1;
  }
  pthread_mutex_unlock(&sessions_lock);
}

// Returns CKR_OK when `session` may reach the wrapped module, else the code a card reader's
// module returns for a session whose token went away.
static CK_RV check_session(CK_SESSION_HANDLE session) {
  long insertion = current_insertion();
  close_stale_sessions(insertion);
  CK_RV status = CKR_OK;
  pthread_mutex_lock(&sessions_lock);
  struct tracked_session *entry = find_session(session);
  if (entry != NULL && entry->insertion != insertion) {
    status = CKR_SESSION_HANDLE_INVALID;
    if (insertion < 0 && !entry->removal_reported) {
      entry->removal_reported = 1;
      status = CKR_DEVICE_REMOVED;
    }
  }
  pthread_mutex_unlock(&sessions_lock);
  return status;
}

static CK_RV test_get_slot_list(CK_BBOOL token_present, CK_SLOT_ID_PTR slots, CK_ULONG_PTR count) {
  long insertion = current_insertion();
  close_stale_sessions(insertion);
  if (insertion < 0 && token_present == CK_TRUE) {
    if (count == NULL) return CKR_ARGUMENTS_BAD;
    *count = 0;
    return CKR_OK;
  }
  return wrapped_module->C_GetSlotList(token_present, slots, count);
}

static CK_RV test_get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info) {
  CK_RV status = wrapped_module->C_GetSlotInfo(slot, info);
  if (status == CKR_OK && current_insertion() < 0) info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
  return status;
}

static CK_RV test_get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
                                     CK_ULONG_PTR count) {
  if (current_insertion() < 0) return CKR_TOKEN_NOT_PRESENT;
  return wrapped_module->C_GetMechanismList(slot, list, count);
}

static CK_RV test_open_session(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR application,
                               CK_NOTIFY notify, CK_SESSION_HANDLE_PTR session) {
  long insertion = current_insertion();
  close_stale_sessions(insertion);
  if (insertion < 0) return CKR_TOKEN_NOT_PRESENT;
  CK_RV status = wrapped_module->C_OpenSession(slot, flags, application, notify, session);
  if (status == CKR_OK) track_session(*session, insertion);
  return status;
}

static CK_RV test_close_session(CK_SESSION_HANDLE session) {
  CK_RV status = check_session(session);
  forget_session(session);
  if (status != CKR_OK) return status;
  return wrapped_module->C_CloseSession(session);
}

static CK_RV test_close_all_sessions(CK_SLOT_ID slot) {
  // Forgets every tracked session, also those on other slots, which then no longer see a
  // removal. Neither fwd nor the tests call it while another slot has sessions open.
  pthread_mutex_lock(&sessions_lock);
  session_count = 0;
  pthread_mutex_unlock(&sessions_lock);
  return wrapped_module->C_CloseAllSessions(slot);
}

static CK_RV test_finalize(CK_VOID_PTR reserved) {
  // C_Finalize ends every session. The table is freed too, because p11-kit may unload this
  // module next, and LeakSanitizer counts a block only a static of an unloaded module points
  // to as leaked.
  pthread_mutex_lock(&sessions_lock);
  free(sessions);
  sessions = NULL;
  session_count = 0;
  session_capacity = 0;
  pthread_mutex_unlock(&sessions_lock);
  return wrapped_module->C_Finalize(reserved);
}

static CK_RV test_get_session_info(CK_SESSION_HANDLE session, CK_SESSION_INFO_PTR info) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status : wrapped_module->C_GetSessionInfo(session, info);
}

static CK_RV test_logout(CK_SESSION_HANDLE session) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status : wrapped_module->C_Logout(session);
}

static CK_RV test_find_objects_init(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR template,
                                    CK_ULONG count) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status : wrapped_module->C_FindObjectsInit(session, template, count);
}

static CK_RV test_find_objects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects,
                               CK_ULONG max_count, CK_ULONG_PTR count) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status
                          : wrapped_module->C_FindObjects(session, objects, max_count, count);
}

static CK_RV test_find_objects_final(CK_SESSION_HANDLE session) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status : wrapped_module->C_FindObjectsFinal(session);
}

static CK_RV test_get_attribute_value(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                                      CK_ATTRIBUTE_PTR template, CK_ULONG count) {
  CK_RV status = check_session(session);
  return status != CKR_OK
             ? status
             : wrapped_module->C_GetAttributeValue(session, object, template, count);
}

static CK_RV test_sign_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism,
                            CK_OBJECT_HANDLE key) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status : wrapped_module->C_SignInit(session, mechanism, key);
}

static CK_RV test_sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_length,
                       CK_BYTE_PTR signature, CK_ULONG_PTR signature_length) {
  CK_RV status = check_session(session);
  return status != CKR_OK ? status
                          : wrapped_module->C_Sign(session, data, data_length, signature,
                                                   signature_length);
}

static void install_presence_entries(CK_FUNCTION_LIST_PTR list) {
  list->C_Finalize = test_finalize;
  list->C_GetSlotList = test_get_slot_list;
  list->C_GetSlotInfo = test_get_slot_info;
  list->C_GetMechanismList = test_get_mechanism_list;
  list->C_OpenSession = test_open_session;
  list->C_CloseSession = test_close_session;
  list->C_CloseAllSessions = test_close_all_sessions;
  list->C_GetSessionInfo = test_get_session_info;
  list->C_Logout = test_logout;
  list->C_FindObjectsInit = test_find_objects_init;
  list->C_FindObjects = test_find_objects;
  list->C_FindObjectsFinal = test_find_objects_final;
  list->C_GetAttributeValue = test_get_attribute_value;
  list->C_SignInit = test_sign_init;
  list->C_Sign = test_sign;
}

static CK_RV test_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  long insertion = current_insertion();
  close_stale_sessions(insertion);
  if (insertion < 0) return CKR_TOKEN_NOT_PRESENT;
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
  CK_RV status = check_session(session);
  if (status != CKR_OK) return status;
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
    install_presence_entries(&test_token);
  }
  *list = &test_token;
  return CKR_OK;
}
