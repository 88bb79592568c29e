// segments_int.h — between the two segment files: app/segfit.c (k-means and the store write)
// appends the summary app/segments.c computes to its own answer.
#ifndef PX_APP_SEGMENTS_INT_H
#define PX_APP_SEGMENTS_INT_H

#include <stddef.h>

#include "app_book.h"
#include "buf.h"
#include "err.h"

// The summary of segments given in memory (k-means' answer, stored or not): customer ids[i] is
// in segment[i] (1..LIMIT_KMEANS_K; n_ids of each); book rows not listed are unassigned, ids not
// in the book are skipped. column names the summary and, when the book has it, is left out of
// the traits. Appends the members of app_segments_json's object — "column", "customers",
// "unassigned", "segments" — without its braces, so the caller's object holds them. PX_EINVAL
// for a segment out of range.
int app_segments_assign_members(const struct app_book *b, const char *column,
                                const char *const *ids, const int *segment, size_t n_ids,
                                struct buf *out, struct px_err *err);

#endif
