// bm25.c — see bm25.h for the formula.
//
// Building: a term dictionary (open addressing, FNV-1a, load <= 1/2; term bytes in one growing
// string arena) maps each word to a term id; every document appends its (term, doc, tf) triples
// to one growing array and records its length. bm25_finalize counting-sorts the triples by term
// into CSR postings:
//
//   post_start (n_terms + 1,)   postings of term t are [post_start[t], post_start[t + 1])
//   post_doc   (n_postings,)    doc id
//   post_tf    (n_postings,)    term frequency in that doc
//   doc_len    (id_bound,)      terms in the doc; DOC_ABSENT where no doc has that id
//
// Scoring walks the postings of each distinct query term, skipping non-candidates with one bit
// test, and adds into the caller's score array; terms are visited in query order, so the float
// sums are reproducible.
#include "bm25.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "mem.h"

#define DOC_ABSENT UINT32_MAX

struct term {
    uint32_t off; // into strs
    uint32_t len;
    uint32_t df;  // documents containing the term
};

struct triple {
    uint32_t term;
    uint32_t doc;
    uint32_t tf;
};

struct bm25 {
    struct bm25_params params;
    int finalized;
    // dictionary
    char *strs;           // (strs_len,) term bytes, not NUL-separated
    size_t strs_len, strs_cap;
    struct term *terms;   // (n_terms,)
    size_t n_terms, cap_terms;
    uint32_t *slots;      // (n_slots,) term id + 1, 0 = empty
    size_t n_slots;
    // documents
    uint32_t *doc_len;    // (cap_docs,) DOC_ABSENT where no document
    size_t cap_docs, id_bound, n_docs;
    uint64_t total_len;
    // while building
    struct triple *trip;  // (n_trip,)
    size_t n_trip, cap_trip;
    uint32_t *doc_terms;  // (cap_doc_terms,) term ids of the document being added
    size_t cap_doc_terms;
    // after finalize
    uint32_t *post_start; // (n_terms + 1,)
    uint32_t *post_doc;   // (n_trip,)
    uint32_t *post_tf;    // (n_trip,)
    size_t n_post;        // postings (n_trip at finalize)
    double avgdl;
    bool mapped;          // the arrays point into a mapfile (bm25_open): never freed
};

// A short English list: function words that carry no customer meaning in profile texts.
static const char *const STOP_WORDS[] = {
    "a",    "an",   "and",  "are",  "as",   "at",    "be",   "by",   "for",  "from",
    "has",  "have", "in",   "is",   "it",   "its",   "of",   "on",   "or",   "that",
    "the",  "their", "to",  "was",  "were", "will",  "with", "who",  "whose",
};

static int is_stop(const char *w, size_t len)
{
    for (size_t i = 0; i < sizeof STOP_WORDS / sizeof STOP_WORDS[0]; i++) {
        if (strlen(STOP_WORDS[i]) == len && memcmp(STOP_WORDS[i], w, len) == 0) {
            return 1;
        }
    }
    return 0;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; // FNV-1a 64
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

struct bm25_params bm25_default_params(void)
{
    struct bm25_params p = {.k1 = 1.2f, .b = 0.75f, .stop_words = true};
    return p;
}

int bm25_new(const struct bm25_params *params, struct bm25 **out, struct px_err *err)
{
    *out = NULL;
    struct bm25_params p = params != NULL ? *params : bm25_default_params();
    if (!(p.k1 >= 0.0f) || !isfinite(p.k1) || !(p.b >= 0.0f && p.b <= 1.0f)) {
        return px_fail(err, PX_EINVAL, "bm25: k1 %g must be >= 0 and b %g in 0..1", (double)p.k1,
                       (double)p.b);
    }
    struct bm25 *ix = px_calloc(1, sizeof *ix);
    if (ix == NULL) {
        return px_fail(err, PX_ENOMEM, "bm25: out of memory");
    }
    ix->params = p;
    *out = ix;
    return PX_OK;
}

void bm25_free(struct bm25 *ix)
{
    if (ix == NULL) {
        return;
    }
    if (ix->mapped) {
        px_free(ix);
        return;
    }
    px_free(ix->strs);
    px_free(ix->terms);
    px_free(ix->slots);
    px_free(ix->doc_len);
    px_free(ix->trip);
    px_free(ix->doc_terms);
    px_free(ix->post_start);
    px_free(ix->post_doc);
    px_free(ix->post_tf);
    px_free(ix);
}

// Grows *p (elements of size sz, capacity *cap) to hold at least need; 0 or PX_ENOMEM.
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) {
        return PX_OK;
    }
    size_t c = *cap < 16 ? 16 : *cap * 2;
    while (c < need) {
        c *= 2;
    }
    void *q = px_realloc(*p, c * sz);
    if (q == NULL) {
        return PX_ENOMEM;
    }
    *p = q;
    *cap = c;
    return PX_OK;
}

// Slot of term (s, len): its slot index, pointing at the term or at the empty slot for it.
static size_t find_slot(const struct bm25 *ix, const char *s, size_t len)
{
    size_t mask = ix->n_slots - 1, i = (size_t)hash_bytes(s, len) & mask;
    for (size_t probes = 0; ix->slots[i] != 0 && probes < ix->n_slots; probes++) {
        if (ix->slots[i] > ix->n_terms) { // only a damaged index file holds such a slot
            return SIZE_MAX;
        }
        const struct term *t = &ix->terms[ix->slots[i] - 1];
        if (t->len == len && (uint64_t)t->off + t->len <= ix->strs_len &&
            memcmp(ix->strs + t->off, s, len) == 0) {
            break;
        }
        i = (i + 1) & mask;
    }
    return i;
}

static int rehash(struct bm25 *ix)
{
    size_t n = ix->n_slots == 0 ? 1024 : ix->n_slots * 2;
    uint32_t *slots = px_calloc(n, sizeof *slots);
    if (slots == NULL) {
        return PX_ENOMEM;
    }
    px_free(ix->slots);
    ix->slots = slots;
    ix->n_slots = n;
    for (size_t t = 0; t < ix->n_terms; t++) {
        size_t i = find_slot(ix, ix->strs + ix->terms[t].off, ix->terms[t].len);
        ix->slots[i] = (uint32_t)t + 1;
    }
    return PX_OK;
}

// Term id of (s, len), inserting it; 0 or PX_ENOMEM / PX_ELIMIT with *id unset.
static int intern(struct bm25 *ix, const char *s, size_t len, uint32_t *id)
{
    if (ix->n_slots == 0 || (ix->n_terms + 1) * 2 > ix->n_slots) {
        if (rehash(ix) != PX_OK) {
            return PX_ENOMEM;
        }
    }
    size_t i = find_slot(ix, s, len);
    if (ix->slots[i] != 0) {
        *id = ix->slots[i] - 1;
        return PX_OK;
    }
    if (ix->n_terms >= LIMIT_BM25_TERMS || ix->strs_len + len > UINT32_MAX) {
        return PX_ELIMIT;
    }
    if (grow((void **)&ix->strs, &ix->strs_cap, ix->strs_len + len, 1) != PX_OK ||
        grow((void **)&ix->terms, &ix->cap_terms, ix->n_terms + 1, sizeof *ix->terms) != PX_OK) {
        return PX_ENOMEM;
    }
    memcpy(ix->strs + ix->strs_len, s, len);
    ix->terms[ix->n_terms] = (struct term){(uint32_t)ix->strs_len, (uint32_t)len, 0};
    ix->strs_len += len;
    ix->slots[i] = (uint32_t)ix->n_terms + 1;
    *id = (uint32_t)ix->n_terms++;
    return PX_OK;
}

// Splits text into lowercase words (see bm25.h); calls fn(user, word, len) for each word that is
// not a stop word. Returns the first non-zero status fn returns.
static int split_words(const char *text, size_t len, int stop_words,
                       int (*fn)(void *user, const char *w, size_t n), void *user)
{
    char word[LIMIT_BM25_TERM_BYTES];
    size_t i = 0;
    while (i < len) {
        size_t n = 0;
        for (; i < len; i++) {
            unsigned char c = (unsigned char)text[i];
            int in_word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
                          (c >= 'A' && c <= 'Z');
            if (!in_word) {
                break;
            }
            if (n < sizeof word) {
                word[n++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            }
        }
        if (n > 0 && !(stop_words && is_stop(word, n))) {
            int rc = fn(user, word, n);
            if (rc != PX_OK) {
                return rc;
            }
        }
        for (; i < len; i++) { // skip separators
            unsigned char c = (unsigned char)text[i];
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80 ||
                (c >= 'A' && c <= 'Z')) {
                break;
            }
        }
    }
    return PX_OK;
}

struct doc_build {
    struct bm25 *ix;
    size_t n; // terms collected
};

static int collect_term(void *user, const char *w, size_t len)
{
    struct doc_build *d = user;
    struct bm25 *ix = d->ix;
    if (d->n >= LIMIT_BM25_DOC_TERMS) {
        return PX_ELIMIT;
    }
    if (grow((void **)&ix->doc_terms, &ix->cap_doc_terms, d->n + 1, sizeof(uint32_t)) != PX_OK) {
        return PX_ENOMEM;
    }
    uint32_t id = 0;
    int rc = intern(ix, w, len, &id);
    if (rc == PX_OK) {
        ix->doc_terms[d->n++] = id;
    }
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int check_doc(struct bm25 *ix, uint32_t doc_id, struct px_err *err)
{
    if (ix->finalized) {
        return px_fail(err, PX_EINVAL, "doc %u: the BM25 index is already finalized", doc_id);
    }
    if (doc_id >= LIMIT_BM25_DOCS) {
        return px_fail(err, PX_ELIMIT, "doc %u: id past LIMIT_BM25_DOCS (%u)", doc_id,
                       (unsigned)LIMIT_BM25_DOCS);
    }
    if (doc_id < ix->cap_docs && ix->doc_len[doc_id] != DOC_ABSENT) {
        return px_fail(err, PX_EINVAL, "doc %u: already in the index", doc_id);
    }
    return PX_OK;
}

// Turns the collected term ids of doc_id into triples and records the document.
static int commit_doc(struct bm25 *ix, uint32_t doc_id, size_t n, struct px_err *err)
{
    if (doc_id >= ix->cap_docs) {
        size_t old = ix->cap_docs;
        if (grow((void **)&ix->doc_len, &ix->cap_docs, (size_t)doc_id + 1, sizeof(uint32_t)) !=
            PX_OK) {
            return px_fail(err, PX_ENOMEM, "doc %u: out of memory", doc_id);
        }
        memset(ix->doc_len + old, 0xff, (ix->cap_docs - old) * sizeof(uint32_t)); // DOC_ABSENT
    }
    qsort(ix->doc_terms, n, sizeof(uint32_t), cmp_u32);
    size_t n_unique = 0;
    for (size_t i = 0; i < n; i++) {
        n_unique += i == 0 || ix->doc_terms[i] != ix->doc_terms[i - 1];
    }
    if (grow((void **)&ix->trip, &ix->cap_trip, ix->n_trip + n_unique, sizeof *ix->trip) !=
        PX_OK) {
        return px_fail(err, PX_ENOMEM, "doc %u: out of memory for postings", doc_id);
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ix->doc_terms[j] == ix->doc_terms[i]) {
            j++;
        }
        ix->trip[ix->n_trip++] = (struct triple){ix->doc_terms[i], doc_id, (uint32_t)(j - i)};
        ix->terms[ix->doc_terms[i]].df++;
        i = j;
    }
    ix->doc_len[doc_id] = (uint32_t)n;
    ix->total_len += n;
    ix->n_docs++;
    if ((size_t)doc_id + 1 > ix->id_bound) {
        ix->id_bound = (size_t)doc_id + 1;
    }
    return PX_OK;
}

static int doc_status(int rc, uint32_t doc_id, struct px_err *err)
{
    if (rc == PX_ELIMIT) {
        return px_fail(err, rc, "doc %u: over LIMIT_BM25_DOC_TERMS (%d) or LIMIT_BM25_TERMS (%u)",
                       doc_id, LIMIT_BM25_DOC_TERMS, (unsigned)LIMIT_BM25_TERMS);
    }
    return px_fail(err, rc, "doc %u: out of memory", doc_id);
}

int bm25_add_doc(struct bm25 *ix, uint32_t doc_id, const char *text, size_t len,
                 struct px_err *err)
{
    int rc = check_doc(ix, doc_id, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct doc_build d = {ix, 0};
    rc = split_words(text, len, ix->params.stop_words, collect_term, &d);
    if (rc != PX_OK) {
        return doc_status(rc, doc_id, err);
    }
    return commit_doc(ix, doc_id, d.n, err);
}

int bm25_add_terms(struct bm25 *ix, uint32_t doc_id, const char *const *terms, size_t n_terms,
                   struct px_err *err)
{
    int rc = check_doc(ix, doc_id, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct doc_build d = {ix, 0};
    for (size_t i = 0; i < n_terms; i++) {
        size_t len = strlen(terms[i]);
        len = len < LIMIT_BM25_TERM_BYTES ? len : LIMIT_BM25_TERM_BYTES;
        if (len == 0 || (ix->params.stop_words && is_stop(terms[i], len))) {
            continue;
        }
        rc = collect_term(&d, terms[i], len);
        if (rc != PX_OK) {
            return doc_status(rc, doc_id, err);
        }
    }
    return commit_doc(ix, doc_id, d.n, err);
}

int bm25_finalize(struct bm25 *ix, struct px_err *err)
{
    if (ix->finalized) {
        return PX_OK;
    }
    uint32_t *start = px_calloc(ix->n_terms + 1, sizeof *start);
    uint32_t *doc = px_malloc((ix->n_trip + 1) * sizeof *doc);
    uint32_t *tf = px_malloc((ix->n_trip + 1) * sizeof *tf);
    if (start == NULL || doc == NULL || tf == NULL) {
        px_free(start);
        px_free(doc);
        px_free(tf);
        return px_fail(err, PX_ENOMEM, "bm25: out of memory for %zu postings", ix->n_trip);
    }
    for (size_t i = 0; i < ix->n_trip; i++) {
        start[ix->trip[i].term + 1]++;
    }
    for (size_t t = 0; t < ix->n_terms; t++) {
        start[t + 1] += start[t];
    }
    for (size_t i = 0; i < ix->n_trip; i++) { // stable: postings stay in insertion order
        uint32_t p = start[ix->trip[i].term]++;
        doc[p] = ix->trip[i].doc;
        tf[p] = ix->trip[i].tf;
    }
    for (size_t t = ix->n_terms; t > 0; t--) { // undo the shift the fill made
        start[t] = start[t - 1];
    }
    start[0] = 0;
    ix->post_start = start;
    ix->post_doc = doc;
    ix->post_tf = tf;
    ix->n_post = ix->n_trip;
    ix->avgdl = ix->n_docs > 0 ? (double)ix->total_len / (double)ix->n_docs : 0.0;
    px_free(ix->trip);
    ix->trip = NULL;
    ix->cap_trip = 0;
    px_free(ix->doc_terms);
    ix->doc_terms = NULL;
    ix->cap_doc_terms = 0;
    ix->finalized = 1;
    return PX_OK;
}

size_t bm25_doc_count(const struct bm25 *ix)
{
    return ix->n_docs;
}

size_t bm25_id_bound(const struct bm25 *ix)
{
    return ix->id_bound;
}

int bm25_each_word(const struct bm25 *ix, const char *text, size_t len,
                   int (*fn)(void *user, const char *w, size_t n), void *user)
{
    return split_words(text, len, ix->params.stop_words, fn, user);
}

struct query_build {
    uint32_t ids[LIMIT_BM25_QUERY_TERMS]; // distinct known terms, query order
    size_t n;
    const struct bm25 *ix;
};

static int collect_query(void *user, const char *w, size_t len)
{
    struct query_build *q = user;
    const struct bm25 *ix = q->ix;
    if (ix->n_slots == 0) {
        return PX_OK;
    }
    size_t i = find_slot(ix, w, len);
    if (i == SIZE_MAX || ix->slots[i] == 0) {
        return PX_OK; // unknown word: contributes nothing
    }
    uint32_t id = ix->slots[i] - 1;
    for (size_t j = 0; j < q->n; j++) {
        if (q->ids[j] == id) {
            return PX_OK;
        }
    }
    if (q->n >= LIMIT_BM25_QUERY_TERMS) {
        return PX_ELIMIT;
    }
    q->ids[q->n++] = id;
    return PX_OK;
}

int bm25_score(const struct bm25 *ix, const char *query, size_t len,
               const struct bitmap *candidates, float *scores, size_t n_scores,
               struct px_err *err)
{
    if (!ix->finalized) {
        return px_fail(err, PX_EINVAL, "bm25: score before bm25_finalize");
    }
    if (n_scores < ix->id_bound) {
        return px_fail(err, PX_EINVAL, "bm25: score array of %zu entries, %zu documents ids",
                       n_scores, ix->id_bound);
    }
    struct query_build q = {.ix = ix};
    if (split_words(query, len, ix->params.stop_words, collect_query, &q) != PX_OK) {
        return px_fail(err, PX_ELIMIT, "bm25: query has more than LIMIT_BM25_QUERY_TERMS (%d) "
                       "distinct terms", LIMIT_BM25_QUERY_TERMS);
    }
    memset(scores, 0, n_scores * sizeof *scores);
    double k1 = ix->params.k1, b = ix->params.b, n_docs = (double)ix->n_docs;
    for (size_t qi = 0; qi < q.n; qi++) {
        uint32_t t = q.ids[qi];
        double df = ix->terms[t].df;
        double idf = log(1.0 + (n_docs - df + 0.5) / (df + 0.5));
        uint32_t p_end = ix->post_start[t + 1];
        p_end = p_end < ix->n_post ? p_end : (uint32_t)ix->n_post; // a damaged file's
        for (uint32_t p = ix->post_start[t]; p < p_end; p++) {
            uint32_t d = ix->post_doc[p];
            if (d >= ix->id_bound || (candidates != NULL && !bitmap_test(candidates, d))) {
                continue;
            }
            double tf = ix->post_tf[p];
            double norm = k1 * (1.0 - b + b * ix->doc_len[d] / ix->avgdl);
            scores[d] += (float)(idf * tf * (k1 + 1.0) / (tf + norm));
        }
    }
    return PX_OK;
}

static int cmp_bm25_hit(const void *pa, const void *pb)
{
    const struct bm25_hit *a = pa, *b = pb;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return a->doc_id < b->doc_id ? -1 : a->doc_id > b->doc_id;
}

// Does a rank before b? Higher score first, then the lower doc id (cmp_bm25_hit's order).
static bool ranks_before(const struct bm25_hit *a, const struct bm25_hit *b)
{
    return a->score > b->score || (a->score == b->score && a->doc_id < b->doc_id);
}

// Restores the heap below i: heap[0] is the worst kept hit (the first to be pushed out).
static void sift_down(struct bm25_hit *heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && ranks_before(&heap[w], &heap[l])) w = l;
        if (r < n && ranks_before(&heap[w], &heap[r])) w = r;
        if (w == i) return;
        struct bm25_hit t = heap[i];
        heap[i] = heap[w];
        heap[w] = t;
        i = w;
    }
}

// Top k by a bounded heap, O(n log k): a common word scores every document, and sorting all of
// them (what this did first) cost more than the scoring.
int bm25_search(const struct bm25 *ix, const char *query, size_t len,
                const struct bitmap *candidates, size_t k, struct bm25_hit *out, size_t *n_out,
                struct px_err *err)
{
    float *scores = NULL;
    int rc = PX_EINVAL;
    *n_out = 0;
    size_t n = ix->id_bound;
    scores = px_malloc((n + 1) * sizeof *scores);
    if (scores == NULL) {
        rc = px_fail(err, PX_ENOMEM, "bm25: out of memory for %zu scores", n);
        goto done;
    }
    rc = bm25_score(ix, query, len, candidates, scores, n, err);
    if (rc != PX_OK || k == 0) {
        goto done;
    }
    // out is the heap while the scores are scanned, then sorted best first
    size_t m = 0;
    for (size_t d = 0; d < n; d++) {
        if (!(scores[d] > 0.0f)) {
            continue;
        }
        struct bm25_hit h = {(uint32_t)d, scores[d]};
        if (m < k) {
            out[m++] = h;
            for (size_t i = m - 1; i > 0 && ranks_before(&out[(i - 1) / 2], &out[i]);
                 i = (i - 1) / 2) {
                struct bm25_hit t = out[i];
                out[i] = out[(i - 1) / 2];
                out[(i - 1) / 2] = t;
            }
        } else if (ranks_before(&h, &out[0])) {
            out[0] = h;
            sift_down(out, m, 0);
        }
    }
    qsort(out, m, sizeof *out, cmp_bm25_hit);
    *n_out = m;
    rc = PX_OK;
done:
    px_free(scores);
    return rc;
}

// ---- the index file (bm25_save / bm25_open) ----
//
// Sections: BMHD (struct bm25_file_head), BMST term bytes, BMTM terms, BMSL hash slots, BMDL
// document lengths (id_bound), BMPS post_start (n_terms + 1), BMPD post_doc, BMPT post_tf. The
// arrays are the finalized index's own, so a mapped index scores exactly as the built one. Ids
// read from the map are checked where they are used (find_slot, bm25_score).

struct bm25_file_head {
    float k1, b;
    uint32_t stop_words, reserved;
    uint64_t n_terms, n_slots, n_docs, id_bound, total_len, strs_len, n_post;
    double avgdl;
};

int bm25_save(const struct bm25 *ix, struct mapfile_writer *w, struct px_err *err)
{
    if (!ix->finalized) {
        return px_fail(err, PX_EINVAL, "bm25: save before bm25_finalize");
    }
    struct bm25_file_head h = {ix->params.k1, ix->params.b, ix->params.stop_words, 0,
                               ix->n_terms,   ix->n_slots,  ix->n_docs, ix->id_bound,
                               ix->total_len, ix->strs_len, ix->n_post, ix->avgdl};
    int rc = mapfile_put(w, MAPFILE_ID("BMHD"), &h, sizeof h, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMST"), ix->strs, ix->strs_len, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMTM"), ix->terms, ix->n_terms * sizeof *ix->terms, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMSL"), ix->slots, ix->n_slots * sizeof *ix->slots, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMDL"), ix->doc_len, ix->id_bound * sizeof *ix->doc_len, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMPS"), ix->post_start, (ix->n_terms + 1) * sizeof *ix->post_start, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMPD"), ix->post_doc, ix->n_post * sizeof *ix->post_doc, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("BMPT"), ix->post_tf, ix->n_post * sizeof *ix->post_tf, err);
    return rc;
}

// Section id of m as an array of want elements of elem bytes into *p.
static int get_array(const struct mapfile *m, const char *id, size_t elem, uint64_t want,
                     const void **p, struct px_err *err)
{
    size_t len = 0;
    int rc = mapfile_get(m, MAPFILE_ID(id), elem, p, &len, err);
    if (rc == PX_OK && len / elem != want) {
        rc = px_fail(err, PX_EFORMAT, "'%s': BM25 section %s has %zu entries, the index %llu",
                     mapfile_path(m), id, len / elem, (unsigned long long)want);
    }
    return rc;
}

int bm25_open(const struct mapfile *m, struct bm25 **out, struct px_err *err)
{
    const void *p = NULL;
    size_t len = 0;
    struct bm25_file_head h;
    *out = NULL;
    int rc = mapfile_get(m, MAPFILE_ID("BMHD"), 1, &p, &len, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (len != sizeof h) {
        return px_fail(err, PX_EFORMAT, "'%s': BM25 head of %zu bytes", mapfile_path(m), len);
    }
    memcpy(&h, p, sizeof h);
    bool pow2 = h.n_slots != 0 && (h.n_slots & (h.n_slots - 1)) == 0;
    if (h.n_terms > LIMIT_BM25_TERMS || h.id_bound > LIMIT_BM25_DOCS || h.n_docs > h.id_bound ||
        h.n_post > UINT32_MAX || h.strs_len > UINT32_MAX || (h.n_terms > 0 && !pow2) ||
        h.n_slots > 4 * (uint64_t)LIMIT_BM25_TERMS || !(h.avgdl >= 0.0) ||
        !(h.k1 >= 0.0f) || !(h.b >= 0.0f && h.b <= 1.0f)) {
        return px_fail(err, PX_EFORMAT, "'%s': BM25 head is damaged", mapfile_path(m));
    }
    struct bm25 *ix = px_calloc(1, sizeof *ix);
    if (ix == NULL) {
        return px_fail(err, PX_ENOMEM, "bm25: out of memory");
    }
    ix->mapped = true;
    ix->finalized = 1;
    ix->params = (struct bm25_params){h.k1, h.b, h.stop_words != 0};
    ix->n_terms = ix->cap_terms = (size_t)h.n_terms;
    ix->n_slots = (size_t)h.n_slots;
    ix->n_docs = (size_t)h.n_docs;
    ix->id_bound = ix->cap_docs = (size_t)h.id_bound;
    ix->total_len = h.total_len;
    ix->strs_len = ix->strs_cap = (size_t)h.strs_len;
    ix->n_post = (size_t)h.n_post;
    ix->avgdl = h.avgdl;
    rc = get_array(m, "BMST", 1, h.strs_len, &p, err);
    ix->strs = (char *)p;
    if (rc == PX_OK) rc = get_array(m, "BMTM", sizeof *ix->terms, h.n_terms, &p, err);
    ix->terms = (struct term *)p;
    if (rc == PX_OK) rc = get_array(m, "BMSL", sizeof *ix->slots, h.n_slots, &p, err);
    ix->slots = (uint32_t *)p;
    if (rc == PX_OK) rc = get_array(m, "BMDL", sizeof *ix->doc_len, h.id_bound, &p, err);
    ix->doc_len = (uint32_t *)p;
    if (rc == PX_OK) rc = get_array(m, "BMPS", sizeof *ix->post_start, h.n_terms + 1, &p, err);
    ix->post_start = (uint32_t *)p;
    if (rc == PX_OK) rc = get_array(m, "BMPD", sizeof *ix->post_doc, h.n_post, &p, err);
    ix->post_doc = (uint32_t *)p;
    if (rc == PX_OK) rc = get_array(m, "BMPT", sizeof *ix->post_tf, h.n_post, &p, err);
    ix->post_tf = (uint32_t *)p;
    if (rc != PX_OK) {
        bm25_free(ix);
        return rc;
    }
    *out = ix;
    return PX_OK;
}
