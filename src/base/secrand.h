// secrand.h — bytes from the kernel's CSPRNG (getrandom), for API key secrets and salts.
//
// Thread-safe. Never falls back to a weaker source: when the kernel cannot give random bytes
// the call fails, and no key is made.
#ifndef PX_SECRAND_H
#define PX_SECRAND_H

#include <stddef.h>

#include "err.h"

// Fills out with n random bytes; PX_EIO when the kernel refuses.
int secrand_bytes(void *out, size_t n, struct px_err *err);

#endif
