// testutil.h — small helpers shared by the cmocka suites.
#ifndef PX_TESTUTIL_H
#define PX_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

// Path of ../shared (PROSPECT_SHARED, set by ctest) joined with rel into out; returns 1 when the
// path exists, 0 otherwise (the caller then skips with a message).
int tu_shared_path(char *out, size_t n, const char *rel);
// tests/data/<rel>.
void tu_data_path(char *out, size_t n, const char *rel);
// Creates a fresh temporary directory (mkdtemp) into out; fails the test on error.
void tu_mkdtemp(char *out, size_t n);
// Removes a directory tree made by tu_mkdtemp.
void tu_rmtree(const char *dir);
// Writes len bytes to dir/name; fails the test on error.
void tu_write_file(const char *dir, const char *name, const void *data, size_t len);
void tu_write_text(const char *dir, const char *name, const char *text);
// Runs the prospect binary (PROSPECT_BIN) through /bin/sh with args; stdin from in_path (NULL:
// /dev/null); stdout and stderr captured into owned strings (free()). Returns the exit status.
int tu_run_prospect(const char *args, const char *in_path, char **out, char **errout);


// Fault injection (STYLE C14): calls open(user, &err) with the n-th allocation failing, for
// n = 1, 2, ... until a call sees no injected failure; after each call release(user) frees
// whatever open made. Fails the test unless every failed call returned PX_ENOMEM and, after
// release, live bytes are back where they started (a failure in a benign section, which the
// callee absorbs by design, may also return PX_OK). Returns how many allocation points it hit.
struct px_err;
long tu_check_alloc_failures(int (*open)(void *user, struct px_err *err),
                             void (*release)(void *user), void *user);

#endif
