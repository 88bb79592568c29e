// sha256.h — SHA-256 (FIPS 180-4), for content ids: a model is identified by its weights' hash,
// imports and bundles record their files' hashes.
#ifndef PX_SHA256_H
#define PX_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct sha256 {
    uint32_t h[8];
    uint64_t n_bytes;
    unsigned char block[64];
    size_t n_block;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
// Writes the 32-byte digest; s must be re-initialised before reuse.
void sha256_final(struct sha256 *s, unsigned char out[32]);
// Hex digest (64 chars + NUL) of len bytes.
void sha256_hex(const void *data, size_t len, char out[65]);
// True when s is exactly 64 lowercase hex digits (a digest as sha256_hex writes it).
bool sha256_hex_ok(const char *s);
// Hex digest of a file's contents (read in chunks, any size).
int sha256_file_hex(const char *path, char out[65], struct px_err *err);
// Hashes what remains to be read from fd (name is for messages); *size (may be NULL) gets the
// bytes read. The caller owns and closes fd.
int sha256_fd_hex(int fd, const char *name, char out[65], uint64_t *size, struct px_err *err);

#endif
