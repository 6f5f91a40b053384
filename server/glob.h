/*
 * server/glob.h - Redis's glob patterns, for CONFIG GET, KEYS, SCAN MATCH
 * and COMMAND LIST FILTERBY PATTERN.
 */
#ifndef SRV_GLOB_H
#define SRV_GLOB_H

#include <stddef.h>

/*
 * Redis's glob matching (stringmatchlen): * ? [a-z] [^x] \x, byte for byte
 * as Redis 7 does for ASCII (bytes >= 0x80 compare as unsigned). nocase
 * folds ASCII letters. Returns 1 on a match, else 0; patterns nested more
 * than SRV_GLOB_MAX_NESTING stars deep never match. Like Redis, "*" does
 * not match the empty string: KEYS and SCAN treat a lone "*" as "all".
 */
#define SRV_GLOB_MAX_NESTING 1000
int srv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                   int nocase);

#endif /* SRV_GLOB_H */
