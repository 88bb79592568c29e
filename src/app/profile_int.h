// profile_int.h — how a column's inferred type (store/coltype) is rendered in a customer's
// profile text (text/rowtext): the one mapping, shared by the book (index, keyword text) and the
// look-alikes (profile texts of a propensity data set), so both render a row the same way.
#ifndef PX_APP_PROFILE_INT_H
#define PX_APP_PROFILE_INT_H

#include "coltype.h"
#include "rowtext.h"

static inline enum rowtext_kind profile_kind(enum coltype t)
{
    switch (t) {
    case COLTYPE_INTEGER: return ROWTEXT_INTEGER;
    case COLTYPE_REAL: return ROWTEXT_REAL;
    case COLTYPE_CURRENCY: return ROWTEXT_CURRENCY;
    case COLTYPE_PERCENT: return ROWTEXT_PERCENT;
    case COLTYPE_BOOL: return ROWTEXT_BOOL;
    case COLTYPE_LIST: return ROWTEXT_LIST;
    default: return ROWTEXT_TEXT;
    }
}

#endif
