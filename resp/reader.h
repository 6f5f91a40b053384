/*
 * resp/reader.h - incremental RESP reply reader (RESP2, and RESP3 so that a
 * peer switched to HELLO 3 is still understood).
 *
 * Nodes talk RESP2 to each other on the cluster port; this is the reading
 * side of that link. Bytes are appended to the reader's buffer (copied in by
 * resp_reader_feed(), or read straight into resp_reader_space()), and each
 * RESP_OK of resp_reader_next() hands out one complete reply as a tree of
 * struct resp_reply. The tree and every string in it belong to the reader:
 * nodes live in an arena that is reused for the next reply, strings are
 * views into the input buffer. Parse state (open aggregates, the position
 * of the line search, the length of the bulk being received) is kept across
 * calls, so every input byte is examined once however it is split. Depends
 * on libc only.
 */
#ifndef RESP_READER_H
#define RESP_READER_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"   /* RESP_OK, RESP_INCOMPLETE, RESP_EPROTO */
#include "rk.h"

/* Reply types (struct resp_reply.type); 0 is never used. */
#define RESP_REPLY_STATUS     1   /* "+": str */
#define RESP_REPLY_ERROR      2   /* "-", RESP3 blob error "!": str */
#define RESP_REPLY_INTEGER    3   /* ":": integer */
#define RESP_REPLY_BULK       4   /* "$": str (binary, may be empty) */
#define RESP_REPLY_NIL        5   /* "$-1" */
#define RESP_REPLY_ARRAY      6   /* "*": n elements in elem */
#define RESP_REPLY_NIL_ARRAY  7   /* "*-1" */
#define RESP_REPLY_MAP        8   /* RESP3 "%": n = 2 * pairs, key first */
#define RESP_REPLY_NULL       9   /* RESP3 "_" */
#define RESP_REPLY_DOUBLE    10   /* RESP3 ",": dval; str is the text */
#define RESP_REPLY_BOOL      11   /* RESP3 "#": integer is 1 or 0 */
#define RESP_REPLY_VERBATIM  12   /* RESP3 "=": vtype ("txt"), str after
                                   * the "txt:" prefix */
#define RESP_REPLY_BIGNUM    13   /* RESP3 "(": str holds the digits */
#define RESP_REPLY_SET       14   /* RESP3 "~": n elements */
#define RESP_REPLY_PUSH      15   /* RESP3 ">": n elements */

/* Limits. Nesting is fixed; the others are fields of the reader. */
#define RESP_READER_MAX_DEPTH        32    /* open aggregates, attributes
                                            * included */
#define RESP_READER_DEFAULT_MAX_ELEM (1024 * 1024) /* per aggregate */
/* Header lines (lengths, integers, doubles, booleans) longer than this are
 * rejected before their CRLF arrives; "+", "-" and "(" lines may be as long
 * as max_bulk. */
#define RESP_READER_MAX_NUMLINE      512

/*
 * One node of a reply. Fields that do not apply to the type are 0, NULL or
 * an empty slice. str.ptr is NULL only for types without a string; an empty
 * bulk has a non-NULL ptr and len 0. Strings are not NUL-terminated and may
 * hold any byte.
 */
struct resp_reply {
    int type;                   /* RESP_REPLY_* */
    char vtype[4];              /* VERBATIM: the 3 format bytes as
                                 * sent ("txt", "mkd"), then a NUL */
    long long integer;          /* INTEGER value; BOOL 1 or 0 */
    double dval;                /* DOUBLE value */
    struct rk_slice str;        /* STATUS, ERROR, BULK, VERBATIM, BIGNUM,
                                 * DOUBLE */
    size_t n;                   /* ARRAY, MAP, SET, PUSH: element count */
    struct resp_reply *elem;    /* the n elements (NULL when n is 0) */
};

/* A run of reply nodes in the arena (private). */
struct resp_reader_block;

/* An aggregate being filled (private). */
struct resp_reader_frame {
    struct resp_reply *agg;     /* node whose elem is being filled */
    size_t filled;              /* elements complete */
    size_t cap;                 /* elements allocated in agg->elem */
    unsigned attr : 1;          /* RESP3 attribute: dropped when done */
};

struct resp_reader {
    /* Input buffer: bytes [pos, len) are not yet consumed; pos is where the
     * reply being parsed begins. Read-only for callers. */
    char *buf;
    size_t len;
    size_t cap;
    size_t pos;

    /* Limits; set by resp_reader_init(), may be changed between replies. */
    uint64_t max_bulk;          /* largest bulk or line; default
                                 * RESP_DEFAULT_MAX_BULK */
    uint64_t max_elements;      /* largest aggregate (a map of p pairs
                                 * counts 2p); default
                                 * RESP_READER_DEFAULT_MAX_ELEM */

    /* Private parse state, kept across calls. */
    unsigned failed : 1;        /* RESP_EPROTO or RK_ENOMEM returned */
    unsigned returned : 1;      /* a reply is out: reset the arena first */
    unsigned in_bulk : 1;       /* header read, waiting for the payload */
    int bulk_type;              /* '$', '=' or '!' while in_bulk */
    uint64_t bulk_len;          /* payload length while in_bulk */
    size_t off;                 /* parse cursor, relative to pos */
    size_t scan;                /* line-end search resumes here (rel. pos) */
    int depth;                  /* open aggregates in frames */
    struct resp_reader_frame frames[RESP_READER_MAX_DEPTH];
    struct resp_reply root;     /* the reply handed out */
    struct resp_reader_block *blocks;   /* arena, first block */
    struct resp_reader_block *cur;      /* block being allocated from */

    /* Text of the last RESP_EPROTO, e.g. "Protocol error: invalid bulk
     * length" (or "out of memory"). Static storage or err_buf; valid until
     * resp_reader_reset() or deinit. */
    const char *err;
    char err_buf[64];
};

/* Initialise r with the default limits; nothing is allocated yet. */
void resp_reader_init(struct resp_reader *r);

/* Free the buffer and the arena of r; r may be initialised again. */
void resp_reader_deinit(struct resp_reader *r);

/*
 * Append len bytes of data (data may be NULL when len is 0); call
 * resp_reader_next() afterwards. Returns RK_OK, RK_ENOMEM (nothing was
 * appended; the reader is still usable but the bytes are lost, so the
 * connection should be dropped), or RESP_EPROTO when an earlier call failed
 * (the bytes are dropped). Invalidates the last reply handed out.
 */
int resp_reader_feed(struct resp_reader *r, const char *data, size_t len);

/*
 * Return a writable area of at least want bytes at the end of the buffer,
 * for reading straight from a socket; *avail receives its full size. While
 * a bulk of RESP_BIG_ARG bytes or more is being received the area covers
 * the rest of it and its CRLF plus want, so a big value is read in place
 * with no regrowth. The
 * pointer stays valid until the next call on r. NULL when allocation
 * failed. Invalidates the last reply handed out.
 */
char *resp_reader_space(struct resp_reader *r, size_t want, size_t *avail);

/* Record that n bytes were written into the area from resp_reader_space(). */
void resp_reader_commit(struct resp_reader *r, size_t n);

/*
 * Parse the next reply from the buffered bytes.
 *
 * Returns RESP_OK with *out set to the reply; the tree, its strings and
 * *out are owned by r, read-only, and valid until the next call of any
 * resp_reader_* function on r. Returns RESP_INCOMPLETE when more bytes are
 * needed (*out is NULL; the parse state is kept, so nothing is scanned
 * again), RESP_EPROTO with r->err set on malformed input or a limit
 * exceeded, or RK_ENOMEM (r->err is "out of memory"). After RESP_EPROTO or
 * RK_ENOMEM the reader is unusable until resp_reader_reset(): every call
 * returns the same code again. Pipelined replies come out one per call, in
 * order; RESP3 attributes ("|") are parsed and dropped.
 */
int resp_reader_next(struct resp_reader *r, const struct resp_reply **out);

/* Bytes buffered but not yet consumed by a returned reply. */
size_t resp_reader_pending(const struct resp_reader *r);

/* Bytes allocated by the reader (input buffer plus arena). */
size_t resp_reader_memory(const struct resp_reader *r);

/* Drop the buffered bytes, the parse state and a failure; keeps limits and
 * (small) allocations. Invalidates the last reply handed out. */
void resp_reader_reset(struct resp_reader *r);

/* Name of a RESP_REPLY_* type ("status", "map", ...), "unknown" for other
 * values; static storage. */
const char *resp_reply_type_name(int type);

#endif /* RESP_READER_H */
