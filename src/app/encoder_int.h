// encoder_int.h — what the app files share about the sentence-transformer beyond app_encoder.h:
// opening the embed/ and text/ objects themselves. Front ends never include it (they get
// app_encoder / app_tokenizer handles); scripts/check-layers.sh refuses it there.
#ifndef PX_APP_ENCODER_INT_H
#define PX_APP_ENCODER_INT_H

#include <stddef.h>

#include "app_encoder.h"
#include "embedder.h"
#include "err.h"
#include "tokenizer.h"

// Resolves and opens the embedder. On missing weights the message ends with how to get them.
// dir_out (n bytes, may be NULL) receives the directory used. Returns owned *out.
int app_open_embedder(const char *flag, struct embedder **out, char *dir_out, size_t n,
                      struct px_err *err);
// Resolves and opens only the tokenizer (works without weights). Returns owned *out.
int app_open_tokenizer(const char *flag, struct tokenizer **out, char *dir_out, size_t n,
                       struct px_err *err);

#endif
