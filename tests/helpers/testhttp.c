// testhttp.c — see testhttp.h.
#include "testhttp.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "testutil.h"

pid_t th_serve(const char *const *args, const char *log_path, int *port)
{
    const char *bin = getenv("PROSPECT_BIN");
    const char *argv[32] = {"prospect"};
    size_t n = 1;
    if (bin == NULL) fail_msg("PROSPECT_BIN is not set");
    for (; args[n - 1] != NULL && n < 31; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork failed");
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    *port = 0;
    for (int i = 0; i < 600 && *port == 0; i++) {
        FILE *f = fopen(log_path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "listening on http://");
            const char *colon = p ? strchr(p + 20, ':') : NULL;
            if (colon) *port = atoi(colon + 1);
        }
        if (f) fclose(f);
        int status;
        if (*port == 0 && waitpid(pid, &status, WNOHANG) == pid) {
            fail_msg("prospect serve exited before listening (see %s)", log_path);
        }
        if (*port == 0) usleep(100000);
    }
    if (*port == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("prospect serve did not start (see %s)", log_path);
    }
    return pid;
}

int th_stop(pid_t pid)
{
    int status = 0;
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

struct reply {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct reply *r = user;
    char *d = realloc(r->data, r->len + size * n + 1);
    if (d == NULL) return 0;
    memcpy(d + r->len, p, size * n);
    r->len += size * n;
    d[r->len] = '\0';
    r->data = d;
    return size * n;
}

long th_request(int port, const char *method, const char *path, const char *ctype,
                const char *bearer, const char *body, size_t body_len, char **out)
{
    char url[1024], hdr[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    struct reply r = {0};
    struct curl_slist *h = NULL;
    long status = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (bearer != NULL) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, hdr);
    }
    if (strcmp(method, "POST") == 0) {
        snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, hdr);
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out) {
        *out = r.data ? r.data : strdup("");
    } else {
        free(r.data);
    }
    return status;
}
