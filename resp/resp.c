/*
 * resp/resp.c - RESP2 request parser and reply writer.
 *
 * The parser reproduces Redis 7's request handling (networking.c
 * processMultibulkBuffer() and processInlineBuffer(), sds.c sdssplitargs(),
 * util.c string2ll()), including its quirks: the byte after a header's CR
 * and the two bytes after a bulk are skipped unchecked, a NUL byte before a
 * line end hides that line end (Redis searches with strchr()), "*N" with
 * N <= 0 is an empty command, and the error texts are Redis's.
 *
 * It is written for the hot path: the parse position, the point where the
 * search for a line end stopped and the partial command survive across
 * calls, so no byte is scanned twice; headers of the usual shape are read
 * with one pass and no function call; arguments are views into the buffer;
 * the buffer is compacted only when that alone makes room.
 */
#include "resp.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT_FOUND   SIZE_MAX
#define SKIP        2           /* internal: an empty command was consumed */
#define ARGV_FIRST  1024        /* first argv allocation for "*N" at most */
#define GROW_LINEAR (1024 * 1024) /* past this, grow by this much */
#define LONG_STR    21          /* string2ll() rejects this many chars */

static const char err_mbulk[] = "Protocol error: invalid multibulk length";
static const char err_bulk[] = "Protocol error: invalid bulk length";
static const char err_mbulk_big[] =
    "Protocol error: too big mbulk count string";
static const char err_bulk_big[] = "Protocol error: too big bulk count string";
static const char err_inline_big[] = "Protocol error: too big inline request";
static const char err_quotes[] =
    "Protocol error: unbalanced quotes in request";
static const char err_unauth_mbulk[] =
    "Protocol error: unauthenticated multibulk length";
static const char err_unauth_bulk[] =
    "Protocol error: unauthenticated bulk length";
static const char err_nomem[] = "out of memory";
static const char err_got[] = "Protocol error: expected '$', got '";

/* Two ASCII digits for each value 0..99. */
static const char digits2[201] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

/* ---------------------------------------------------------------------- */
/* Parser internals                                                        */
/* ---------------------------------------------------------------------- */

static int
fail(struct resp_parser *p, const char *msg)
{
    p->err = msg;
    p->failed = 1;
    return RESP_EPROTO;
}

/* See resp.h. */
int
resp_str2ll(const char *s, size_t n, long long *out)
{
    unsigned long long v;
    size_t i = 0;
    int neg = 0;

    if (n == 0 || n >= LONG_STR) {
        return 0;
    }
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1) {
            return 0;
        }
    }
    if (s[i] < '1' || s[i] > '9') {
        return 0;
    }
    v = (unsigned long long)(s[i] - '0');
    for (i++; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';

        if (d > 9 || v > (ULLONG_MAX - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) {
            return 0;
        }
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
                                                      : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) {
            return 0;
        }
        *out = (long long)v;
    }
    return 1;
}

/* Forget where the last line-end search stopped (a new line begins). */
static void
line_done(struct resp_parser *p)
{
    p->scan = 0;
    p->stuck = 0;
}

/*
 * Find the first ch at or after offset from (relative to pos) the way
 * Redis's strchr() on its NUL-terminated buffer does: a NUL byte before it
 * means "not found" for as long as the line lasts. Resumes where the last
 * search stopped. Returns the offset, or NOT_FOUND.
 */
static size_t
find_eol(struct resp_parser *p, size_t from, char ch)
{
    const char *s = p->buf + p->pos;
    size_t n = p->len - p->pos;
    size_t a = p->scan > from ? p->scan : from;
    const char *hit;
    size_t end;

    if (p->stuck) {
        return NOT_FOUND;
    }
    hit = a < n ? memchr(s + a, ch, n - a) : NULL;
    end = hit != NULL ? (size_t)(hit - s) : n;
    if (end > a && memchr(s + a, '\0', end - a) != NULL) {
        p->stuck = 1;
        return NOT_FOUND;
    }
    p->scan = end;
    return hit != NULL ? end : NOT_FOUND;
}

/*
 * The unconsumed bytes moved from buf + pos to new_base: point the argv
 * views of the partial command there too. Call before freeing the old
 * block.
 */
static void
rebase_argv(struct resp_parser *p, char *new_base)
{
    const char *old_base;
    size_t i;

    if (p->argc == 0) {
        return;
    }
    old_base = p->buf + p->pos;
    for (i = 0; i < p->argc; i++) {
        p->argv[i].ptr = new_base + (p->argv[i].ptr - old_base);
    }
}

/*
 * Make room for want more bytes after len and return where they go (NULL on
 * allocation failure, nothing changed). While a big bulk is being received,
 * the room covers the rest of it plus want, allocated exactly (like Redis's
 * sdsMakeRoomForNonGreedy()), so every read of the bulk, the last one too,
 * lands in place. Otherwise the tail is moved to the front when that alone
 * makes room, or the buffer grows (double up to 1 MB, then by 1 MB, like
 * sds) into a fresh block holding only the unconsumed bytes.
 */
static char *
reserve(struct resp_parser *p, size_t want)
{
    size_t pending = p->len - p->pos;
    size_t need, ncap;
    char *nbuf;
    int exact = 0;

    if (p->mb_left > 0 && p->bulk_len >= RESP_BIG_ARG) {
        unsigned long long end = (unsigned long long)p->pos + p->off +
                                 (unsigned long long)p->bulk_len + 2;

        if (end > p->len) {
            if (end - p->len > SIZE_MAX - want) {
                return NULL;
            }
            want += (size_t)(end - p->len);
            exact = 1;
        }
    }
    if (p->cap - p->len >= want) {
        return p->buf + p->len;
    }
    if (want > SIZE_MAX - pending) {
        return NULL;
    }
    need = pending + want;
    if (need <= p->cap) {
        /* Compacting is enough: move the tail to the front. */
        rebase_argv(p, p->buf);
        memmove(p->buf, p->buf + p->pos, pending);
        p->pos = 0;
        p->len = pending;
        return p->buf + p->len;
    }
    if (exact) {
        ncap = need;
    } else if (need < GROW_LINEAR) {
        ncap = need < 256 ? 512 : need * 2;
    } else {
        ncap = need <= SIZE_MAX - GROW_LINEAR ? need + GROW_LINEAR : need;
    }
    nbuf = malloc(ncap);
    if (nbuf == NULL) {
        return NULL;
    }
    if (pending > 0) {
        memcpy(nbuf, p->buf + p->pos, pending);
    }
    rebase_argv(p, nbuf);
    free(p->buf);
    p->buf = nbuf;
    p->cap = ncap;
    p->pos = 0;
    p->len = pending;
    return p->buf + p->len;
}

/* Make argv hold at least want entries. Returns RK_OK or RK_ENOMEM. */
static int
argv_grow(struct resp_parser *p, size_t want)
{
    struct rk_slice *na;

    if (want <= p->argv_cap) {
        return RK_OK;
    }
    if (want > SIZE_MAX / sizeof(*na)) {
        return RK_ENOMEM;
    }
    na = realloc(p->argv, want * sizeof(*na));
    if (na == NULL) {
        return RK_ENOMEM;
    }
    p->argv = na;
    p->argv_cap = want;
    return RK_OK;
}

static int
nomem(struct resp_parser *p)
{
    p->err = err_nomem;
    p->failed = 1;
    return RK_ENOMEM;
}

/* Results of read_header(). */
#define HDR_BIG     -1  /* no CR within RESP_MAX_INLINE bytes */
#define HDR_WAIT     0  /* need more bytes */
#define HDR_NUMBER   1  /* line found, *ll holds its number */
#define HDR_BAD      2  /* line found, not a number string2ll() takes */

/*
 * Read the header line that starts at offset h (relative to pos) and should
 * begin with c (the caller checks that byte). The usual "<c>digits\r" shape
 * is read and converted in one pass; anything else goes through find_eol()
 * and resp_str2ll(). On HDR_NUMBER and HDR_BAD, *cr is the offset of the CR.
 */
static int
read_header(struct resp_parser *p, size_t h, char c, size_t *cr,
            long long *ll)
{
    const char *s = p->buf + p->pos;
    size_t n = p->len - p->pos;
    size_t q = h + 1;

    if (h >= n) {
        return HDR_WAIT;
    }
    if (s[h] == c) {
        size_t lim = h + 19 < n ? h + 19 : n;
        unsigned long long v = 0;
        unsigned d;

        /* Up to 18 digits cannot overflow. */
        while (q < lim && (d = (unsigned)(unsigned char)s[q] - '0') < 10) {
            v = v * 10 + d;
            q++;
        }
        if (q + 1 < n && s[q] == '\r' && q > h + 1 &&
            (s[h + 1] != '0' || q == h + 2)) {
            *cr = q;
            *ll = (long long)v;
            return HDR_NUMBER;
        }
    }
    q = find_eol(p, h, '\r');
    if (q == NOT_FOUND) {
        return n - h > RESP_MAX_INLINE ? HDR_BIG : HDR_WAIT;
    }
    /* Redis also wants the byte after the CR, but never looks at it. */
    if (q + 1 >= n) {
        return HDR_WAIT;
    }
    *cr = q;
    return resp_str2ll(s + h + 1, q - h - 1, ll) ? HDR_NUMBER : HDR_BAD;
}

/* Read one "*N" command (or continue it). RESP_OK, RESP_INCOMPLETE, SKIP,
 * RESP_EPROTO or RK_ENOMEM. */
static int
parse_multibulk(struct resp_parser *p)
{
    const char *s;
    size_t n, cr;
    long long ll;
    int rc;

    if (p->mb_left == 0) {
        rc = read_header(p, 0, '*', &cr, &ll);
        if (rc == HDR_WAIT) {
            return RESP_INCOMPLETE;
        }
        if (rc == HDR_BIG) {
            return fail(p, err_mbulk_big);
        }
        if (rc == HDR_BAD || ll > RESP_MAX_MULTIBULK) {
            return fail(p, err_mbulk);
        }
        if (ll > RESP_UNAUTH_MAX_MULTIBULK && p->unauth) {
            return fail(p, err_unauth_mbulk);
        }
        line_done(p);
        if (ll <= 0) {
            p->pos += cr + 2;
            return SKIP;
        }
        if (argv_grow(p, ll < ARGV_FIRST ? (size_t)ll : ARGV_FIRST) != RK_OK) {
            return nomem(p);
        }
        p->off = cr + 2;
        p->mb_left = ll;
        p->bulk_len = -1;
        p->argc = 0;
    }

    while (p->mb_left > 0) {
        s = p->buf + p->pos;
        n = p->len - p->pos;
        if (p->bulk_len < 0) {
            size_t h = p->off;

            rc = read_header(p, h, '$', &cr, &ll);
            if (rc == HDR_WAIT) {
                return RESP_INCOMPLETE;
            }
            if (rc == HDR_BIG) {
                return fail(p, err_bulk_big);
            }
            if (s[h] != '$') {
                /* Redis maps CR and LF in error replies to spaces. */
                char got = s[h] == '\r' || s[h] == '\n' ? ' ' : s[h];
                size_t k = sizeof(err_got) - 1;

                memcpy(p->err_buf, err_got, k);
                p->err_buf[k] = got;
                p->err_buf[k + 1] = '\'';
                p->err_buf[k + 2] = '\0';
                return fail(p, p->err_buf);
            }
            if (rc == HDR_BAD || ll < 0 ||
                (unsigned long long)ll > p->max_bulk) {
                return fail(p, err_bulk);
            }
            if (ll > RESP_UNAUTH_MAX_BULK && p->unauth) {
                return fail(p, err_unauth_bulk);
            }
            line_done(p);
            p->off = cr + 2;
            p->bulk_len = ll;
        }
        /* The bulk and two more bytes (meant to be CRLF, never checked). */
        if ((unsigned long long)(n - p->off) <
            (unsigned long long)p->bulk_len + 2) {
            return RESP_INCOMPLETE;
        }
        if (p->argc == p->argv_cap) {
            size_t want = p->argv_cap * 2;
            size_t most = p->argc + (size_t)p->mb_left;

            if (argv_grow(p, want < most ? want : most) != RK_OK) {
                return nomem(p);
            }
        }
        p->argv[p->argc].ptr = s + p->off;
        p->argv[p->argc].len = (size_t)p->bulk_len;
        p->argc++;
        p->off += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->mb_left--;
    }
    p->pos += p->off;
    p->off = 0;
    return RESP_OK;
}

static int
is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int
hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/*
 * Split line[0, end) into arguments with sdssplitargs()'s rules, unquoting
 * each in place over its own bytes (the output never outgrows the input).
 * The line holds no NUL byte, so "past the end" plays the role of Redis's
 * terminating NUL. Returns RK_OK, RK_EPROTO (unbalanced quotes) or
 * RK_ENOMEM.
 */
static int
split_inline(struct resp_parser *p, char *line, size_t end)
{
    size_t i = 0;

    p->argc = 0;
    for (;;) {
        size_t tok, w;
        int inq = 0, insq = 0, done = 0;

        while (i < end && is_space((unsigned char)line[i])) {
            i++;
        }
        if (i == end) {
            return RK_OK;
        }
        tok = w = i;
        while (!done) {
            int c = i < end ? (unsigned char)line[i] : 0;
            int c1 = i + 1 < end ? (unsigned char)line[i + 1] : 0;

            if (inq) {
                int h1 = -1, h2 = -1;

                if (c == '\\' && c1 == 'x' && i + 3 < end) {
                    h1 = hex_val((unsigned char)line[i + 2]);
                    h2 = hex_val((unsigned char)line[i + 3]);
                }
                if (h1 >= 0 && h2 >= 0) {
                    line[w++] = (char)(h1 * 16 + h2);
                    i += 4;
                } else if (c == '\\' && c1 != 0) {
                    switch (c1) {
                    case 'n': c1 = '\n'; break;
                    case 'r': c1 = '\r'; break;
                    case 't': c1 = '\t'; break;
                    case 'b': c1 = '\b'; break;
                    case 'a': c1 = '\a'; break;
                    default: break;
                    }
                    line[w++] = (char)c1;
                    i += 2;
                } else if (c == '"') {
                    /* The closing quote must end the argument. */
                    if (c1 != 0 && !is_space((unsigned char)c1)) {
                        return RK_EPROTO;
                    }
                    i++;
                    done = 1;
                } else if (c == 0) {
                    return RK_EPROTO;
                } else {
                    line[w++] = (char)c;
                    i++;
                }
            } else if (insq) {
                if (c == '\\' && c1 == '\'') {
                    line[w++] = '\'';
                    i += 2;
                } else if (c == '\'') {
                    if (c1 != 0 && !is_space((unsigned char)c1)) {
                        return RK_EPROTO;
                    }
                    i++;
                    done = 1;
                } else if (c == 0) {
                    return RK_EPROTO;
                } else {
                    line[w++] = (char)c;
                    i++;
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                    i++;
                    done = 1;
                    break;
                case 0:
                    done = 1;
                    break;
                case '"':
                    inq = 1;
                    i++;
                    break;
                case '\'':
                    insq = 1;
                    i++;
                    break;
                default:
                    line[w++] = (char)c;
                    i++;
                    break;
                }
            }
        }
        if (p->argc == p->argv_cap &&
            argv_grow(p, p->argv_cap < 8 ? 8 : p->argv_cap * 2) != RK_OK) {
            return RK_ENOMEM;
        }
        p->argv[p->argc].ptr = line + tok;
        p->argv[p->argc].len = w - tok;
        p->argc++;
    }
}

/* Read one inline command. RESP_OK, RESP_INCOMPLETE, SKIP, RESP_EPROTO or
 * RK_ENOMEM. */
static int
parse_inline(struct resp_parser *p)
{
    size_t nl = find_eol(p, 0, '\n');
    size_t end;
    char *line;
    int rc;

    if (nl == NOT_FOUND) {
        if (p->len - p->pos > RESP_MAX_INLINE) {
            return fail(p, err_inline_big);
        }
        return RESP_INCOMPLETE;
    }
    line = p->buf + p->pos;
    end = nl > 0 && line[nl - 1] == '\r' ? nl - 1 : nl;
    line_done(p);
    p->pos += nl + 1;
    rc = split_inline(p, line, end);
    if (rc == RK_EPROTO) {
        return fail(p, err_quotes);
    }
    if (rc == RK_ENOMEM) {
        return nomem(p);
    }
    return p->argc == 0 ? SKIP : RESP_OK;
}

/* ---------------------------------------------------------------------- */
/* Parser API                                                              */
/* ---------------------------------------------------------------------- */

void
resp_parser_init(struct resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk = RESP_DEFAULT_MAX_BULK;
    p->bulk_len = -1;
}

void
resp_parser_deinit(struct resp_parser *p)
{
    free(p->buf);
    free(p->argv);
    memset(p, 0, sizeof(*p));
    p->bulk_len = -1;
}

int
resp_parse(struct resp_parser *p, const char *data, size_t len)
{
    int rc;

    if (p->failed) {
        return p->err == err_nomem ? RK_ENOMEM : RESP_EPROTO;
    }
    if (p->mb_left == 0) {
        p->argc = 0;
    }
    if (len > 0) {
        char *dst = reserve(p, len);

        if (dst == NULL) {
            return nomem(p);
        }
        memcpy(dst, data, len);
        p->len += len;
    }
    for (;;) {
        if (p->pos == p->len) {
            /* Everything consumed: start over at the front for free. */
            p->pos = 0;
            p->len = 0;
            return RESP_INCOMPLETE;
        }
        if (p->mb_left > 0 || p->buf[p->pos] == '*') {
            rc = parse_multibulk(p);
        } else {
            rc = parse_inline(p);
        }
        if (rc != SKIP) {
            return rc;
        }
    }
}

char *
resp_parser_space(struct resp_parser *p, size_t want, size_t *avail)
{
    char *dst;

    if (p->mb_left == 0) {
        p->argc = 0;
    }
    if (p->pos == p->len) {
        p->pos = 0;
        p->len = 0;
    }
    dst = reserve(p, want > 0 ? want : 1);
    if (dst != NULL && avail != NULL) {
        *avail = p->cap - p->len;
    }
    return dst;
}

void
resp_parser_commit(struct resp_parser *p, size_t n)
{
    assert(n <= p->cap - p->len);
    p->len += n;
}

size_t
resp_parser_pending(const struct resp_parser *p)
{
    return p->len - p->pos;
}

size_t
resp_parser_memory(const struct resp_parser *p)
{
    return p->cap + p->argv_cap * sizeof(*p->argv);
}

void
resp_parser_reset(struct resp_parser *p)
{
    p->len = 0;
    p->pos = 0;
    p->failed = 0;
    p->stuck = 0;
    p->off = 0;
    p->scan = 0;
    p->mb_left = 0;
    p->bulk_len = -1;
    p->argc = 0;
    p->err = NULL;
}

void
resp_parser_shrink(struct resp_parser *p)
{
    size_t pending = p->len - p->pos;

    if (p->mb_left == 0) {
        p->argc = 0;
        free(p->argv);
        p->argv = NULL;
        p->argv_cap = 0;
    }
    if (pending == 0) {
        free(p->buf);
        p->buf = NULL;
        p->cap = 0;
        p->len = 0;
        p->pos = 0;
    } else if (p->cap > pending) {
        char *nbuf = malloc(pending);

        if (nbuf == NULL) {
            return;
        }
        memcpy(nbuf, p->buf + p->pos, pending);
        rebase_argv(p, nbuf);
        free(p->buf);
        p->buf = nbuf;
        p->cap = pending;
        p->len = pending;
        p->pos = 0;
    }
}

/* ---------------------------------------------------------------------- */
/* Number formatting                                                       */
/* ---------------------------------------------------------------------- */

static size_t
u64_digits(unsigned long long v)
{
    size_t n = 1;

    for (;;) {
        if (v < 10) {
            return n;
        }
        if (v < 100) {
            return n + 1;
        }
        if (v < 1000) {
            return n + 2;
        }
        if (v < 10000) {
            return n + 3;
        }
        v /= 10000;
        n += 4;
    }
}

/* Write v in decimal (no NUL) and return its length, at most 20. */
static size_t
u64_write(char *dst, unsigned long long v)
{
    size_t n = u64_digits(v);
    size_t i = n - 1;

    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;

        v /= 100;
        dst[i] = digits2[k + 1];
        dst[i - 1] = digits2[k];
        i -= 2;
    }
    if (v < 10) {
        dst[i] = (char)('0' + v);
    } else {
        dst[i] = digits2[v * 2 + 1];
        dst[i - 1] = digits2[v * 2];
    }
    return n;
}

/* Write v in decimal (no NUL) and return its length, at most 20. */
static size_t
ll_write(char *dst, long long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + u64_write(dst + 1, 0ull - (unsigned long long)v);
    }
    return u64_write(dst, (unsigned long long)v);
}

/* ---------------------------------------------------------------------- */
/* Reply writer                                                            */
/* ---------------------------------------------------------------------- */

void
resp_buf_init(struct resp_buf *b)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->resp3 = 0;
}

void
resp_buf_deinit(struct resp_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

static char *
buf_grow(struct resp_buf *b, size_t n)
{
    size_t need, ncap;
    char *np;

    if (n > SIZE_MAX - b->len) {
        return NULL;
    }
    need = b->len + n;
    ncap = b->cap < 64 ? 64 : b->cap;
    while (ncap < need) {
        ncap = ncap <= SIZE_MAX / 2 ? ncap * 2 : need;
    }
    np = realloc(b->ptr, ncap);
    if (np == NULL) {
        return NULL;
    }
    b->ptr = np;
    b->cap = ncap;
    return b->ptr + b->len;
}

char *
resp_buf_reserve(struct resp_buf *b, size_t n)
{
    if (b->cap - b->len >= n && b->ptr != NULL) {
        return b->ptr + b->len;
    }
    return buf_grow(b, n);
}

void
resp_buf_consume(struct resp_buf *b, size_t n)
{
    assert(n <= b->len);
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->ptr, b->ptr + n, b->len - n);
    b->len -= n;
}

int
resp_add_raw(struct resp_buf *b, const void *p, size_t n)
{
    char *d;

    if (n == 0) {
        return RK_OK;
    }
    d = resp_buf_reserve(b, n);
    if (d == NULL) {
        return RK_ENOMEM;
    }
    memcpy(d, p, n);
    b->len += n;
    return RK_OK;
}

/* "<c><msg>\r\n" with msg copied verbatim. */
static int
add_line(struct resp_buf *b, char c, const char *msg, size_t n)
{
    char *d;

    if (n > SIZE_MAX - 3) {
        return RK_ENOMEM;
    }
    d = resp_buf_reserve(b, n + 3);
    if (d == NULL) {
        return RK_ENOMEM;
    }
    d[0] = c;
    if (n > 0) {
        memcpy(d + 1, msg, n);
    }
    d[n + 1] = '\r';
    d[n + 2] = '\n';
    b->len += n + 3;
    return RK_OK;
}

/* "<c><v>\r\n". */
static int
add_ll_line(struct resp_buf *b, char c, long long v)
{
    char *d = resp_buf_reserve(b, 24);
    size_t n;

    if (d == NULL) {
        return RK_ENOMEM;
    }
    d[0] = c;
    n = 1 + ll_write(d + 1, v);
    d[n] = '\r';
    d[n + 1] = '\n';
    b->len += n + 2;
    return RK_OK;
}

int
resp_add_status(struct resp_buf *b, const char *s)
{
    return add_line(b, '+', s, strlen(s));
}

int
resp_add_error(struct resp_buf *b, const char *msg, size_t len)
{
    size_t i;
    char *d;

    if (add_line(b, '-', msg, len) != RK_OK) {
        return RK_ENOMEM;
    }
    d = b->ptr + b->len - len - 2;
    for (i = 0; i < len; i++) {
        if (d[i] == '\r' || d[i] == '\n') {
            d[i] = ' ';
        }
    }
    return RK_OK;
}

int
resp_add_int(struct resp_buf *b, long long v)
{
    return add_ll_line(b, ':', v);
}

int
resp_add_bulk(struct resp_buf *b, const void *p, size_t n)
{
    char *d;
    size_t h;

    if (n > SIZE_MAX - 32) {
        return RK_ENOMEM;
    }
    d = resp_buf_reserve(b, n + 27);
    if (d == NULL) {
        return RK_ENOMEM;
    }
    d[0] = '$';
    h = 1 + u64_write(d + 1, n);
    d[h] = '\r';
    d[h + 1] = '\n';
    h += 2;
    if (n > 0) {
        memcpy(d + h, p, n);
    }
    d[h + n] = '\r';
    d[h + n + 1] = '\n';
    b->len += h + n + 2;
    return RK_OK;
}

int
resp_add_bulk_str(struct resp_buf *b, const char *s)
{
    return resp_add_bulk(b, s, strlen(s));
}

int
resp_add_bulk_ll(struct resp_buf *b, long long v)
{
    char *d = resp_buf_reserve(b, 32);
    char num[24];
    size_t n, h;

    if (d == NULL) {
        return RK_ENOMEM;
    }
    n = ll_write(num, v);
    d[0] = '$';
    h = 1 + u64_write(d + 1, n);
    d[h] = '\r';
    d[h + 1] = '\n';
    memcpy(d + h + 2, num, n);
    d[h + 2 + n] = '\r';
    d[h + 3 + n] = '\n';
    b->len += h + n + 4;
    return RK_OK;
}

int
resp_add_null(struct resp_buf *b)
{
    return b->resp3 ? resp_add_raw(b, "_\r\n", 3)
                    : resp_add_raw(b, "$-1\r\n", 5);
}

int
resp_add_null_array(struct resp_buf *b)
{
    return b->resp3 ? resp_add_raw(b, "_\r\n", 3)
                    : resp_add_raw(b, "*-1\r\n", 5);
}

int
resp_add_map(struct resp_buf *b, long long n)
{
    return b->resp3 ? add_ll_line(b, '%', n) : add_ll_line(b, '*', 2 * n);
}

int
resp_add_verbatim(struct resp_buf *b, const char *fmt, const void *p,
                  size_t n)
{
    size_t mark = b->len;

    if (!b->resp3) {
        return resp_add_bulk(b, p, n);
    }
    if (add_ll_line(b, '=', (long long)n + 4) != RK_OK ||
        resp_add_raw(b, fmt, 3) != RK_OK || resp_add_raw(b, ":", 1) != RK_OK ||
        resp_add_raw(b, p, n) != RK_OK || resp_add_raw(b, "\r\n", 2) != RK_OK) {
        b->len = mark;
        return RK_ENOMEM;
    }
    return RK_OK;
}

int
resp_add_array(struct resp_buf *b, long long n)
{
    return add_ll_line(b, '*', n);
}

static int
ld_nospace(char *out, size_t cap)
{
    if (cap > 0) {
        out[0] = '\0';
    }
    return RK_ERR;
}

int
resp_format_ld(char *out, size_t cap, long double v)
{
    int n;
    size_t l;

    if (isinf(v)) {
        const char *t = v > 0 ? "inf" : "-inf";

        l = strlen(t);
        if (cap < l + 1) {
            return ld_nospace(out, cap);
        }
        memcpy(out, t, l + 1);
        return (int)l;
    }
    n = snprintf(out, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n + 1 > cap) {
        return ld_nospace(out, cap);
    }
    l = (size_t)n;
    /* Drop trailing zeros after the point, then a bare point. */
    if (memchr(out, '.', l) != NULL) {
        while (out[l - 1] == '0') {
            l--;
        }
        if (out[l - 1] == '.') {
            l--;
        }
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') {
        out[0] = '0';
        l = 1;
    }
    out[l] = '\0';
    return (int)l;
}
