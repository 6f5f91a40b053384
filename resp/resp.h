/*
 * resp/resp.h - RESP2 request parser and reply writer.
 *
 * The parser owns the connection's query buffer: bytes are appended to it
 * (either copied in by resp_parse() or read straight into the space that
 * resp_parser_space() hands out), and each RESP_OK leaves one complete
 * command in p->argv. Arguments are views into the buffer: they stay valid
 * until the next call that may move the buffer (resp_parse,
 * resp_parser_space). Multibulk arguments are never copied; inline arguments
 * are unquoted in place, inside the bytes of their own (consumed) line.
 * Parsing follows Redis 7's processMultibulkBuffer()/processInlineBuffer()
 * byte for byte, error texts included. Depends on libc only.
 */
#ifndef RESP_H
#define RESP_H

#include <stddef.h>
#include <stdint.h>

#include "rk.h"

#define RESP_OK          0   /* one command is in p->argv */
#define RESP_INCOMPLETE  1   /* need more bytes */
#define RESP_EPROTO     -4   /* protocol error: p->err has Redis's text */
/* resp_parse() may also return RK_ENOMEM (-2): the bytes could not be
 * buffered; p->err is "out of memory" and the parser is unusable. */

/* Redis's defaults; RESP_DEFAULT_MAX_BULK is proto-max-bulk-len. */
#define RESP_DEFAULT_MAX_BULK     (512ull * 1024 * 1024)
#define RESP_MAX_INLINE           (64 * 1024)  /* PROTO_INLINE_MAX_SIZE */
#define RESP_MAX_MULTIBULK        INT32_MAX    /* "*N" above this: invalid */
/* Bulk arguments this long get their whole size reserved at once, so that
 * reads land in their final place (PROTO_MBULK_BIG_ARG). */
#define RESP_BIG_ARG              (32 * 1024)
/* Limits for clients that have not authenticated yet (Redis 7); above them
 * the errors are "Protocol error: unauthenticated multibulk length" and
 * "Protocol error: unauthenticated bulk length". */
#define RESP_UNAUTH_MAX_MULTIBULK 10
#define RESP_UNAUTH_MAX_BULK      16384

struct resp_parser {
    /* Query buffer: bytes [pos, len) are not yet consumed; pos is where the
     * command being parsed begins. Read-only for callers. */
    char *buf;
    size_t len;
    size_t cap;
    size_t pos;

    /* Limits; set by resp_parser_init(), may be changed at any time. */
    uint64_t max_bulk;      /* largest bulk argument */
    unsigned unauth : 1;    /* apply the unauthenticated-client limits */

    /* Private parse state, kept across calls so nothing is scanned twice. */
    unsigned failed : 1;    /* a RESP_EPROTO was returned; sticky */
    unsigned stuck : 1;     /* a NUL byte hides the line end (as Redis's
                             * strchr() does): wait for the size limit */
    size_t off;             /* parse cursor, relative to pos */
    size_t scan;            /* line-end search resumes here (rel. to pos) */
    long long mb_left;      /* arguments still to read; 0 between commands */
    long long bulk_len;     /* -1 until the next "$N" header is read */
    size_t argv_cap;        /* entries allocated in argv */

    /* Result of the last RESP_OK: argc views into buf. Valid until the next
     * resp_parse() or resp_parser_space() call. */
    size_t argc;
    struct rk_slice *argv;

    /* Text of the last RESP_EPROTO, without "-ERR " and CRLF, e.g.
     * "Protocol error: invalid bulk length". Points to static storage or
     * to err_buf; valid until resp_parser_reset() or deinit. */
    const char *err;
    char err_buf[48];
};

/* Initialise p with Redis's default limits and an empty buffer. */
void resp_parser_init(struct resp_parser *p);

/* Free the buffers of p; p may be initialised again afterwards. */
void resp_parser_deinit(struct resp_parser *p);

/*
 * Append len bytes of data (data may be NULL when len is 0), then parse the
 * next command from the buffer.
 *
 * Returns RESP_OK with p->argc/p->argv set (argc >= 1: empty commands such as
 * "*0\r\n" or a blank inline line are skipped silently, as Redis does),
 * RESP_INCOMPLETE when more bytes are needed, or RESP_EPROTO with p->err set.
 * After RESP_EPROTO the parser is unusable until resp_parser_reset() (further
 * calls return RESP_EPROTO again). RK_ENOMEM if the bytes could not be
 * buffered (nothing was appended; treat it like RESP_EPROTO). Call again
 * with (NULL, 0) to get the next pipelined command. Every call invalidates
 * the argv of the previous RESP_OK.
 */
int resp_parse(struct resp_parser *p, const char *data, size_t len);

/*
 * Return a writable area of at least want bytes at the end of the buffer,
 * for reading straight from a socket; *avail receives its full size. The
 * pointer stays valid until the next call on p. NULL on allocation failure.
 * While a bulk argument of RESP_BIG_ARG bytes or more is being received, the
 * area covers the rest of that argument and its CRLF plus want, so a big
 * value is read into its final place with no copy and no regrowth.
 * This may move the buffer: earlier argv views become invalid.
 */
char *resp_parser_space(struct resp_parser *p, size_t want, size_t *avail);

/* Record that n bytes were written into the area from resp_parser_space(). */
void resp_parser_commit(struct resp_parser *p, size_t n);

/* Bytes buffered but not yet consumed (for client-query-buffer-limit). */
size_t resp_parser_pending(const struct resp_parser *p);

/* Bytes allocated by the parser (query buffer plus argument arrays). */
size_t resp_parser_memory(const struct resp_parser *p);

/* Drop all buffered bytes and parse state; keeps limits. */
void resp_parser_reset(struct resp_parser *p);

/*
 * Give back memory an idle parser does not need (for a periodic timer, like
 * Redis's clientsCronResizeQueryBuffer): the query buffer shrinks to its
 * pending bytes (freed when there are none) and the argv array is freed
 * between commands. Invalidates argv, like resp_parse().
 */
void resp_parser_shrink(struct resp_parser *p);

/*
 * Reply writer: a growable byte buffer with RESP2 encoders. Every add
 * function returns RK_OK or RK_ENOMEM (the buffer is unchanged then).
 */
struct resp_buf {
    char *ptr;
    size_t len;
    size_t cap;
    unsigned resp3 : 1;   /* encode for RESP3 (HELLO 3): nulls, maps and
                           * verbatim strings differ; kept by
                           * resp_buf_deinit() */
};

/* Start empty; nothing is allocated before the first add. */
void resp_buf_init(struct resp_buf *b);
/* Free the bytes; b may be initialised (or deinitialised) again. */
void resp_buf_deinit(struct resp_buf *b);
/* Forget the contents but keep the allocation. */
static inline void
resp_buf_clear(struct resp_buf *b)
{
    b->len = 0;
}
/* Make room for n more bytes; returns a pointer to them (the caller writes
 * there, then adds what it wrote to b->len) or NULL on allocation failure.
 * Valid until the next call that grows b. */
char *resp_buf_reserve(struct resp_buf *b, size_t n);
/* Drop the first n bytes, n <= b->len (after they were written to a
 * socket); the rest moves to the front. */
void resp_buf_consume(struct resp_buf *b, size_t n);

/* n bytes as they are (p may be NULL when n is 0). */
int resp_add_raw(struct resp_buf *b, const void *p, size_t n);
/* "+s\r\n"; s must not contain CR or LF. */
int resp_add_status(struct resp_buf *b, const char *s);
/* "-msg\r\n" exactly as given (the caller adds the "ERR " code); CR and LF
 * inside msg are replaced with spaces. */
int resp_add_error(struct resp_buf *b, const char *msg, size_t len);
int resp_add_int(struct resp_buf *b, long long v);                 /* ":v" */
int resp_add_bulk(struct resp_buf *b, const void *p, size_t n);    /* "$n" */
int resp_add_bulk_str(struct resp_buf *b, const char *s);         /* C string */
int resp_add_bulk_ll(struct resp_buf *b, long long v);             /* as text */
int resp_add_null(struct resp_buf *b);                /* "$-1", RESP3 "_" */
int resp_add_null_array(struct resp_buf *b);          /* "*-1", RESP3 "_" */
int resp_add_array(struct resp_buf *b, long long n);               /* "*n" */
/* A map of n pairs: "%n" in RESP3, a flat array "*2n" in RESP2. */
int resp_add_map(struct resp_buf *b, long long n);
/* A verbatim string of format fmt (3 letters, e.g. "txt"): "=" in RESP3,
 * a bulk string in RESP2. */
int resp_add_verbatim(struct resp_buf *b, const char *fmt, const void *p,
                      size_t n);

/* Buffer size resp_format_ld() needs for any long double
 * (MAX_LONG_DOUBLE_CHARS in Redis). */
#define RESP_LD_MAX_CHARS (5 * 1024)

/*
 * Parse s[0, n) exactly as Redis's string2ll(): optional '-', no '+', no
 * spaces, no leading zeros (except "0" itself), no "-0", at most 20 chars,
 * must fit a long long. Returns 1 with *out set, or 0.
 */
int resp_str2ll(const char *s, size_t n, long long *out);

/*
 * Format v the way Redis's INCRBYFLOAT and HINCRBYFLOAT do (ld2string() with
 * LD_STR_HUMAN): "%.17Lf", then trailing zeros after the point and a bare
 * point removed, "-0" written as "0", infinities as "inf"/"-inf"; never an
 * exponent. Writes a NUL-terminated string into out and returns its length.
 * 64 bytes hold every |v| < 1e44; RESP_LD_MAX_CHARS holds any value. Returns
 * RK_ERR (out set to "" when cap > 0) when the text does not fit in cap.
 */
int resp_format_ld(char *out, size_t cap, long double v);

#endif /* RESP_H */
