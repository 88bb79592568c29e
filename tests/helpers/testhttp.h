// testhttp.h — HTTP tests' shared pieces: a `prospect serve` child on a free port, and one
// libcurl request at a time against it.
#ifndef PX_TESTHTTP_H
#define PX_TESTHTTP_H

#include <stddef.h>
#include <sys/types.h>

// Starts PROSPECT_BIN with args (NULL-terminated, after the program name; include "--port",
// "0"), stderr to log_path, and waits up to 60 s for its "listening on http://HOST:PORT" line.
// Returns the child's pid and fills *port; fails the test if it never listens.
pid_t th_serve(const char *const *args, const char *log_path, int *port);
// Sends SIGTERM and waits; returns the exit status (or -1 when it did not exit normally).
int th_stop(pid_t pid);

// One request to 127.0.0.1:port. ctype: Content-Type of body (POST), or NULL; bearer: a token
// sent as "Authorization: Bearer <bearer>", or NULL. Returns the HTTP status (-1 on a transport
// error); *out (free(), may be NULL) receives the body.
long th_request(int port, const char *method, const char *path, const char *ctype,
                const char *bearer, const char *body, size_t body_len, char **out);

#endif
