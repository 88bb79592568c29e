// probe_ok.c — compiled like a front-end file by tests/layers/check.cmake: the façade and the
// base are on a front end's include path, so this must build.
#include "app_book.h"
#include "app_prop.h"
#include "mem.h"

int px_layer_probe_ok(void);
int px_layer_probe_ok(void) { return 0; }
