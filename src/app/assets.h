// assets.h — data files compiled into the binary (generated C arrays, see px_embed_file in
// CMakeLists.txt), so the binary needs nothing beside it at run time.
#ifndef PX_ASSETS_H
#define PX_ASSETS_H

#include <stddef.h>

// data/lexicon.json: the built-in query lexicon (aliases, soft words, grammar words).
// NUL-terminated; px_asset_lexicon_len excludes the NUL.
extern const unsigned char px_asset_lexicon[];
extern const size_t px_asset_lexicon_len;

#endif
