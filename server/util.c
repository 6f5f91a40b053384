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

int
srv_str2ll(const char *s, size_t len, long long *out)
{
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (len == 0 || len > 20) {
        return 0;
    }
    if (len == 1 && p[0] == '0') {
        *out = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == len) {
            return 0;
        }
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return 0;
    }
    while (plen < len && p[0] >= '0' && p[0] <= '9') {
        if (v > ULLONG_MAX / 10) {
            return 0;
        }
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(p[0] - '0')) {
            return 0;
        }
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < len) {
        return 0;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) {
            return 0;
        }
        *out = (long long)(0ull - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) {
            return 0;
        }
        *out = (long long)v;
    }
    return 1;
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
