// probe_bad.c — compiled like a front-end file by tests/layers/check.cmake: a lower layer's
// header (store/) is not on a front end's include path, so this must fail to build.
#include "app_book.h"
#include "store.h"

int px_layer_probe_bad(void);
int px_layer_probe_bad(void) { return 0; }
