// p11-kit's headers use size_t without including the header that defines it.
#include <stddef.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
