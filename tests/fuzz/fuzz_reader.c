/*
 * tests/fuzz/fuzz_reader.c - libFuzzer target for the RESP reply reader.
 *
 * Byte 0 of the input chooses the limits, byte 1 a seed; the rest is read
 * twice: once in a single piece and once in pseudo-random pieces
 * (alternating resp_reader_feed() and the resp_reader_space() path, with a
 * next() after each piece). Every reply tree is walked and its invariants
 * checked (known types, strings inside the consumed buffer, element arrays
 * present exactly when counted, maps with pairs), then written back as
 * RESP; that text must read back as the same reply. Both runs must give
 * the same replies, the same final state and the same error text. Built
 * by scripts/fuzz.
 */
#include "reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abort (so libFuzzer reports a crash) when an invariant breaks. */
#define FUZZ_CHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            abort();                                                      \
        }                                                                 \
    } while (0)

#define FUZZ_MAX_INPUT (64 * 1024)

struct outcome {
    struct resp_buf replies;    /* every reply, written back as RESP */
    int status;                 /* final RESP_INCOMPLETE or RESP_EPROTO */
    char err[64];               /* copy of the error text */
    size_t pending;
};

static uint64_t
next_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void
add_raw(struct resp_buf *b, const void *p, size_t n)
{
    FUZZ_CHECK(resp_add_raw(b, p, n) == RK_OK);
}

/* "<c><v>\r\n" */
static void
add_num(struct resp_buf *b, char c, long long v)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%c%lld\r\n", c, v);

    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line));
    add_raw(b, line, (size_t)n);
}

/* Check node v of a reply of r and write it back as RESP into b. */
static void
walk(struct resp_buf *b, const struct resp_reply *v,
     const struct resp_reader *r, int depth)
{
    int strtype;
    size_t i;

    FUZZ_CHECK(depth <= RESP_READER_MAX_DEPTH);
    FUZZ_CHECK(v->type >= RESP_REPLY_STATUS && v->type <= RESP_REPLY_PUSH);
    strtype = v->type == RESP_REPLY_STATUS || v->type == RESP_REPLY_ERROR ||
              v->type == RESP_REPLY_BULK || v->type == RESP_REPLY_VERBATIM ||
              v->type == RESP_REPLY_BIGNUM || v->type == RESP_REPLY_DOUBLE;
    if (strtype) {
        FUZZ_CHECK(v->str.ptr != NULL);
        FUZZ_CHECK(v->str.ptr >= r->buf && v->str.ptr <= r->buf + r->pos);
        FUZZ_CHECK(v->str.len <= (size_t)(r->buf + r->pos - v->str.ptr));
        FUZZ_CHECK(v->str.len <= (v->type == RESP_REPLY_DOUBLE
                                  ? RESP_READER_MAX_NUMLINE
                                  : r->max_bulk));
    } else {
        FUZZ_CHECK(v->str.ptr == NULL && v->str.len == 0);
    }
    switch (v->type) {
    case RESP_REPLY_STATUS:
        FUZZ_CHECK(v->integer == 0);
        add_raw(b, "+", 1);
        add_raw(b, v->str.ptr, v->str.len);
        add_raw(b, "\r\n", 2);
        break;
    case RESP_REPLY_ERROR:
        /* As a blob error: a "-" line cannot carry every byte. */
        add_num(b, '!', (long long)v->str.len);
        add_raw(b, v->str.ptr, v->str.len);
        add_raw(b, "\r\n", 2);
        break;
    case RESP_REPLY_INTEGER:
        add_num(b, ':', v->integer);
        break;
    case RESP_REPLY_BULK:
        FUZZ_CHECK(resp_add_bulk(b, v->str.ptr, v->str.len) == RK_OK);
        break;
    case RESP_REPLY_NIL:
        add_raw(b, "$-1\r\n", 5);
        break;
    case RESP_REPLY_NIL_ARRAY:
        add_raw(b, "*-1\r\n", 5);
        break;
    case RESP_REPLY_NULL:
        add_raw(b, "_\r\n", 3);
        break;
    case RESP_REPLY_DOUBLE:
        FUZZ_CHECK(v->str.len > 0 && v->str.len <= RESP_READER_MAX_NUMLINE);
        add_raw(b, ",", 1);
        add_raw(b, v->str.ptr, v->str.len);
        add_raw(b, "\r\n", 2);
        break;
    case RESP_REPLY_BOOL:
        FUZZ_CHECK(v->integer == 0 || v->integer == 1);
        add_raw(b, v->integer ? "#t\r\n" : "#f\r\n", 4);
        break;
    case RESP_REPLY_VERBATIM:
        FUZZ_CHECK(v->vtype[3] == '\0');
        FUZZ_CHECK(v->str.ptr - 4 >= r->buf && v->str.ptr[-1] == ':');
        add_num(b, '=', (long long)v->str.len + 4);
        add_raw(b, v->vtype, 3);
        add_raw(b, ":", 1);
        add_raw(b, v->str.ptr, v->str.len);
        add_raw(b, "\r\n", 2);
        break;
    case RESP_REPLY_BIGNUM:
        FUZZ_CHECK(v->str.len > 0);
        add_raw(b, "(", 1);
        add_raw(b, v->str.ptr, v->str.len);
        add_raw(b, "\r\n", 2);
        break;
    default:
        FUZZ_CHECK(v->type == RESP_REPLY_ARRAY ||
                   v->type == RESP_REPLY_MAP ||
                   v->type == RESP_REPLY_SET || v->type == RESP_REPLY_PUSH);
        FUZZ_CHECK((v->n == 0) == (v->elem == NULL));
        FUZZ_CHECK(v->n <= r->max_elements);
        if (v->type == RESP_REPLY_MAP) {
            FUZZ_CHECK(v->n % 2 == 0);
            add_num(b, '%', (long long)(v->n / 2));
        } else {
            add_num(b, v->type == RESP_REPLY_ARRAY ? '*'
                     : v->type == RESP_REPLY_SET ? '~' : '>',
                    (long long)v->n);
        }
        for (i = 0; i < v->n; i++) {
            walk(b, &v->elem[i], r, depth + 1);
        }
        return;
    }
    FUZZ_CHECK(v->n == 0 && v->elem == NULL);
}

/* The text a reply was written back as reads back as the same reply. */
static void
reread(const char *text, size_t n, const struct resp_reader *like)
{
    struct resp_reader r;
    const struct resp_reply *v;
    struct resp_buf again;

    resp_reader_init(&r);
    r.max_bulk = like->max_bulk;
    r.max_elements = like->max_elements;
    FUZZ_CHECK(resp_reader_feed(&r, text, n) == RK_OK);
    FUZZ_CHECK(resp_reader_next(&r, &v) == RESP_OK);
    resp_buf_init(&again);
    walk(&again, v, &r, 0);
    FUZZ_CHECK(again.len == n && memcmp(again.ptr, text, n) == 0);
    FUZZ_CHECK(resp_reader_pending(&r) == 0);
    FUZZ_CHECK(resp_reader_next(&r, &v) == RESP_INCOMPLETE && v == NULL);
    resp_buf_deinit(&again);
    resp_reader_deinit(&r);
}

/* Take every complete reply; returns 1 while more bytes may be fed. */
static int
drain(struct outcome *o, struct resp_reader *r, int check_reread)
{
    const struct resp_reply *v;
    int rc;

    while ((rc = resp_reader_next(r, &v)) == RESP_OK) {
        size_t mark = o->replies.len;

        FUZZ_CHECK(v != NULL);
        walk(&o->replies, v, r, 0);
        if (check_reread) {
            reread(o->replies.ptr + mark, o->replies.len - mark, r);
        }
    }
    FUZZ_CHECK(v == NULL);
    FUZZ_CHECK(rc == RESP_INCOMPLETE || rc == RESP_EPROTO);
    FUZZ_CHECK(r->pos <= r->len && r->len <= r->cap);
    o->status = rc;
    if (rc == RESP_EPROTO) {
        size_t n;

        FUZZ_CHECK(r->err != NULL);
        FUZZ_CHECK(strncmp(r->err, "Protocol error: ", 16) == 0);
        n = strlen(r->err);
        FUZZ_CHECK(n < sizeof(o->err));
        memcpy(o->err, r->err, n + 1);
        FUZZ_CHECK(resp_reader_next(r, &v) == RESP_EPROTO && v == NULL);
        FUZZ_CHECK(resp_reader_feed(r, "+OK\r\n", 5) == RESP_EPROTO);
        return 0;
    }
    return 1;
}

static void
read_all(struct outcome *o, const uint8_t *data, size_t size,
         uint64_t max_bulk, uint64_t max_elements, uint64_t seed, int split)
{
    struct resp_reader r;
    const struct resp_reply *v;
    size_t at = 0;

    memset(o, 0, sizeof(*o));
    resp_buf_init(&o->replies);
    o->status = RESP_INCOMPLETE;
    resp_reader_init(&r);
    r.max_bulk = max_bulk;
    r.max_elements = max_elements;
    while (at < size) {
        size_t n = size - at;

        if (split) {
            uint64_t x = next_rand(&seed);
            size_t cap = (x & 3) == 0 ? 1 : (x & 3) == 1 ? 7 : 600;

            n = 1 + (size_t)((x >> 8) % cap);
            if (n > size - at) {
                n = size - at;
            }
        }
        if (split && (seed & 0x100) != 0) {
            size_t avail = 0;
            char *dst = resp_reader_space(&r, n, &avail);

            FUZZ_CHECK(dst != NULL && avail >= n);
            memcpy(dst, data + at, n);
            resp_reader_commit(&r, n);
        } else {
            FUZZ_CHECK(resp_reader_feed(&r, (const char *)data + at, n) ==
                       RK_OK);
        }
        at += n;
        if (!drain(o, &r, !split)) {
            break;
        }
        FUZZ_CHECK(resp_reader_pending(&r) <= at);
        FUZZ_CHECK(resp_reader_memory(&r) >= resp_reader_pending(&r));
    }
    o->pending = o->status == RESP_INCOMPLETE ? resp_reader_pending(&r) : 0;
    /* A reset reader works again. */
    resp_reader_reset(&r);
    FUZZ_CHECK(resp_reader_feed(&r, "*1\r\n+OK\r\n", 9) == RK_OK);
    FUZZ_CHECK(resp_reader_next(&r, &v) == RESP_OK);
    FUZZ_CHECK(v->type == RESP_REPLY_ARRAY && v->n == 1);
    resp_reader_deinit(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t bulks[] = { 16, 64, 4096, 1024 * 1024 };
    static const uint64_t elems[] = { 3, 16, 1024,
                                      RESP_READER_DEFAULT_MAX_ELEM };
    struct outcome whole, pieces;
    uint64_t seed = 0x9e3779b97f4a7c15ull, max_bulk, max_elements;
    size_t i;

    if (size < 2) {
        return 0;
    }
    /* Byte 0: limits; byte 1: seed of the chunking. */
    max_bulk = bulks[data[0] & 3];
    max_elements = elems[(data[0] >> 2) & 3];
    for (i = 0; i < 8; i++) {
        seed = seed * 31 + data[1] + i;
    }
    seed |= 1;
    data += 2;
    size -= 2;
    if (size > FUZZ_MAX_INPUT) {
        size = FUZZ_MAX_INPUT;
    }

    read_all(&whole, data, size, max_bulk, max_elements, seed, 0);
    read_all(&pieces, data, size, max_bulk, max_elements, seed, 1);
    FUZZ_CHECK(whole.status == pieces.status);
    FUZZ_CHECK(whole.replies.len == pieces.replies.len);
    FUZZ_CHECK(whole.replies.len == 0 ||
               memcmp(whole.replies.ptr, pieces.replies.ptr,
                      whole.replies.len) == 0);
    FUZZ_CHECK(whole.pending == pieces.pending);
    FUZZ_CHECK(strcmp(whole.err, pieces.err) == 0);
    resp_buf_deinit(&whole.replies);
    resp_buf_deinit(&pieces.replies);
    return 0;
}
