// cli_util.c — helpers shared by the subcommands (see cli.h).
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"

int g_cli_verbose;

int cli_fail(const char *cmd, const struct px_err *err)
{
    fflush(stdout); // keep what was already printed ahead of the error
    fprintf(stderr, "prospect %s: error: %s\n", cmd, err->msg[0] ? err->msg : px_status_str(err->code));
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "prospect %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'prospect %s --help'.\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

bool cli_parse_int(const char *s, int lo, int hi, int *out)
{
    if (s == NULL || *s == '\0') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = (int)v;
    return true;
}

// Decimal unsigned 64-bit value in [0, max]; false on a sign, spaces, junk or overflow.
bool cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || !isdigit((unsigned char)s[0])) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static int read_fd(int fd, const char *name, struct buf *b, struct px_err *err)
{
    char chunk[1 << 16];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return px_fail(err, PX_EIO, "cannot read %s: %s", name, strerror(errno));
        }
        if (r == 0) {
            return PX_OK;
        }
        int rc = buf_append(b, chunk, (size_t)r, err);
        if (rc == PX_ELIMIT) {
            return px_fail(err, PX_ELIMIT, "%s is larger than the input limit of %llu bytes", name,
                           (unsigned long long)LIMIT_EMBED_INPUT_BYTES);
        }
        if (rc != PX_OK) {
            return rc;
        }
    }
}

int cli_read_lines(const char *path, struct cli_lines *lines, struct px_err *err)
{
    int rc = PX_OK;
    struct buf b;
    int fd = -1;
    const char *name = path && strcmp(path, "-") != 0 ? path : "standard input";
    memset(lines, 0, sizeof *lines);
    buf_init(&b, (size_t)LIMIT_EMBED_INPUT_BYTES);
    if (path != NULL && strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return px_fail(err, errno == ENOENT ? PX_ENOENT : PX_EIO, "cannot open '%s': %s", path,
                           strerror(errno));
        }
    }
    rc = read_fd(fd >= 0 ? fd : STDIN_FILENO, name, &b, err);
    if (fd >= 0) {
        close(fd);
    }
    if (rc != PX_OK) {
        goto done;
    }
    lines->size = b.len;
    lines->data = buf_take(&b);
    size_t n = 0;
    for (size_t i = 0; i < lines->size; i++) {
        n += lines->data[i] == '\n';
    }
    if (lines->size > 0 && lines->data[lines->size - 1] != '\n') {
        n++;
    }
    if (n > LIMIT_EMBED_TEXTS) {
        rc = px_fail(err, PX_ELIMIT, "%s has %zu lines, over the limit of %u", name, n,
                     LIMIT_EMBED_TEXTS);
        goto done;
    }
    lines->text = px_malloc((n ? n : 1) * sizeof *lines->text);
    lines->len = px_malloc((n ? n : 1) * sizeof *lines->len);
    if (lines->text == NULL || lines->len == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory splitting %zu lines", n);
        goto done;
    }
    size_t start = 0;
    for (size_t i = 0; i <= lines->size && lines->n < n; i++) {
        if (i == lines->size || lines->data[i] == '\n') {
            size_t len = i - start;
            if (len > 0 && lines->data[start + len - 1] == '\r') {
                len--;
            }
            if (len > LIMIT_TEXT_BYTES) {
                rc = px_fail(err, PX_ELIMIT, "line %zu: %zu bytes, over the limit of %u per text",
                             lines->n + 1, len, LIMIT_TEXT_BYTES);
                goto done;
            }
            lines->text[lines->n] = lines->data + start;
            lines->len[lines->n] = len;
            lines->n++;
            start = i + 1;
        }
    }
done:
    buf_free(&b);
    if (rc != PX_OK) {
        cli_lines_free(lines);
    }
    return rc;
}

void cli_lines_free(struct cli_lines *lines)
{
    px_free(lines->data);
    px_free(lines->text);
    px_free(lines->len);
    memset(lines, 0, sizeof *lines);
}

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

int cli_format_option(const char *cmd, int opt, const char *arg, enum cli_format *fmt)
{
    if (opt == CLI_OPT_JSON) {
        *fmt = CLI_FORMAT_JSON;
        return CLI_OK;
    }
    if (opt != CLI_OPT_FORMAT) {
        return -1;
    }
    if (!cli_parse_format(arg, fmt)) {
        return cli_usage_error(cmd, "--format must be table, json or csv, got '%s'", arg);
    }
    return CLI_OK;
}

const char *cli_embedder_alias(const char *cmd, const char *dir)
{
    fprintf(stderr, "prospect %s: note: --model DIR is now --embedder DIR (the old spelling still works)\n", cmd);
    return dir;
}

int cli_print_json(const char *cmd, const struct buf *doc)
{
    if (doc->len > 0 && fwrite(doc->data, 1, doc->len, stdout) != doc->len) {
        fprintf(stderr, "prospect %s: error: cannot write the answer to stdout\n", cmd);
        return CLI_FAIL;
    }
    putchar('\n');
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

// One CSV cell from a JSON value: strings as they are, numbers and booleans as JSON writes
// them, null empty, objects and arrays as compact JSON text.
static int csv_cell(FILE *f, const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (cJSON_IsString(v)) {
        cli_csv_field(f, v->valuestring);
        return 0;
    }
    struct buf text;
    buf_init(&text, (size_t)1 << 26);
    int rc = jsonx_put_value(&text, v, NULL);
    if (rc == PX_OK) {
        cli_csv_field(f, text.data);
    }
    buf_free(&text);
    return rc == PX_OK ? 0 : -1;
}

int cli_print_json_as_csv(const char *cmd, const struct buf *doc, const char *table_key,
                          struct px_err *err)
{
    cJSON *root = NULL;
    if (jsonx_parse(doc->data != NULL ? doc->data : "", doc->len, "answer", &root, err) != PX_OK) {
        return cli_fail(cmd, err);
    }
    int bad = 0;
    const cJSON *rows = table_key != NULL ? cJSON_GetObjectItemCaseSensitive(root, table_key)
                                          : (cJSON_IsArray(root) ? root : NULL);
    if (cJSON_IsArray(rows)) {
        // header: the keys of the rows, in the order first seen
        const cJSON *first = rows->child;
        const cJSON *k;
        bool lead = true;
        for (k = first != NULL ? first->child : NULL; k != NULL; k = k->next) {
            fputs(lead ? "" : ",", stdout);
            cli_csv_field(stdout, k->string);
            lead = false;
        }
        putchar('\n');
        const cJSON *r;
        cJSON_ArrayForEach(r, rows)
        {
            lead = true;
            for (k = first != NULL ? first->child : NULL; k != NULL && !bad; k = k->next) {
                fputs(lead ? "" : ",", stdout);
                bad = csv_cell(stdout, cJSON_IsObject(r) ? cJSON_GetObjectItemCaseSensitive(r, k->string) : r);
                lead = false;
            }
            putchar('\n');
        }
    } else {
        puts("field,value");
        const cJSON *k;
        for (k = root->child; k != NULL && !bad; k = k->next) {
            cli_csv_field(stdout, k->string != NULL ? k->string : "");
            putchar(',');
            bad = csv_cell(stdout, k);
            putchar('\n');
        }
    }
    cJSON_Delete(root);
    if (bad) {
        px_fail(err, PX_ENOMEM, "out of memory");
        return cli_fail(cmd, err);
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

void cli_bar_report(size_t done, size_t total, void *user)
{
    struct cli_bar *b = user;
    if (!b->started) {
        progress_begin(&b->bar, b->label, total);
        b->started = true;
    }
    progress_update(&b->bar, done);
}

void cli_bar_end(struct cli_bar *b)
{
    if (b->started) {
        progress_end(&b->bar);
        b->started = false;
    }
}
