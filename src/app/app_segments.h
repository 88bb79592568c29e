// app_segments.h — customer segments: fit them by k-means and store them in the database
// (app/segfit.c), and summarise the segments the customer book holds (app/segments.c). Plain C
// types only: the store, the features and k-means stay behind this header.
#ifndef PX_APP_SEGMENTS_H
#define PX_APP_SEGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "app_book.h"
#include "buf.h"
#include "err.h"

enum app_segments_on {
    APP_SEGMENTS_PROFILE = 0, // the imported columns: numbers standardised, categories one-hot
    APP_SEGMENTS_GAT = 1,     // the customer embeddings of a saved recommender
};

struct app_segments_params {
    const char *db;           // the customer database (default "prospect.db")
    const char *column;       // integer column the segment (1 = largest) is stored in (default
                              // "segment"; an existing column of another type is refused)
    enum app_segments_on on;  // default APP_SEGMENTS_PROFILE
    const char *registry;     // APP_SEGMENTS_GAT: registry (NULL: app_registry_dir(NULL)) ...
    const char *model;        // ... and recommender reference (default "recommender")
    int k;                    // segments, 1..LIMIT_KMEANS_K (default 4), unless k_lo is set
    int k_lo, k_hi;           // 2 <= k_lo <= k_hi <= LIMIT_KMEANS_K: k of highest silhouette
    uint64_t seed;            // k-means++ starts (default 42): the same seed, the same segments
    int restarts;             // starts, best inertia kept, 1..LIMIT_KMEANS_RESTARTS (default 5)
    bool dry_run;             // store nothing
};
struct app_segments_params app_segments_default_params(void);

// Reads every customer of p->db, builds the features, runs k-means, stores each customer's
// segment in p->column (one transaction; not with dry_run) and appends the answer: {"k", "on":
// "profile"|"gat", "features", "silhouette" (null for k = 1), "inertia", "silhouette_by_k":
// [{"k", "silhouette"}] (with a range; else []), "stored", then app_segments_json's members:
// "column", "customers", "unassigned", "segments": [{"segment", "size", "share", "traits"}]}.
// PX_EINVAL for k over the number of customers ("k 5 is more than the 3 rows"), an empty
// database, or (on GAT) a customer the recommender does not know.
int app_segments_fit(const struct app_segments_params *p, struct buf *out, struct px_err *err);

// Segment summaries from the book's integer column: {"column", "customers", "unassigned",
// "segments": [{"segment", "size", "share", "traits": [{"column", "label", "text", "score"}]}]};
// traits: numbers, the segment mean vs the book's in standard deviations; categories, the most
// common value's share vs the book's. PX_ENOENT when the book has no such integer column.
int app_segments_json(const struct app_book *b, const char *column, struct buf *out,
                      struct px_err *err);

#endif
