// bm25.h — a small BM25 lexical index over customer-profile texts (Okapi BM25, as in Lucene).
//
// Documents are ASCII-lowercased words (runs of [A-Za-z0-9] and bytes >= 0x80, so UTF-8 words
// stay whole; other bytes separate words) or term lists the caller already split. The module is
// independent of the WordPiece tokenizer on purpose: BM25 wants whole words, not sub-words.
//
//   score(D, Q) = sum over distinct query terms t of
//                 idf(t) * tf(t,D) * (k1 + 1) / (tf(t,D) + k1 * (1 - b + b * |D| / avgdl))
//   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))     (Lucene's, never negative)
//
// with k1 = 1.2 and b = 0.75 by default (Robertson & Zaragoza, "The Probabilistic Relevance
// Framework: BM25 and Beyond", 2009). |D| counts the document's terms after stop-word removal.
//
// Lifecycle: bm25_new, bm25_add_doc / bm25_add_terms for every document, bm25_finalize, then any
// number of threads may score at once (the index is immutable after finalize).
#ifndef PX_BM25_H
#define PX_BM25_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitmap.h"
#include "err.h"
#include "mapfile.h"

struct bm25;

struct bm25_params {
    float k1;        // term-frequency saturation; default 1.2
    float b;         // length normalisation, 0..1; default 0.75
    bool stop_words; // drop a short English stop-word list from documents and queries; default true
};

struct bm25_params bm25_default_params(void);

struct bm25_hit {
    uint32_t doc_id;
    float score;
};

// An empty index. Returns owned via *out (bm25_free). params NULL = defaults.
int bm25_new(const struct bm25_params *params, struct bm25 **out, struct px_err *err);
// NULL is a no-op.
void bm25_free(struct bm25 *ix);

// Adds document doc_id (< LIMIT_BM25_DOCS, not yet present) from text (len bytes, borrowed;
// need not be NUL-terminated). Words longer than LIMIT_BM25_TERM_BYTES are cut to it. PX_EINVAL
// after bm25_finalize or for a duplicate id; PX_ELIMIT past a limit.
int bm25_add_doc(struct bm25 *ix, uint32_t doc_id, const char *text, size_t len,
                 struct px_err *err);
// The same from n_terms already-split terms (NUL-terminated, borrowed, used verbatim apart from
// the length cut and stop-word removal).
int bm25_add_terms(struct bm25 *ix, uint32_t doc_id, const char *const *terms, size_t n_terms,
                   struct px_err *err);
// Builds the postings; the index is immutable afterwards.
int bm25_finalize(struct bm25 *ix, struct px_err *err);

// Writes a finalized index as sections BM** of w (see bm25.c).
int bm25_save(const struct bm25 *ix, struct mapfile_writer *w, struct px_err *err);
// A finalized, read-only index over m's BM25 sections (m borrowed: it must outlive the index;
// the postings are read from the map). It scores exactly as the index that was saved.
// PX_EFORMAT naming the file when a section is damaged. Returns owned *out (bm25_free).
int bm25_open(const struct mapfile *m, struct bm25 **out, struct px_err *err);

size_t bm25_doc_count(const struct bm25 *ix);
// 1 + the largest doc id added: the length of a score array and of a candidate bitmap.
size_t bm25_id_bound(const struct bm25 *ix);

// Scores the query text (len bytes, split like a document) against every document whose bit is
// set in candidates (NULL = all): scores[d] for d < n_scores (n_scores >= bm25_id_bound);
// other documents get 0. Repeated query terms count once.
int bm25_score(const struct bm25 *ix, const char *query, size_t len,
               const struct bitmap *candidates, float *scores, size_t n_scores,
               struct px_err *err);
// Calls fn(user, word, len) for each word of text (len bytes) as the index splits documents and
// queries (lowercased, its stop words left out), in text order, repeats included; the word is
// borrowed for the call. Returns the first non-zero status fn returns. For saying which query
// words hit which part of a document.
int bm25_each_word(const struct bm25 *ix, const char *text, size_t len,
                   int (*fn)(void *user, const char *w, size_t n), void *user);
// The k best candidates with a score > 0, best first, ties by lower doc id, into out (k entries);
// their count into *n_out. Allocates one score array per call.
int bm25_search(const struct bm25 *ix, const char *query, size_t len,
                const struct bitmap *candidates, size_t k, struct bm25_hit *out, size_t *n_out,
                struct px_err *err);

#endif
