/*
 * tests/fuzz/fuzz_resp.c - libFuzzer target for the RESP2 request parser.
 *
 * The first bytes of the input choose the limits and a seed; the rest is
 * parsed twice: once in a single piece and once in pseudo-random pieces
 * (alternating the copy path and the resp_parser_space() path). Every
 * RESP_OK must hold argc >= 1 arguments that lie inside the consumed part
 * of the buffer, every error must carry a "Protocol error: " text, and
 * because the input stays below Redis's 64 KB line limits the two runs must
 * produce exactly the same commands and the same final state. Built by
 * scripts/fuzz.
 */
#include "resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Abort (so libFuzzer reports a crash) when an invariant breaks. */
#define FUZZ_CHECK(cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            abort();                                                      \
        }                                                                 \
    } while (0)

/* Inputs longer than this could hit the 64 KB limits, whose outcome
 * depends on how the bytes arrive; they are cut. */
#define FUZZ_MAX_INPUT (60 * 1024)

struct outcome {
    struct resp_buf cmds;   /* commands, re-encoded as RESP */
    int status;             /* final RESP_INCOMPLETE or RESP_EPROTO */
    const char *err;        /* static or copied error text */
    char err_copy[64];
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

/* Check a RESP_OK and append the command to o. */
static void
take(struct outcome *o, const struct resp_parser *p)
{
    size_t i;

    FUZZ_CHECK(p->argc >= 1);
    FUZZ_CHECK(p->argv != NULL);
    FUZZ_CHECK(resp_add_array(&o->cmds, (long long)p->argc) == RK_OK);
    for (i = 0; i < p->argc; i++) {
        const char *a = p->argv[i].ptr;
        size_t n = p->argv[i].len;

        FUZZ_CHECK(a != NULL);
        FUZZ_CHECK(a >= p->buf && a <= p->buf + p->pos);
        FUZZ_CHECK(n <= (size_t)(p->buf + p->pos - a));
        FUZZ_CHECK(resp_add_bulk(&o->cmds, a, n) == RK_OK);
    }
}

/* Drain after new bytes: returns 1 while more bytes may be fed. */
static int
drain(struct outcome *o, struct resp_parser *p, int rc)
{
    while (rc == RESP_OK) {
        take(o, p);
        rc = resp_parse(p, NULL, 0);
    }
    FUZZ_CHECK(rc == RESP_INCOMPLETE || rc == RESP_EPROTO);
    FUZZ_CHECK(p->pos <= p->len && p->len <= p->cap);
    o->status = rc;
    if (rc == RESP_EPROTO) {
        size_t n;

        FUZZ_CHECK(p->err != NULL);
        FUZZ_CHECK(strncmp(p->err, "Protocol error: ", 16) == 0);
        n = strlen(p->err);
        FUZZ_CHECK(n < sizeof(o->err_copy));
        memcpy(o->err_copy, p->err, n + 1);
        o->err = o->err_copy;
        FUZZ_CHECK(resp_parse(p, NULL, 0) == RESP_EPROTO);
        return 0;
    }
    return 1;
}

static void
parse_all(struct outcome *o, const uint8_t *data, size_t size, int unauth,
          uint64_t max_bulk, uint64_t seed, int split)
{
    struct resp_parser p;
    size_t at = 0;

    memset(o, 0, sizeof(*o));
    resp_buf_init(&o->cmds);
    o->status = RESP_INCOMPLETE;
    resp_parser_init(&p);
    p.unauth = unauth ? 1 : 0;
    p.max_bulk = max_bulk;
    while (at < size) {
        size_t n = size - at;
        int rc;

        if (split) {
            uint64_t r = next_rand(&seed);
            size_t cap = (r & 3) == 0 ? 1 : (r & 3) == 1 ? 7 : 600;

            n = 1 + (size_t)((r >> 8) % cap);
            if (n > size - at) {
                n = size - at;
            }
        }
        if (split && (seed & 0x100) != 0) {
            size_t avail = 0;
            char *dst = resp_parser_space(&p, n, &avail);

            FUZZ_CHECK(dst != NULL && avail >= n);
            memcpy(dst, data + at, n);
            resp_parser_commit(&p, n);
            rc = resp_parse(&p, NULL, 0);
        } else {
            rc = resp_parse(&p, (const char *)data + at, n);
        }
        at += n;
        if (!drain(o, &p, rc)) {
            break;
        }
        FUZZ_CHECK(resp_parser_pending(&p) <= at);
        FUZZ_CHECK(resp_parser_memory(&p) >= resp_parser_pending(&p));
        if (split && (seed & 0xf000) == 0) {
            resp_parser_shrink(&p);
        }
    }
    o->pending = o->status == RESP_INCOMPLETE ? resp_parser_pending(&p) : 0;
    resp_parser_deinit(&p);
    /* A reset parser works again. */
    resp_parser_init(&p);
    FUZZ_CHECK(resp_parse(&p, "PING\r\n", 6) == RESP_OK && p.argc == 1);
    resp_parser_reset(&p);
    resp_parser_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome whole, pieces;
    uint64_t seed = 0x9e3779b97f4a7c15ull, max_bulk;
    int unauth;
    size_t i;

    if (size < 2) {
        return 0;
    }
    /* Byte 0: limits; byte 1: seed. Keep bulks small so that a claimed
     * length does not make every run allocate hundreds of megabytes. */
    unauth = (data[0] & 1) != 0;
    max_bulk = (data[0] & 2) != 0 ? 64 : 1024 * 1024;
    for (i = 0; i < 8; i++) {
        seed = seed * 31 + data[1] + i;
    }
    seed |= 1;
    data += 2;
    size -= 2;
    if (size > FUZZ_MAX_INPUT) {
        size = FUZZ_MAX_INPUT;
    }

    parse_all(&whole, data, size, unauth, max_bulk, seed, 0);
    parse_all(&pieces, data, size, unauth, max_bulk, seed, 1);
    FUZZ_CHECK(whole.status == pieces.status);
    FUZZ_CHECK(whole.cmds.len == pieces.cmds.len);
    FUZZ_CHECK(whole.cmds.len == 0 ||
               memcmp(whole.cmds.ptr, pieces.cmds.ptr, whole.cmds.len) == 0);
    FUZZ_CHECK(whole.pending == pieces.pending);
    if (whole.status == RESP_EPROTO) {
        FUZZ_CHECK(strcmp(whole.err, pieces.err) == 0);
    }
    resp_buf_deinit(&whole.cmds);
    resp_buf_deinit(&pieces.cmds);
    return 0;
}
