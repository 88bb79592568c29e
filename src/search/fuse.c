// fuse.c — see fuse.h. All entries (id, list, rank) are sorted by (id, list, rank), so each id's
// contributions are summed in list order whatever order the input came in; the fused ids are
// then sorted by (score desc, id asc), or with boosts_first by (boost desc, RRF desc, id asc). O(n log n) in the total entries, one allocation.
#include "fuse.h"

#include <math.h>
#include <stdlib.h>

#include "limits.h"
#include "mem.h"

struct entry {
    uint32_t id;
    uint32_t list; // index into lists, or n_lists for a boost
    uint32_t rank; // 1-based rank, or the boost's index
};

static int cmp_entry(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    }
    if (a->list != b->list) {
        return a->list < b->list ? -1 : 1;
    }
    return a->rank < b->rank ? -1 : a->rank > b->rank ? 1 : 0;
}

// A fused id: its RRF sum and boost sum kept apart, so boosts_first compares them exactly.
struct fused {
    uint32_t id;
    double rrf, boost;
};

// Added: (rrf + boost as the float score) desc, id asc. The float sum is what callers see, so
// ordering by it keeps the output's scores non-increasing.
static int cmp_added(const void *pa, const void *pb)
{
    const struct fused *a = pa, *b = pb;
    float sa = (float)(a->rrf + a->boost), sb = (float)(b->rrf + b->boost);
    if (sa != sb) {
        return sa > sb ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

// boosts_first: boost desc, rrf desc, id asc.
static int cmp_boosts_first(const void *pa, const void *pb)
{
    const struct fused *a = pa, *b = pb;
    if (a->boost != b->boost) {
        return a->boost > b->boost ? -1 : 1;
    }
    if (a->rrf != b->rrf) {
        return a->rrf > b->rrf ? -1 : 1;
    }
    return a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
}

struct fuse_params fuse_default_params(void)
{
    struct fuse_params p = {.k_rrf = 60.0f, .boosts_first = 0};
    return p;
}

int fuse_rrf(const struct fuse_list *lists, size_t n_lists, const struct fuse_boost *boosts,
             size_t n_boosts, const struct fuse_params *params, size_t k, struct fuse_hit *out,
             size_t *n_out, struct px_err *err)
{
    struct entry *e = NULL;
    struct fused *hits = NULL;
    struct fuse_params p = params != NULL ? *params : fuse_default_params();
    int rc = PX_EINVAL;
    *n_out = 0;
    if (!(p.k_rrf > 0.0f) || !isfinite(p.k_rrf)) {
        return px_fail(err, PX_EINVAL, "fuse: k_rrf %g is not a positive number", (double)p.k_rrf);
    }
    if (n_lists > LIMIT_FUSE_LISTS) {
        return px_fail(err, PX_ELIMIT, "fuse: %zu lists, more than LIMIT_FUSE_LISTS (%d)", n_lists,
                       LIMIT_FUSE_LISTS);
    }
    if (n_boosts > LIMIT_FUSE_ITEMS) {
        return px_fail(err, PX_ELIMIT, "fuse: %zu boosts, more than LIMIT_FUSE_ITEMS (%d)",
                       n_boosts, LIMIT_FUSE_ITEMS);
    }
    size_t total = n_boosts;
    for (size_t l = 0; l < n_lists; l++) {
        if (!(lists[l].weight >= 0.0f) || !isfinite(lists[l].weight)) {
            return px_fail(err, PX_EINVAL, "fuse: list %zu: weight %g is not a number >= 0", l,
                           (double)lists[l].weight);
        }
        if (lists[l].n > LIMIT_FUSE_ITEMS) {
            return px_fail(err, PX_ELIMIT, "fuse: list %zu: %zu ids, more than LIMIT_FUSE_ITEMS (%d)",
                           l, lists[l].n, LIMIT_FUSE_ITEMS);
        }
        total += lists[l].n;
    }
    for (size_t i = 0; i < n_boosts; i++) {
        if (!isfinite(boosts[i].boost)) {
            return px_fail(err, PX_EINVAL, "fuse: boost %zu (id %u) is not finite", i,
                           boosts[i].id);
        }
    }
    if (total == 0 || k == 0) {
        return PX_OK;
    }
    e = px_malloc(total * sizeof *e);
    hits = px_malloc(total * sizeof *hits);
    if (e == NULL || hits == NULL) {
        rc = px_fail(err, PX_ENOMEM, "fuse: out of memory for %zu entries", total);
        goto done;
    }
    size_t n = 0;
    for (size_t l = 0; l < n_lists; l++) {
        for (size_t r = 0; r < lists[l].n; r++) {
            e[n++] = (struct entry){lists[l].ids[r], (uint32_t)l, (uint32_t)(r + 1)};
        }
    }
    for (size_t i = 0; i < n_boosts; i++) {
        e[n++] = (struct entry){boosts[i].id, (uint32_t)n_lists, (uint32_t)i};
    }
    qsort(e, n, sizeof *e, cmp_entry);
    size_t n_hits = 0;
    for (size_t i = 0; i < n;) {
        uint32_t id = e[i].id;
        double s = 0.0, bs = 0.0;
        int ranked = 0;
        for (size_t prev_list = SIZE_MAX; i < n && e[i].id == id; i++) {
            if (e[i].list == n_lists) {
                bs += boosts[e[i].rank].boost;
            } else if (e[i].list != prev_list) { // first = best rank of this id in this list
                s += lists[e[i].list].weight / (p.k_rrf + (double)e[i].rank);
                ranked = 1;
            }
            prev_list = e[i].list;
        }
        if (ranked) {
            hits[n_hits++] = (struct fused){id, s, bs};
        }
    }
    qsort(hits, n_hits, sizeof *hits, p.boosts_first ? cmp_boosts_first : cmp_added);
    size_t n_res = n_hits < k ? n_hits : k;
    for (size_t i = 0; i < n_res; i++) {
        out[i] = (struct fuse_hit){hits[i].id, (float)(hits[i].rrf + hits[i].boost),
                                   (float)hits[i].boost};
    }
    *n_out = n_res;
    rc = PX_OK;
done:
    px_free(e);
    px_free(hits);
    return rc;
}
