// csvread.h — a streaming CSV record reader: the project's one CSV grammar. The import
// (csvimport.h) reads its two passes through it, and so do the readers that build something else
// from a file (the propensity trainer's data set, src/ml/dataset.h; the recommender's tables).
//
// Input rules: RFC 4180 CSV through libcsv (quotes, embedded newlines, "" escapes), the field
// separator ',' — or ';' or tab, detected from the header line (the most frequent of the three
// outside quotes; ',' on a tie), or given by the caller (csvread_source.delimiter) —, LF / CRLF /
// lone-CR line ends, optional UTF-8 BOM, blank (or spaces-only) lines ignored, a record at most
// LIMIT_CSV_ROW_BYTES and LIMIT_CSV_COLUMNS fields, a quoted field left open at the end of the
// file is an error. LIMIT_CSV_FIELD_BYTES is checked on libcsv's field buffer at every line end
// and 64 KiB block, so it bounds memory (an unclosed quote is caught), but a field that ends
// within the block that crosses it passes (fields up to twice the limit). A stray quote inside an
// unquoted field is data (non-strict libcsv: 5'10" in real exports). Each record is handed to a
// callback with the line it starts on (embedded newlines do not shift later line numbers).
// Memory is bounded per record, never per file.
//
// A record over LIMIT_CSV_ROW_BYTES or LIMIT_CSV_COLUMNS is an error (PX_ELIMIT naming its line)
// unless CSVREAD_KEEP_BAD is given: then it is handed to the callback flagged, with the fields
// that fit, so the caller can report it as one bad row and go on (the import does).
// File-level errors — unreadable input, a field over LIMIT_CSV_FIELD_BYTES (usually a quote left
// open), an unclosed quote at the end — always stop the read.
//
// Thread rules: none shared; one call reads one source.
#ifndef PX_CSVREAD_H
#define PX_CSVREAD_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

// One record: n fields, field j is f[j][0..len[j]) and NUL-terminated (borrowed: valid during
// the callback only). line: 1-based line the record starts on. index: 0 for the first record
// (the header), 1 for the first data record, ... A callback returns PX_OK to go on, or a status
// (with err filled) to stop the read, which then returns that status.
typedef int (*csvread_record_fn)(void *user, size_t index, size_t line, const char *const *f,
                                 const size_t *len, size_t n, struct px_err *err);

// Reads the file at path and calls fn for every record. Errors name the file and line. A record
// with more than LIMIT_CSV_COLUMNS fields or over LIMIT_CSV_ROW_BYTES is PX_ELIMIT.
int csvread_file(const char *path, csvread_record_fn fn, void *user, struct px_err *err);
// Same over memory (borrowed for the call); name is used in messages.
int csvread_memory(const void *data, size_t size, const char *name, csvread_record_fn fn,
                   void *user, struct px_err *err);

// ---- the general form ----

enum {
    CSVREAD_KEEP_BAD = 1u << 0, // hand over-limit records to the callback, flagged
};

enum {
    CSVREAD_TOO_LONG = 1u << 0, // the record is over LIMIT_CSV_ROW_BYTES: the fields from the
                                // first that did not fit on are not kept
    CSVREAD_TOO_MANY = 1u << 1, // more than LIMIT_CSV_COLUMNS fields: the first
                                // LIMIT_CSV_COLUMNS are kept
};

struct csvread_record {
    size_t index;         // 0 for the header, 1 for the first data record, ...
    size_t line;          // 1-based line the record starts on
    const char *const *f; // (n_kept) NUL-terminated fields, borrowed for the callback
    const size_t *len;    // (n_kept) their lengths
    size_t n;             // fields in the record (counted also when not kept)
    size_t n_kept;        // fields in f / len: n unless flags are set
    unsigned flags;       // CSVREAD_TOO_LONG | CSVREAD_TOO_MANY; 0 without CSVREAD_KEEP_BAD
    char delimiter;       // the field separator of the source: ',', ';' or '\t' (or as given)
};

// Returns PX_OK to go on, or a status (err filled) that stops the read.
typedef int (*csvread_fn)(void *user, const struct csvread_record *rec, struct px_err *err);

// Where the bytes come from: f (borrowed, read from its current position to its end, not
// closed), or size bytes at data (borrowed for the call). name is used in messages.
struct csvread_source {
    const char *name;
    FILE *f;
    const void *data;
    size_t size;
    char delimiter; // the field separator; 0 (default): detected from the header line
    char *found;    // NULL, or receives the separator used
};

// Reads src and calls fn for every record. opts: 0 or CSVREAD_KEEP_BAD. Returns PX_OK, the
// status a callback stopped with, or a read error (PX_EIO, PX_ENOMEM, PX_EFORMAT, PX_ELIMIT)
// naming the source and line.
int csvread_source(const struct csvread_source *src, unsigned opts, csvread_fn fn, void *user,
                   struct px_err *err);

#endif
