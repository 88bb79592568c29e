// app_common.h — what every noun of the façade shares: the progress callback of long work.
#ifndef PX_APP_COMMON_H
#define PX_APP_COMMON_H

#include <stddef.h>

// Called as work advances: done of total units (rows, texts, steps), from the calling thread.
typedef void (*app_progress_fn)(size_t done, size_t total, void *user);

#endif
