// cli_ml.c — output helpers shared by the propensity subcommands (see cli_ml.h).
#include "cli_ml.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool cli_parse_format(const char *s, enum cli_format *out)
{
    static const char *const names[] = {"table", "json", "csv"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum cli_format)i;
            return true;
        }
    }
    return false;
}

void cli_csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

void cli_json_number(FILE *f, double v)
{
    if (isfinite(v)) {
        fprintf(f, "%.6g", v);
    } else {
        fputs("null", f);
    }
}

size_t cli_split_list(char *s, char **items, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t != NULL && n < max; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') {
            t++;
        }
        size_t len = strlen(t);
        while (len > 0 && t[len - 1] == ' ') {
            t[--len] = '\0';
        }
        if (len > 0) {
            items[n++] = t;
        }
    }
    return n;
}

bool cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0') {
        return false;
    }
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v) || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}
