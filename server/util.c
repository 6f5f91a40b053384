/*
 * server/util.c - strict number parsing, as Redis's string2ll/string2ld.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

int
srv_str2ll(const char *s, size_t len, long long *out)
{
    return resp_str2ll(s, len, out);
}

int
srv_str2ld(const char *s, size_t len, long double *out)
{
    char buf[5 * 1024 + 1];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0])) {
        return 0;
    }
    errno = 0;
    v = strtold(buf, &end);
    if ((size_t)(end - buf) != len || isnan(v) ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL ||
                             fpclassify(v) == FP_ZERO))) {
        return 0;
    }
    *out = v;
    return 1;
}

int
srv_eq(const char *p, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}
