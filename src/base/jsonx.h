// jsonx.h — JSON in and out. In: cJSON parses (a bounded file or buffer) and typed getters
// range-check and fill a px_err naming the file and key. Out: every JSON document prospect writes
// (HTTP answers, CLI --format json, run records, manifests) is appended to a bounded struct buf
// with the jsonx_put_* writers below — one way to write JSON (ARCHITECTURE.md says why).
//
// Ownership: jsonx_parse_file returns an owned cJSON tree (cJSON_Delete). Getters borrow.
// Allocator: in any program that links this file, every cJSON allocation goes through px_malloc
// (hooks installed before main, see jsonx.c), so the fault hook reaches cJSON and text from
// cJSON_Print* is freed with cJSON_free (or px_free), never free().
#ifndef PX_JSONX_H
#define PX_JSONX_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "buf.h"
#include "err.h"

// Parses path (at most max bytes) into *out (owned; cJSON_Delete). Errors name the file and
// the byte offset where parsing stopped (PX_EFORMAT); PX_ENOMEM when an allocation failed.
int jsonx_parse_file(const char *path, size_t max, cJSON **out, struct px_err *err);
// Parses len bytes of text (need not be NUL-terminated); what names the source in errors.
int jsonx_parse(const char *text, size_t len, const char *what, cJSON **out, struct px_err *err);

// Reads obj[key] as an integer in [min, max]. When the key is absent: *out = dflt and PX_OK if
// !required, else PX_EFORMAT. A non-integer or out-of-range value is PX_EFORMAT. `what` names
// the file for the message.
int jsonx_get_int(const cJSON *obj, const char *key, bool required, int64_t dflt, int64_t min,
                  int64_t max, int64_t *out, const char *what, struct px_err *err);
// Reads obj[key] as a finite number in [min, max], same rules.
int jsonx_get_double(const cJSON *obj, const char *key, bool required, double dflt, double min,
                     double max, double *out, const char *what, struct px_err *err);
// Reads obj[key] as a boolean, same rules.
int jsonx_get_bool(const cJSON *obj, const char *key, bool required, bool dflt, bool *out,
                   const char *what, struct px_err *err);
// Reads obj[key] as a string. *out is borrowed from obj (valid while obj lives), or dflt.
int jsonx_get_string(const cJSON *obj, const char *key, bool required, const char *dflt,
                     const char **out, const char *what, struct px_err *err);

// Appends n bytes of s as a JSON string literal (quotes, backslash escapes for '"' and '\\',
// \u00XX for control bytes and DEL) to out. UTF-8 passes through unchanged.
int jsonx_put_string(struct buf *out, const char *s, size_t n, struct px_err *err);

// Appends v as a JSON number with up to `digits` significant digits (6 for scores shown to
// people, 17 to round-trip a double; JSONX_ROUND_TRIP: the fewest of 15 or 17 that read back
// as v, for records), or null when v is NaN or infinite (JSON has neither).
#define JSONX_ROUND_TRIP 0
int jsonx_put_number(struct buf *out, double v, int digits, struct px_err *err);
// Appends a parsed value back as compact JSON (numbers with 17 significant digits, so they
// round-trip). Depth is bounded by what jsonx_parse accepted.
int jsonx_put_value(struct buf *out, const cJSON *v, struct px_err *err);
// Appends the NUL-terminated s as a JSON string, or null when s is NULL.
int jsonx_put_cstr(struct buf *out, const char *s, struct px_err *err);
// Appends "key": "s" (or "key": null when s is NULL), with a leading ", " unless first.
int jsonx_put_member(struct buf *out, const char *key, const char *s, bool first,
                     struct px_err *err);
// Appends "key": (with a leading ", " unless first) — the key escaped as jsonx_put_string.
int jsonx_put_key(struct buf *out, const char *key, bool first, struct px_err *err);

#endif
