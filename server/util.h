/*
 * server/util.h - strict number parsing and formatting as Redis does it.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

/*
 * Parse a whole string as a long long with Redis's string2ll rules: no
 * leading spaces or '+', no leading zeros, at most 20 chars, no overflow.
 * Returns 1 on success.
 */
int srv_str2ll(const char *s, size_t len, long long *out);

/* Parse a long double as Redis's string2ld: no spaces, not NaN. 1 = ok. */
int srv_str2ld(const char *s, size_t len, long double *out);

/* Case-insensitive compare of a slice with a C string; 1 when equal. */
int srv_eq(const char *p, size_t len, const char *lit);

#endif /* UTIL_H */
