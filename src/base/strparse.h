// strparse.h — small cursor parsers over NUL-terminated text (curl's strparse idea): each takes
// `const char **p`, and advances it past what it consumed.
#ifndef PX_STRPARSE_H
#define PX_STRPARSE_H

#include <stdbool.h>
#include <stddef.h>

// The next item of a multi-valued field "A; B; C" at *p: spaces around the item trimmed, empty
// items skipped. Sets *item (pointing into the text) and *len and advances *p past the item and
// its ';'. Returns false, with *p at the end, when no item is left.
bool strparse_list_item(const char **p, const char **item, size_t *len);

// Items strparse_list_item would return for s.
size_t strparse_list_count(const char *s);

#endif
