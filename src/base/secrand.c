// secrand.c — getrandom(2) in a loop: it may return fewer bytes than asked (signals, requests
// over 256 bytes) and EINTR; it blocks only until the kernel's pool is first seeded at boot.
#include "secrand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int secrand_bytes(void *out, size_t n, struct px_err *err)
{
    unsigned char *p = out;
    size_t done = 0;
    while (done < n) {
        ssize_t k = getrandom(p + done, n - done, 0);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return px_fail(err, PX_EIO, "getrandom: %s", strerror(errno));
        }
        done += (size_t)k;
    }
    return PX_OK;
}
