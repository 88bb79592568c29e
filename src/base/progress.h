// progress.h — a one-line progress bar for long work, drawn on stderr only when stderr is a
// terminal (quiet when piped or in CI). Front ends own it; library code reports progress through
// callbacks and never draws.
#ifndef PX_PROGRESS_H
#define PX_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
    const char *label;  // borrowed; must outlive the bar
    uint64_t total;     // units of work
    uint64_t done;      // units finished
    double t_start;     // seconds (monotonic)
    double t_drawn;     // last redraw
    bool enabled;       // stderr is a tty (or forced)
};

// Starts a bar; enabled only when stderr is a terminal.
void progress_begin(struct progress *p, const char *label, uint64_t total);
// Records progress; redraws at most 10 times a second.
void progress_update(struct progress *p, uint64_t done);
// Draws the final state and ends the line.
void progress_end(struct progress *p);

#endif
