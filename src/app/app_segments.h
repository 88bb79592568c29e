// app_segments.h — customer segments: summaries of the book's segment column (app/segments.c).
#ifndef PX_APP_SEGMENTS_H
#define PX_APP_SEGMENTS_H

#include <stddef.h>
#include "app_book.h"
#include "buf.h"
#include "err.h"

// Segment summaries from the book's integer column (prospect segment): {"column", "customers",
// "unassigned", "segments": [{"segment", "size", "share", "traits": [{"column", "label", "text",
// "score"}]}]}; traits as prospect segment prints them (numbers: segment mean vs the book's in
// standard deviations; categories: the most common value's share vs the book's). PX_ENOENT when
// the book has no such column.
int app_segments_json(const struct app_book *b, const char *column, struct buf *out,
                      struct px_err *err);
// The same summary of segments given in memory (k-means' answer before or without storing it):
// customer ids[i] is in segment[i] (1..LIMIT_KMEANS_K; n_ids of each); book rows not listed are
// unassigned, ids not in the book are skipped. column names the summary and, when the book has
// it, is left out of the traits. PX_EINVAL for a segment out of range.
int app_segments_assign_json(const struct app_book *b, const char *column, const char *const *ids,
                             const int *segment, size_t n_ids, struct buf *out, struct px_err *err);

#endif
