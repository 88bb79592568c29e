// progress.c — see progress.h. The one base module that writes to stderr, because drawing is
// its whole job; it is called only from front ends.
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void draw(struct progress *p)
{
    const int width = 30;
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (frac > 1.0) {
        frac = 1.0;
    }
    int filled = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++) {
        bar[i] = i < filled ? '#' : '-';
    }
    bar[width] = '\0';
    double el = now_s() - p->t_start;
    double rate = el > 0 ? (double)p->done / el : 0.0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : 0.0;
    fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu  %.0f/s  eta %.0fs ", p->label, bar,
            (int)(frac * 100), (unsigned long long)p->done, (unsigned long long)p->total, rate,
            eta);
    fflush(stderr);
}

void progress_begin(struct progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->t_start = now_s();
    p->t_drawn = 0;
    p->enabled = isatty(STDERR_FILENO) == 1;
}

void progress_update(struct progress *p, uint64_t done)
{
    p->done = done;
    if (!p->enabled) {
        return;
    }
    double t = now_s();
    if (t - p->t_drawn >= 0.1) {
        p->t_drawn = t;
        draw(p);
    }
}

void progress_end(struct progress *p)
{
    if (!p->enabled) {
        return;
    }
    draw(p);
    fputc('\n', stderr);
}
