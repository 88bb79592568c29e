// csvread.h — a streaming CSV record reader: the CSV grammar of the import (csvimport.h) without
// the store, for readers that build something else from a file (the propensity trainer's data
// set, src/ml/dataset.h).
//
// Input rules are the import's: RFC 4180 CSV through libcsv (quotes, embedded newlines, ""
// escapes), LF / CRLF / lone-CR line ends, optional UTF-8 BOM, blank lines ignored, a field at
// most LIMIT_CSV_FIELD_BYTES, a record at most LIMIT_CSV_ROW_BYTES and LIMIT_CSV_COLUMNS fields,
// a quoted field left open at the end of the file is an error. Each record is handed to a
// callback with the line it starts on. Memory is bounded per record, never per file.
//
// Thread rules: none shared; one call reads one file.
#ifndef PX_CSVREAD_H
#define PX_CSVREAD_H

#include <stddef.h>

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

#endif
