/*
 * server/glob.c - Redis's glob matching (stringmatchlen), shared by CONFIG
 * GET, KEYS, SCAN MATCH and COMMAND LIST FILTERBY PATTERN.
 */
#include "glob.h"

#include <stddef.h>

/* ASCII-only case folding, as Redis compares in stringmatchlen(). */
static int
ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * One step of Redis's stringmatchlen: match pattern p against s; on a
 * failed '*' it sets *skip so that callers up the stack stop trying longer
 * matches for earlier stars (that cannot help), which keeps runs of stars
 * polynomial.
 */
static int
glob_impl(const unsigned char *p, size_t plen, const unsigned char *s,
          size_t slen, int nocase, int *skip, int nesting)
{
    if (nesting > SRV_GLOB_MAX_NESTING) {
        return 0;
    }
    while (plen > 0 && slen > 0) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1) {
                return 1;
            }
            while (slen > 0) {
                if (glob_impl(p + 1, plen - 1, s, slen, nocase, skip,
                              nesting + 1)) {
                    return 1;
                }
                if (*skip) {
                    return 0;
                }
                s++;
                slen--;
            }
            *skip = 1;
            return 0;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            int neg;
            int match = 0;

            p++;
            plen--;
            neg = plen > 0 && p[0] == '^';
            if (neg) {
                p++;
                plen--;
            }
            for (;;) {
                if (plen >= 2 && p[0] == '\\') {
                    p++;
                    plen--;
                    if (p[0] == s[0]) {
                        match = 1;
                    }
                } else if (plen == 0) {
                    /* No ']': the class ends with the pattern. */
                    p--;
                    plen++;
                    break;
                } else if (p[0] == ']') {
                    break;
                } else if (plen >= 3 && p[1] == '-') {
                    int lo = p[0];
                    int hi = p[2];
                    int c = s[0];

                    if (lo > hi) {
                        int t = lo;

                        lo = hi;
                        hi = t;
                    }
                    if (nocase) {
                        lo = ascii_lower(lo);
                        hi = ascii_lower(hi);
                        c = ascii_lower(c);
                    }
                    p += 2;
                    plen -= 2;
                    if (c >= lo && c <= hi) {
                        match = 1;
                    }
                } else if (nocase ? ascii_lower(p[0]) == ascii_lower(s[0])
                                  : p[0] == s[0]) {
                    match = 1;
                }
                p++;
                plen--;
            }
            if (neg) {
                match = !match;
            }
            if (!match) {
                return 0;
            }
            s++;
            slen--;
            break;
        }
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (nocase ? ascii_lower(p[0]) != ascii_lower(s[0])
                       : p[0] != s[0]) {
                return 0;
            }
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            while (plen > 0 && p[0] == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

/*
 * Redis's glob matching (stringmatchlen). Returns 1 on a match, else 0.
 * See config.h for the rules.
 */
int
srv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
               int nocase)
{
    int skip = 0;

    return glob_impl((const unsigned char *)pat, plen,
                     (const unsigned char *)s, slen, nocase, &skip, 0);
}
