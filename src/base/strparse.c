// strparse.c — see strparse.h.
#include "strparse.h"

#include <string.h>

bool strparse_list_item(const char **p, const char **item, size_t *len)
{
    const char *s = *p;
    while (*s != '\0') {
        const char *semi = strchr(s, ';');
        const char *end = semi ? semi : s + strlen(s);
        const char *a = s, *z = end;
        while (a < z && *a == ' ') a++;
        while (z > a && z[-1] == ' ') z--;
        s = semi ? semi + 1 : end;
        if (z > a) {
            *item = a;
            *len = (size_t)(z - a);
            *p = s;
            return true;
        }
    }
    *p = s;
    return false;
}

size_t strparse_list_count(const char *s)
{
    const char *item;
    size_t len, n = 0;
    while (strparse_list_item(&s, &item, &len)) {
        n++;
    }
    return n;
}
