/*
 * tests/unit/test_resp.c - Check suite for resp/: the RESP2 request parser
 * (every input split at every byte, pipelines, Redis 7's exact errors and
 * limits, inline quoting, binary-safe arguments, the space/commit path for
 * big bulks) and the reply writer (byte-exact output, resp_format_ld()).
 *
 * Expected outcomes were checked against redis-server 7.0.15. A parse run
 * is rendered as text: each command's arguments joined by '|' and closed by
 * ';' (bytes outside printable ASCII, and '|', ';', '\', written as \xHH),
 * then "+N" when the parser wants more bytes with N bytes pending, or
 * "-<error text>" after RESP_EPROTO.
 */
#include "resp.h"

#include <check.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

#define MB64 (64 * 1024)

/* An assertion that stays quiet when it holds: Check's own ck_assert*()
 * write to a pipe every time, which byte-by-byte loops cannot afford. */
#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);         \
        }                                                                 \
    } while (0)

/* How bytes reach the parser. */
enum feed_mode {
    FEED_COPY,  /* resp_parse(p, data, n) */
    FEED_SPACE  /* resp_parser_space() + memcpy + commit + resp_parse(NULL) */
};

struct run {
    struct resp_buf out;    /* rendered commands and final state */
    int status;             /* last resp_parse() result */
    int dead;               /* RESP_EPROTO seen: feed nothing more */
};

static void
out_str(struct resp_buf *out, const char *s)
{
    CHECK(resp_add_raw(out, s, strlen(s)) == RK_OK);
}

static void
out_arg(struct resp_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c > 0x7e || c == '|' || c == ';' || c == '\\') {
            char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

            CHECK(resp_add_raw(out, e, 4) == RK_OK);
        } else {
            CHECK(resp_add_raw(out, &s[i], 1) == RK_OK);
        }
    }
}

/* Check the invariants of a RESP_OK and render the command. */
static void
take_command(struct run *r, const struct resp_parser *p)
{
    size_t i;

    CHECK(p->argc >= 1);
    CHECK(p->argv != NULL);
    for (i = 0; i < p->argc; i++) {
        const char *a = p->argv[i].ptr;

        CHECK(a != NULL);
        CHECK(a >= p->buf && a + p->argv[i].len <= p->buf + p->pos);
        if (i > 0) {
            out_str(&r->out, "|");
        }
        out_arg(&r->out, a, p->argv[i].len);
    }
    out_str(&r->out, ";");
}

/* Deliver one chunk and drain every complete command. */
static void
feed(struct run *r, struct resp_parser *p, const char *d, size_t n,
     enum feed_mode mode)
{
    int rc;

    if (r->dead) {
        return;
    }
    if (mode == FEED_SPACE) {
        size_t avail = 0;
        char *dst = resp_parser_space(p, n, &avail);

        CHECK(dst != NULL);
        CHECK(avail >= n);
        CHECK(avail >= 1);
        if (n > 0) {
            memcpy(dst, d, n);
        }
        resp_parser_commit(p, n);
        rc = resp_parse(p, NULL, 0);
    } else {
        rc = resp_parse(p, d, n);
    }
    while (rc == RESP_OK) {
        take_command(r, p);
        rc = resp_parse(p, NULL, 0);
    }
    CHECK(rc == RESP_INCOMPLETE || rc == RESP_EPROTO);
    r->status = rc;
    if (rc == RESP_EPROTO) {
        CHECK(p->err != NULL);
        out_str(&r->out, "-");
        out_str(&r->out, p->err);
        r->dead = 1;
        /* The error sticks until resp_parser_reset(). */
        CHECK(resp_parse(p, NULL, 0) == RESP_EPROTO);
    }
}

/* Finish a run: add the pending count and return the text (caller frees). */
static char *
finish(struct run *r, const struct resp_parser *p)
{
    char tail[32];
    char *s;

    if (!r->dead) {
        ck_assert_int_eq(r->status, RESP_INCOMPLETE);
        snprintf(tail, sizeof(tail), "+%zu", resp_parser_pending(p));
        out_str(&r->out, tail);
    }
    s = malloc(r->out.len + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, r->out.ptr, r->out.len);
    s[r->out.len] = '\0';
    resp_buf_deinit(&r->out);
    return s;
}

/*
 * Parse in[0, n) delivered in pieces that end at the ncuts offsets in cuts
 * (increasing), with the given limits; return the rendered outcome.
 */
static char *
run_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts,
         enum feed_mode mode, int unauth, uint64_t max_bulk)
{
    struct resp_parser p;
    struct run r;
    size_t at = 0, i;
    char *s;

    resp_parser_init(&p);
    p.unauth = unauth ? 1 : 0;
    if (max_bulk != 0) {
        p.max_bulk = max_bulk;
    }
    memset(&r, 0, sizeof(r));
    resp_buf_init(&r.out);
    r.status = RESP_INCOMPLETE;
    for (i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;

        feed(&r, &p, in + at, end - at, mode);
        at = end;
    }
    s = finish(&r, &p);
    resp_parser_deinit(&p);
    return s;
}

/* Parse in[0, n) delivered in pieces of step bytes. */
static char *
run_step(const char *in, size_t n, size_t step, enum feed_mode mode,
         int unauth, uint64_t max_bulk)
{
    struct resp_parser p;
    struct run r;
    size_t at;
    char *s;

    resp_parser_init(&p);
    p.unauth = unauth ? 1 : 0;
    if (max_bulk != 0) {
        p.max_bulk = max_bulk;
    }
    memset(&r, 0, sizeof(r));
    resp_buf_init(&r.out);
    r.status = RESP_INCOMPLETE;
    for (at = 0; at < n; at += step) {
        feed(&r, &p, in + at, n - at < step ? n - at : step, mode);
    }
    s = finish(&r, &p);
    resp_parser_deinit(&p);
    return s;
}

/* ck_assert_str_eq(), with messages short enough for Check's pipe. */
static void
same_text(const char *got, const char *want)
{
    size_t i = 0;

    while (got[i] != '\0' && got[i] == want[i]) {
        i++;
    }
    if (got[i] != want[i]) {
        size_t from = i > 20 ? i - 20 : 0;

        ck_abort_msg("outcome differs at %zu: got \"%.60s\", want \"%.60s\"",
                     i, got + from, want + from);
    }
}

static void
expect_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts,
            enum feed_mode mode, int unauth, uint64_t max_bulk,
            const char *want)
{
    char *got = run_cuts(in, n, cuts, ncuts, mode, unauth, max_bulk);

    same_text(got, want);
    free(got);
}

static void
expect_step(const char *in, size_t n, size_t step, enum feed_mode mode,
            int unauth, uint64_t max_bulk, const char *want)
{
    char *got = run_step(in, n, step, mode, unauth, max_bulk);

    same_text(got, want);
    free(got);
}

/*
 * The input must give the same outcome however it is split: whole, every
 * 2-way split, every 3-way split (short inputs), byte by byte, through
 * both the copy and the space/commit paths.
 */
static void
expect_all_splits(const char *in, size_t n, int unauth, uint64_t max_bulk,
                  const char *want)
{
    int m;

    for (m = FEED_COPY; m <= FEED_SPACE; m++) {
        size_t cuts[2], i, j;

        expect_cuts(in, n, NULL, 0, m, unauth, max_bulk, want);
        expect_step(in, n, 1, m, unauth, max_bulk, want);
        for (i = 1; i < n; i++) {
            cuts[0] = i;
            expect_cuts(in, n, cuts, 1, m, unauth, max_bulk, want);
        }
        if (n > 80) {
            continue;
        }
        for (i = 1; i < n; i++) {
            for (j = i; j < n; j++) {
                cuts[0] = i;
                cuts[1] = j;
                expect_cuts(in, n, cuts, 2, m, unauth, max_bulk, want);
            }
        }
    }
}

/* A malloc'd buffer: prefix, then fill repeated count times, then suffix. */
static char *
make_input(const char *prefix, char fill, size_t count, const char *suffix,
           size_t *len)
{
    size_t a = strlen(prefix), c = strlen(suffix);
    char *s = malloc(a + count + c + 1);

    ck_assert_ptr_nonnull(s);
    memcpy(s, prefix, a);
    memset(s + a, fill, count);
    memcpy(s + a + count, suffix, c + 1);
    *len = a + count + c;
    return s;
}

/* ---------------------------------------------------------------------- */
/* Parser: table of inputs that must not depend on how they are split      */
/* ---------------------------------------------------------------------- */

#define S(lit) lit, sizeof(lit) - 1

struct split_case {
    const char *in;
    size_t len;
    int unauth;
    uint64_t max_bulk;      /* 0: default */
    const char *want;
};

static const struct split_case split_cases[] = {
    /* Plain multibulk and inline. */
    { S("*1\r\n$4\r\nPING\r\n"), 0, 0, "PING;+0" },
    { S("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), 0, 0,
      "SET|key|value;+0" },
    { S("PING\r\n"), 0, 0, "PING;+0" },
    { S("PING\n"), 0, 0, "PING;+0" },
    { S("  SET  a \t b \r\n"), 0, 0, "SET|a|b;+0" },
    { S("PING\nPING\r\nECHO x\n"), 0, 0, "PING;PING;ECHO|x;+0" },
    /* Pipelines with empty commands in between, all skipped. */
    { S("*1\r\n$4\r\nPING\r\nECHO hi\r\n*0\r\n*-1\r\n\r\n\n   \r\n"
        "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n*-5\r\n"),
      0, 0, "PING;ECHO|hi;ECHO|;+0" },
    { S("*0\r\n"), 0, 0, "+0" },
    { S("*-1\r\n"), 0, 0, "+0" },
    { S("*-9223372036854775808\r\nPING\r\n"), 0, 0, "PING;+0" },
    { S("\r\n\r\n\n"), 0, 0, "+0" },
    { S("\r\r\n"), 0, 0, "+0" },
    /* Incomplete tails stay pending. */
    { S("*2\r\n$3\r\nGET\r\n$3\r\nke"), 0, 0, "+19" },
    { S("PING\r\nPIN"), 0, 0, "PING;+3" },
    { S("*1\r\n$4\r\nPING\r\n*1\r"), 0, 0, "PING;+3" },
    { S("*2147483647\r\n"), 0, 0, "+13" },
    { S("*1\r\n$536870912\r\n"), 0, 0, "+16" },
    /* Binary-safe bulks: NUL, CR, LF inside. */
    { S("*2\r\n$3\r\nSET\r\n$7\r\na\0\r\n\nb\r\r\n"), 0, 0,
      "SET|a\\x00\\x0d\\x0a\\x0ab\\x0d;+0" },
    { S("*1\r\n$4\r\n\r\n\r\n\r\n"), 0, 0, "\\x0d\\x0a\\x0d\\x0a;+0" },
    { S("*1\r\n$0\r\n\r\n"), 0, 0, ";+0" },
    /* Redis never checks the byte after a header's CR, nor the two bytes
     * after a bulk. */
    { S("*1\r\n$4\r\nPINGab"), 0, 0, "PING;+0" },
    { S("*1\rX$4\rYPING\r\n"), 0, 0, "PING;+0" },
    /* Headers: digits as string2ll() takes them. */
    { S("*1\r\n$10\r\n0123456789\r\n"), 0, 0, "0123456789;+0" },
    /* Inline quoting (sdssplitargs). */
    { S("SET \"a b\" 'c d'\r\n"), 0, 0, "SET|a b|c d;+0" },
    { S("ECHO \"\\x41\\x4g\\n\\r\\t\\b\\a\\q\\\"\\\\\"\r\n"), 0, 0,
      "ECHO|Ax4g\\x0a\\x0d\\x09\\x08\\x07q\"\\x5c;+0" },
    { S("ECHO \"\\x\" \"\\xf\" \"\\xFf\"\r\n"), 0, 0,
      "ECHO|x|xf|\\xff;+0" },
    { S("ECHO 'it\\'s' 'a\\b' 'x\"y'\r\n"), 0, 0,
      "ECHO|it's|a\\x5cb|x\"y;+0" },
    { S("ECHO ab\"c d\" e'f g'\r\n"), 0, 0, "ECHO|abc d|ef g;+0" },
    { S("ECHO \"\" ''\r\n"), 0, 0, "ECHO||;+0" },
    { S("\"\"\r\n"), 0, 0, ";+0" },
    { S("ECHO \"a\"\x0b\"b\"\x0c'c'\r\n"), 0, 0, "ECHO|a|b|c;+0" },
    { S("\x0b" "ECHO\x0cx\r\n"), 0, 0, "ECHO\\x0cx;+0" },
    { S("ECHO x\ry\n"), 0, 0, "ECHO|x|y;+0" },
    { S("SET\ta\x0b" "b\tc\r\n"), 0, 0, "SET|a\\x0bb|c;+0" },
    { S("ECHO \"a\"\r\r\n"), 0, 0, "ECHO|a;+0" },
    { S("ECHO \"a\r\n\"\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("$3\r\n"), 0, 0, "$3;+0" },
    { S("ECHO \xff\x80\r\n"), 0, 0, "ECHO|\\xff\\x80;+0" },
    /* A NUL byte hides the line end (Redis's strchr()): wait. */
    { S("*1\0\r\n"), 0, 0, "+5" },
    { S("PING\0\n"), 0, 0, "+6" },
    { S("\0\n"), 0, 0, "+2" },
    { S("*1\r\n\0\r\n"), 0, 0, "+7" },
    { S("*1\r\n$4\0\r\n"), 0, 0, "+9" },
    { S("PING\r\nX\0Y\r\n"), 0, 0, "PING;+5" },

    /* Errors, with Redis's texts. */
    { S("*\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*01\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*-0\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*+1\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*1 \r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("* 1\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*x\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*-\r\n"), 0, 0, "-Protocol error: invalid multibulk length" },
    { S("*2147483648\r\n"), 0, 0,
      "-Protocol error: invalid multibulk length" },
    { S("*9223372036854775807\r\n"), 0, 0,
      "-Protocol error: invalid multibulk length" },
    { S("*-9223372036854775809\r\n"), 0, 0,
      "-Protocol error: invalid multibulk length" },
    { S("*000000000000000000001\r\n"), 0, 0,
      "-Protocol error: invalid multibulk length" },
    { S("PING\r\n*x\r\n"), 0, 0,
      "PING;-Protocol error: invalid multibulk length" },
    { S("*1\r\n$-1\r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$\r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$ 4\r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$+4\r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$04\r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$4 \r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$\xff\r\n"), 0, 0, "-Protocol error: invalid bulk length" },
    { S("*1\r\n$9223372036854775807\r\n"), 0, 0,
      "-Protocol error: invalid bulk length" },
    { S("*1\r\n$99999999999999999999\r\n"), 0, 0,
      "-Protocol error: invalid bulk length" },
    { S("*1\r\n$536870913\r\n"), 0, 0,
      "-Protocol error: invalid bulk length" },
    { S("*2\r\n$1\r\na\r\n$-5\r\n"), 0, 0,
      "-Protocol error: invalid bulk length" },
    { S("*1\r\n\r\n"), 0, 0, "-Protocol error: expected '$', got ' '" },
    { S("*1\r\n\n\r\n"), 0, 0, "-Protocol error: expected '$', got ' '" },
    { S("*1\r\nx\r\n"), 0, 0, "-Protocol error: expected '$', got 'x'" },
    { S("*1\r\n*1\r\n"), 0, 0, "-Protocol error: expected '$', got '*'" },
    { S("*1\r\n\xff\r\n"), 0, 0,
      "-Protocol error: expected '$', got '\xff'" },
    { S("*2\r\n$3\r\nGET\r\n:1\r\n"), 0, 0,
      "-Protocol error: expected '$', got ':'" },
    { S("ECHO \"a\"b\r\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("ECHO \"abc\r\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("ECHO 'abc\r\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("ECHO 'a'b\r\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("ECHO \"a\\\r\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("ECHO 'a\\'\r\n"), 0, 0,
      "-Protocol error: unbalanced quotes in request" },
    { S("PING\r\nECHO \"x\"\"y\"\r\nPING\r\n"), 0, 0,
      "PING;-Protocol error: unbalanced quotes in request" },

    /* Limits: max_bulk exactly and one over. */
    { S("*1\r\n$5\r\nhello\r\n"), 0, 5, "hello;+0" },
    { S("*1\r\n$6\r\nhello!\r\n"), 0, 5,
      "-Protocol error: invalid bulk length" },
    /* Unauthenticated clients: at most 10 arguments of 16384 bytes. */
    { S("*10\r\n$16384\r\n"), 1, 0, "+13" },
    { S("*11\r\n"), 1, 0,
      "-Protocol error: unauthenticated multibulk length" },
    { S("*11\r\n"), 0, 0, "+5" },
    { S("*10\r\n$16385\r\n"), 1, 0,
      "-Protocol error: unauthenticated bulk length" },
    { S("*10\r\n$16385\r\n"), 0, 0, "+13" },
    { S("*2147483648\r\n"), 1, 0,
      "-Protocol error: invalid multibulk length" },
    { S("*1\r\n$536870913\r\n"), 1, 0,
      "-Protocol error: invalid bulk length" },
    { S("*-1\r\n*1\r\n$4\r\nPING\r\n"), 1, 0, "PING;+0" },
};

START_TEST(parse_any_split)
{
    const struct split_case *c = &split_cases[_i];

    expect_all_splits(c->in, c->len, c->unauth, c->max_bulk, c->want);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Parser: single behaviours                                               */
/* ---------------------------------------------------------------------- */

START_TEST(bulk_split_across_reads)
{
    struct resp_parser p;

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, "*1\r\n$4\r\nPI", 10), RESP_INCOMPLETE);
    ck_assert_int_eq(resp_parse(&p, "NG\r\n", 4), RESP_OK);
    ck_assert_uint_eq(p.argc, 1);
    ck_assert_uint_eq(p.argv[0].len, 4);
    ck_assert(memcmp(p.argv[0].ptr, "PING", 4) == 0);
    ck_assert_int_eq(resp_parse(&p, NULL, 0), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_pending(&p), 0);
    resp_parser_deinit(&p);
}
END_TEST

START_TEST(pipeline_many)
{
    struct resp_parser p;
    struct resp_buf in;
    size_t i, got = 0;
    int rc;

    resp_buf_init(&in);
    for (i = 0; i < 5000; i++) {
        char key[32];
        int n = snprintf(key, sizeof(key), "key:%zu", i);

        CHECK(resp_add_array(&in, 3) == RK_OK);
        CHECK(resp_add_bulk_str(&in, "SET") == RK_OK);
        CHECK(resp_add_bulk(&in, key, (size_t)n) == RK_OK);
        CHECK(resp_add_bulk_ll(&in, (long long)i) == RK_OK);
        if (i % 7 == 0) {
            CHECK(resp_add_raw(&in, "PING\r\n", 6) == RK_OK);
        }
    }
    resp_parser_init(&p);
    /* Odd-sized reads so commands straddle every boundary. */
    for (i = 0; i < in.len; i += 997) {
        size_t n = in.len - i < 997 ? in.len - i : 997;

        rc = resp_parse(&p, in.ptr + i, n);
        while (rc == RESP_OK) {
            if (p.argc == 1) {
                CHECK(memcmp(p.argv[0].ptr, "PING", 4) == 0);
            } else {
                char key[32], val[32];
                int kn = snprintf(key, sizeof(key), "key:%zu", got);
                int vn = snprintf(val, sizeof(val), "%zu", got);

                CHECK(p.argc == 3);
                CHECK(p.argv[1].len == (size_t)kn);
                CHECK(memcmp(p.argv[1].ptr, key, (size_t)kn) == 0);
                CHECK(p.argv[2].len == (size_t)vn);
                CHECK(memcmp(p.argv[2].ptr, val, (size_t)vn) == 0);
                got++;
            }
            rc = resp_parse(&p, NULL, 0);
        }
        CHECK(rc == RESP_INCOMPLETE);
        /* The buffer never holds much more than one read. */
        CHECK(resp_parser_memory(&p) <= 64 * 1024);
    }
    CHECK(got == 5000);
    CHECK(resp_parser_pending(&p) == 0);
    resp_parser_deinit(&p);
    resp_buf_deinit(&in);
}
END_TEST

START_TEST(many_arguments)
{
    struct resp_parser p;
    struct resp_buf in;
    size_t i;
    int n = 5000;

    resp_buf_init(&in);
    CHECK(resp_add_array(&in, n) == RK_OK);
    for (i = 0; i < (size_t)n; i++) {
        CHECK(resp_add_bulk_ll(&in, (long long)i) == RK_OK);
    }
    resp_parser_init(&p);
    for (i = 0; i + 1 < in.len; i++) {
        CHECK(resp_parse(&p, in.ptr + i, 1) == RESP_INCOMPLETE);
    }
    CHECK(resp_parse(&p, in.ptr + i, 1) == RESP_OK);
    CHECK(p.argc == (size_t)n);
    for (i = 0; i < (size_t)n; i++) {
        char num[32];
        int k = snprintf(num, sizeof(num), "%zu", i);

        CHECK(p.argv[i].len == (size_t)k);
        CHECK(memcmp(p.argv[i].ptr, num, (size_t)k) == 0);
    }
    resp_parser_deinit(&p);
    resp_buf_deinit(&in);
}
END_TEST

START_TEST(huge_count_allocates_little)
{
    struct resp_parser p;

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, S("*2147483647\r\n$1\r\na\r\n")),
                     RESP_INCOMPLETE);
    ck_assert_uint_le(resp_parser_memory(&p), 64 * 1024);
    resp_parser_deinit(&p);
}
END_TEST

START_TEST(bulk_at_default_max)
{
    struct resp_parser p;

    resp_parser_init(&p);
    ck_assert_uint_eq(p.max_bulk, 512ull * 1024 * 1024);
    ck_assert_int_eq(resp_parse(&p, S("*1\r\n$536870912\r\n")),
                     RESP_INCOMPLETE);
    resp_parser_reset(&p);
    ck_assert_int_eq(resp_parse(&p, S("*1\r\n$536870913\r\n")), RESP_EPROTO);
    ck_assert_str_eq(p.err, "Protocol error: invalid bulk length");
    resp_parser_deinit(&p);
}
END_TEST

START_TEST(error_sticks_until_reset)
{
    struct resp_parser p;

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, S("*1\r\nx\r\n")), RESP_EPROTO);
    ck_assert_str_eq(p.err, "Protocol error: expected '$', got 'x'");
    ck_assert_int_eq(resp_parse(&p, S("PING\r\n")), RESP_EPROTO);
    resp_parser_reset(&p);
    ck_assert_ptr_null(p.err);
    ck_assert_uint_eq(resp_parser_pending(&p), 0);
    ck_assert_int_eq(resp_parse(&p, S("PING\r\n")), RESP_OK);
    ck_assert_uint_eq(p.argc, 1);
    resp_parser_deinit(&p);
}
END_TEST

START_TEST(reset_mid_command)
{
    struct resp_parser p;

    resp_parser_init(&p);
    p.unauth = 1;
    p.max_bulk = 1000;
    ck_assert_int_eq(resp_parse(&p, S("*3\r\n$3\r\nSET\r\n$1")),
                     RESP_INCOMPLETE);
    resp_parser_reset(&p);
    ck_assert_uint_eq(p.unauth, 1);
    ck_assert_uint_eq(p.max_bulk, 1000);
    ck_assert_int_eq(resp_parse(&p, S("*1\r\n$4\r\nPING\r\n")), RESP_OK);
    ck_assert_uint_eq(p.argc, 1);
    resp_parser_deinit(&p);
}
END_TEST

START_TEST(unauth_can_change)
{
    struct resp_parser p;

    resp_parser_init(&p);
    p.unauth = 1;
    ck_assert_int_eq(resp_parse(&p, S("AUTH x\r\n")), RESP_OK);
    p.unauth = 0;
    ck_assert_int_eq(resp_parse(&p, S("*11\r\n")), RESP_INCOMPLETE);
    resp_parser_deinit(&p);
}
END_TEST

START_TEST(pending_and_memory)
{
    struct resp_parser p;

    resp_parser_init(&p);
    ck_assert_uint_eq(resp_parser_pending(&p), 0);
    ck_assert_uint_eq(resp_parser_memory(&p), 0);
    ck_assert_int_eq(resp_parse(&p, S("PING\r\n*2\r\n$3\r\nGE")), RESP_OK);
    ck_assert_uint_eq(resp_parser_pending(&p), 10);
    ck_assert_uint_ge(resp_parser_memory(&p), 16);
    ck_assert_int_eq(resp_parse(&p, NULL, 0), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_parser_pending(&p), 10);
    ck_assert_int_eq(resp_parse(&p, S("T\r\n$1\r\nk\r\n")), RESP_OK);
    ck_assert_uint_eq(resp_parser_pending(&p), 0);
    resp_parser_shrink(&p);
    ck_assert_uint_eq(resp_parser_memory(&p), 0);
    /* Shrinking keeps a partial command. */
    ck_assert_int_eq(resp_parse(&p, S("*2\r\n$3\r\nGET\r\n$1\r")),
                     RESP_INCOMPLETE);
    resp_parser_shrink(&p);
    ck_assert_uint_eq(resp_parser_pending(&p), 16);
    ck_assert_int_eq(resp_parse(&p, S("\nk\r\n")), RESP_OK);
    ck_assert_uint_eq(p.argc, 2);
    ck_assert(memcmp(p.argv[0].ptr, "GET", 3) == 0);
    ck_assert(memcmp(p.argv[1].ptr, "k", 1) == 0);
    resp_parser_deinit(&p);
}
END_TEST

/* Inline arguments are unquoted in place, inside the consumed line. */
START_TEST(inline_views_in_buffer)
{
    struct resp_parser p;

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, S("SET \"k\\x00\" 'v v'\r\nX")), RESP_OK);
    ck_assert_uint_eq(p.argc, 3);
    ck_assert_uint_eq(p.argv[1].len, 2);
    ck_assert(memcmp(p.argv[1].ptr, "k\0", 2) == 0);
    ck_assert_uint_eq(p.argv[2].len, 3);
    ck_assert(memcmp(p.argv[2].ptr, "v v", 3) == 0);
    ck_assert(p.argv[0].ptr == p.buf);
    ck_assert_uint_eq(resp_parser_pending(&p), 1);
    resp_parser_deinit(&p);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Parser: inputs past 64 KB (outcome depends on the reads, as in Redis)  */
/* ---------------------------------------------------------------------- */

START_TEST(too_big_mbulk_count)
{
    size_t n;
    char *in = make_input("*", '1', MB64 - 1, "", &n);
    char *more = make_input("*", '1', MB64, "", &n);

    expect_step(in, MB64, MB64, FEED_COPY, 0, 0, "+65536");
    expect_step(in, MB64, 1, FEED_COPY, 0, 0, "+65536");
    expect_step(more, MB64 + 1, 16384, FEED_COPY, 0, 0,
                "-Protocol error: too big mbulk count string");
    expect_step(more, MB64 + 1, 1, FEED_SPACE, 0, 0,
                "-Protocol error: too big mbulk count string");
    free(in);
    free(more);
    /* All at once with its CR, the line is a (bad) number instead. */
    in = make_input("*", '1', MB64, "\r\n", &n);
    expect_step(in, n, n, FEED_COPY, 0, 0,
                "-Protocol error: invalid multibulk length");
    free(in);
}
END_TEST

START_TEST(too_big_bulk_count)
{
    size_t n;
    char *in = make_input("*1\r\n$", '1', MB64 - 1, "", &n);

    expect_step(in, n, 16384, FEED_COPY, 0, 0, "+65540");
    free(in);
    in = make_input("*1\r\n$", '1', MB64, "", &n);
    expect_step(in, n, 16384, FEED_COPY, 0, 0,
                "-Protocol error: too big bulk count string");
    expect_step(in, n, 1, FEED_COPY, 0, 0,
                "-Protocol error: too big bulk count string");
    free(in);
    /* Counted from the header, not from the command's start. */
    in = make_input("*2\r\n$1\r\na\r\n$", '1', MB64 - 1, "", &n);
    expect_step(in, n, 4096, FEED_SPACE, 0, 0, "+65547");
    free(in);
    in = make_input("*2\r\n$1\r\na\r\n$", '1', MB64, "", &n);
    expect_step(in, n, 4096, FEED_SPACE, 0, 0,
                "-Protocol error: too big bulk count string");
    free(in);
    /* A NUL hides the CR: the line waits for the limit. */
    in = make_input("*1\r\n", '\0', MB64 + 1, "\r\n", &n);
    expect_step(in, n, 16384, FEED_COPY, 0, 0,
                "-Protocol error: too big bulk count string");
    free(in);
}
END_TEST

START_TEST(too_big_inline)
{
    size_t n;
    char *in = make_input("", 'P', MB64, "", &n);
    char *want;

    expect_step(in, n, 1000, FEED_COPY, 0, 0, "+65536");
    free(in);
    in = make_input("", 'P', MB64 + 1, "", &n);
    expect_step(in, n, 16384, FEED_COPY, 0, 0,
                "-Protocol error: too big inline request");
    expect_step(in, n, 1, FEED_SPACE, 0, 0,
                "-Protocol error: too big inline request");
    free(in);
    /* With its line end in the same read, a long line is fine... */
    in = make_input("", 'P', MB64 + 1, "\r\n", &n);
    want = make_input("", 'P', MB64 + 1, ";+0", &n);
    expect_step(in, MB64 + 3, MB64 + 3, FEED_COPY, 0, 0, want);
    /* ...but not when the reads stop past the limit without one. */
    expect_step(in, MB64 + 3, MB64 + 1, FEED_COPY, 0, 0,
                "-Protocol error: too big inline request");
    free(in);
    free(want);
    /* After a command, the limit counts from the next one. */
    in = make_input("*1\r\n$4\r\nPING\r\n", 'A', MB64 + 1, "", &n);
    expect_step(in, n, 16384, FEED_COPY, 0, 0,
                "PING;-Protocol error: too big inline request");
    free(in);
    in = make_input("PING", 'A', MB64, "\r\n", &n);
    in[4] = '\0';
    expect_step(in, n, 16384, FEED_COPY, 0, 0,
                "-Protocol error: too big inline request");
    free(in);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Parser: big bulks through resp_parser_space()                          */
/* ---------------------------------------------------------------------- */

START_TEST(big_bulk_space_commit)
{
    const size_t big = 3 * 1000 * 1000 + 7;
    const char head[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000007\r\n";
    struct resp_parser p;
    char *first, *dst, *base;
    size_t sent = 0, avail, i, step = 7001;
    int rc;

    resp_parser_init(&p);
    CHECK(resp_parse(&p, head, sizeof(head) - 1) == RESP_INCOMPLETE);
    first = resp_parser_space(&p, 16384, &avail);
    ck_assert_ptr_nonnull(first);
    /* The whole bulk and its CRLF fit without another allocation. */
    CHECK(avail >= big + 2);
    CHECK(resp_parser_memory(&p) <= big + 2 + 64 * 1024);
    base = p.buf;
    dst = first;
    while (sent < big + 2) {
        size_t n = big + 2 - sent < step ? big + 2 - sent : step;

        dst = resp_parser_space(&p, 16384, &avail);
        /* Reads land one after the other, never moved. */
        CHECK(dst == first + sent);
        CHECK(p.buf == base);
        CHECK(avail >= big + 2 - sent);
        for (i = 0; i < n; i++) {
            dst[i] = (char)('a' + (sent + i) % 26);
        }
        if (sent + n == big + 2) {
            dst[n - 2] = '\r';
            dst[n - 1] = '\n';
        }
        resp_parser_commit(&p, n);
        sent += n;
        rc = resp_parse(&p, NULL, 0);
        CHECK(rc == (sent == big + 2 ? RESP_OK : RESP_INCOMPLETE));
    }
    CHECK(p.argc == 3);
    CHECK(p.argv[2].len == big);
    CHECK(p.argv[2].ptr == first);
    for (i = 0; i < big; i++) {
        if (p.argv[2].ptr[i] != (char)('a' + i % 26)) {
            ck_abort_msg("byte %zu differs", i);
        }
    }
    CHECK(resp_parse(&p, NULL, 0) == RESP_INCOMPLETE);
    /* The next command reuses the buffer from its start. */
    dst = resp_parser_space(&p, 16384, &avail);
    CHECK(dst == p.buf);
    resp_parser_deinit(&p);
}
END_TEST

/* A big bulk that is not the last argument, copied in byte by byte. */
START_TEST(big_bulk_bytewise)
{
    const size_t big = 100000;
    struct resp_buf in;
    char *val;
    size_t i;
    char *got;
    struct resp_buf want;

    val = malloc(big);
    ck_assert_ptr_nonnull(val);
    for (i = 0; i < big; i++) {
        val[i] = (char)(i * 7);
    }
    resp_buf_init(&in);
    resp_buf_init(&want);
    ck_assert_int_eq(resp_add_array(&in, 3), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&in, "SET"), RK_OK);
    ck_assert_int_eq(resp_add_bulk(&in, val, big), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&in, "tail"), RK_OK);
    ck_assert_int_eq(resp_add_raw(&in, "PING\r\n", 6), RK_OK);
    out_str(&want, "SET|");
    out_arg(&want, val, big);
    out_str(&want, "|tail;PING;+0");
    ck_assert_int_eq(resp_add_raw(&want, "", 1), RK_OK);
    got = run_step(in.ptr, in.len, 1, FEED_COPY, 0, 0);
    same_text(got, want.ptr);
    free(got);
    got = run_step(in.ptr, in.len, 1, FEED_SPACE, 0, 0);
    same_text(got, want.ptr);
    free(got);
    got = run_step(in.ptr, in.len, 4093, FEED_SPACE, 0, 0);
    same_text(got, want.ptr);
    free(got);
    got = run_step(in.ptr, in.len, in.len, FEED_COPY, 0, 0);
    same_text(got, want.ptr);
    free(got);
    resp_buf_deinit(&in);
    resp_buf_deinit(&want);
    free(val);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Reply writer                                                            */
/* ---------------------------------------------------------------------- */

static void
expect_buf(struct resp_buf *b, const char *want, size_t n)
{
    CHECK(b->len == n);
    CHECK(memcmp(b->ptr, want, n) == 0);
    resp_buf_clear(b);
}

#define EXPECT(b, lit) expect_buf((b), lit, sizeof(lit) - 1)

START_TEST(writer_basic)
{
    struct resp_buf b;
    char *r;

    resp_buf_init(&b);
    ck_assert_int_eq(resp_add_status(&b, "OK"), RK_OK);
    EXPECT(&b, "+OK\r\n");
    ck_assert_int_eq(resp_add_status(&b, ""), RK_OK);
    EXPECT(&b, "+\r\n");
    ck_assert_int_eq(resp_add_error(&b, S("ERR bad\r\nthing\n")), RK_OK);
    EXPECT(&b, "-ERR bad  thing \r\n");
    ck_assert_int_eq(resp_add_error(&b, S("WRONGTYPE x")), RK_OK);
    EXPECT(&b, "-WRONGTYPE x\r\n");
    ck_assert_int_eq(resp_add_bulk(&b, S("a\0\r\nb")), RK_OK);
    EXPECT(&b, "$5\r\na\0\r\nb\r\n");
    ck_assert_int_eq(resp_add_bulk(&b, NULL, 0), RK_OK);
    EXPECT(&b, "$0\r\n\r\n");
    ck_assert_int_eq(resp_add_bulk_str(&b, "hello"), RK_OK);
    EXPECT(&b, "$5\r\nhello\r\n");
    ck_assert_int_eq(resp_add_bulk_ll(&b, -12345), RK_OK);
    EXPECT(&b, "$6\r\n-12345\r\n");
    ck_assert_int_eq(resp_add_bulk_ll(&b, LLONG_MIN), RK_OK);
    EXPECT(&b, "$20\r\n-9223372036854775808\r\n");
    ck_assert_int_eq(resp_add_null(&b), RK_OK);
    EXPECT(&b, "$-1\r\n");
    ck_assert_int_eq(resp_add_null_array(&b), RK_OK);
    EXPECT(&b, "*-1\r\n");
    ck_assert_int_eq(resp_add_array(&b, 0), RK_OK);
    EXPECT(&b, "*0\r\n");
    ck_assert_int_eq(resp_add_array(&b, 3), RK_OK);
    EXPECT(&b, "*3\r\n");
    ck_assert_int_eq(resp_add_array(&b, -1), RK_OK);
    EXPECT(&b, "*-1\r\n");
    ck_assert_int_eq(resp_add_raw(&b, "xyz", 3), RK_OK);
    ck_assert_int_eq(resp_add_raw(&b, NULL, 0), RK_OK);
    EXPECT(&b, "xyz");

    /* Replies append. */
    ck_assert_int_eq(resp_add_array(&b, 2), RK_OK);
    ck_assert_int_eq(resp_add_int(&b, 1), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&b, "x"), RK_OK);
    EXPECT(&b, "*2\r\n:1\r\n$1\r\nx\r\n");

    /* reserve hands out room without changing the contents. */
    r = resp_buf_reserve(&b, 100000);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_ge(b.cap, 100000);
    memcpy(r, "+PONG\r\n", 7);
    b.len += 7;
    EXPECT(&b, "+PONG\r\n");

    /* Too big: RK_ENOMEM and nothing changes. */
    ck_assert_int_eq(resp_add_raw(&b, "ab", 2), RK_OK);
    ck_assert_int_eq(resp_add_bulk(&b, "x", SIZE_MAX), RK_ENOMEM);
    ck_assert_int_eq(resp_add_error(&b, "x", SIZE_MAX - 1), RK_ENOMEM);
    ck_assert_ptr_null(resp_buf_reserve(&b, SIZE_MAX - 1));
    EXPECT(&b, "ab");
    resp_buf_deinit(&b);
    ck_assert_ptr_null(b.ptr);
    resp_buf_deinit(&b);
}
END_TEST

START_TEST(writer_consume)
{
    struct resp_buf b;

    resp_buf_init(&b);
    ck_assert_int_eq(resp_add_status(&b, "OK"), RK_OK);
    ck_assert_int_eq(resp_add_int(&b, 42), RK_OK);
    resp_buf_consume(&b, 3);
    EXPECT(&b, "\r\n:42\r\n");
    ck_assert_int_eq(resp_add_int(&b, 7), RK_OK);
    resp_buf_consume(&b, 4);
    ck_assert_uint_eq(b.len, 0);
    resp_buf_consume(&b, 0);
    ck_assert_uint_eq(b.len, 0);
    resp_buf_deinit(&b);
}
END_TEST

/* Integers against printf, around every power of ten and at the ends. */
START_TEST(writer_integers)
{
    struct resp_buf b;
    char want[64];
    long long v, p10 = 1;
    int k, d, n, sign;
    const long long fixed[] = { 0, 1, -1, 9, 10, 99, 100, LLONG_MAX,
                                LLONG_MIN, LLONG_MIN + 1, LLONG_MAX - 1 };

    resp_buf_init(&b);
    for (k = 0; k < (int)(sizeof(fixed) / sizeof(fixed[0])); k++) {
        v = fixed[k];
        n = snprintf(want, sizeof(want), ":%lld\r\n", v);
        CHECK(resp_add_int(&b, v) == RK_OK);
        expect_buf(&b, want, (size_t)n);
    }
    for (k = 0; k < 19; k++) {
        for (d = -2; d <= 2; d++) {
            for (sign = -1; sign <= 1; sign += 2) {
                v = sign * (p10 + d);
                n = snprintf(want, sizeof(want), ":%lld\r\n", v);
                CHECK(resp_add_int(&b, v) == RK_OK);
                expect_buf(&b, want, (size_t)n);
                n = snprintf(want, sizeof(want), "*%lld\r\n", v);
                CHECK(resp_add_array(&b, v) == RK_OK);
                expect_buf(&b, want, (size_t)n);
                n = snprintf(want, sizeof(want), "$%d\r\n%lld\r\n",
                             snprintf(NULL, 0, "%lld", v), v);
                CHECK(resp_add_bulk_ll(&b, v) == RK_OK);
                expect_buf(&b, want, (size_t)n);
            }
        }
        if (k < 18) {
            p10 *= 10;
        }
    }
    /* A pseudo-random walk over the whole range. */
    v = 88172645463325252LL;
    for (k = 0; k < 100000; k++) {
        unsigned long long x = (unsigned long long)v;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = (long long)(x >> (k % 64));
        if ((k & 1) && v != LLONG_MIN) {
            v = -v;
        }
        n = snprintf(want, sizeof(want), ":%lld\r\n", v);
        CHECK(resp_add_int(&b, v) == RK_OK);
        expect_buf(&b, want, (size_t)n);
        v = (long long)x;
    }
    resp_buf_deinit(&b);
}
END_TEST

/* Bulk lengths of every digit count. */
START_TEST(writer_bulk_lengths)
{
    struct resp_buf b;
    static char data[100001];
    char head[32];
    size_t lens[] = { 0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999,
                      100000, 100001 };
    size_t k;

    memset(data, 'z', sizeof(data));
    resp_buf_init(&b);
    for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        int h = snprintf(head, sizeof(head), "$%zu\r\n", lens[k]);

        ck_assert_int_eq(resp_add_bulk(&b, data, lens[k]), RK_OK);
        ck_assert_uint_eq(b.len, (size_t)h + lens[k] + 2);
        ck_assert(memcmp(b.ptr, head, (size_t)h) == 0);
        ck_assert(memcmp(b.ptr + h, data, lens[k]) == 0);
        ck_assert(memcmp(b.ptr + h + lens[k], "\r\n", 2) == 0);
        resp_buf_clear(&b);
    }
    resp_buf_deinit(&b);
}
END_TEST

/* The writer's output is what the parser reads back. */
START_TEST(writer_parser_roundtrip)
{
    struct resp_buf b;
    struct resp_parser p;

    resp_buf_init(&b);
    resp_parser_init(&p);
    ck_assert_int_eq(resp_add_array(&b, 4), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&b, "MSET"), RK_OK);
    ck_assert_int_eq(resp_add_bulk(&b, S("k\0")), RK_OK);
    ck_assert_int_eq(resp_add_bulk_ll(&b, LLONG_MIN), RK_OK);
    ck_assert_int_eq(resp_add_bulk(&b, S("")), RK_OK);
    ck_assert_int_eq(resp_parse(&p, b.ptr, b.len), RESP_OK);
    ck_assert_uint_eq(p.argc, 4);
    ck_assert_uint_eq(p.argv[1].len, 2);
    ck_assert_uint_eq(p.argv[2].len, 20);
    ck_assert(memcmp(p.argv[2].ptr, "-9223372036854775808", 20) == 0);
    ck_assert_uint_eq(p.argv[3].len, 0);
    resp_parser_deinit(&p);
    resp_buf_deinit(&b);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* resp_format_ld                                                          */
/* ---------------------------------------------------------------------- */

/*
 * The expected texts are those of x86-64's 80-bit long double. Valgrind
 * runs long double arithmetic at double precision, and other platforms have
 * other formats: there the cases that need the extra digits are skipped.
 */
static int
ld_is_x87(void)
{
    volatile long double x = 1.0L;

    x += LDBL_EPSILON;
    return LDBL_MANT_DIG == 64 && x != 1.0L &&
           strtold("0.1", NULL) != (long double)0.1;
}

static void
expect_ld(long double v, const char *want)
{
    char out[RESP_LD_MAX_CHARS];
    int n = resp_format_ld(out, sizeof(out), v);

    ck_assert_int_eq(n, (int)strlen(want));
    ck_assert_str_eq(out, want);
}

/* Outputs of INCRBYFLOAT on redis-server 7.0.15 for a key that is unset. */
struct ld_case {
    const char *in;
    const char *want;
};

static const struct ld_case ld_cases[] = {
    { "10.5", "10.5" },
    { "3.0e3", "3000" },
    { "5.0e-1", "0.5" },
    { "0.1", "0.1" },
    { "-5", "-5" },
    { "0", "0" },
    { "-0.0", "0" },
    { "-0.0000000000000000001", "0" },
    { "1.5e-17", "0.00000000000000002" },
    { "123456789012345678", "123456789012345678" },
    { "0.30000000000000004", "0.30000000000000004" },
    { "1e300",
      "1000000000000000000008997324079559193870523944273290747938260082321"
      "2656465961809357558491520837504971903503725086142748359035925561846"
      "7298391309626052074864628732713564184365329408425510760601678972665"
      "2932370030551382947620994540294772781889620606179267611627097410650"
      "567187386105690089424915104006144" },
};

START_TEST(format_ld_cases)
{
    const struct ld_case *c = &ld_cases[_i];

    if (!ld_is_x87()) {
        return;
    }
    expect_ld(strtold(c->in, NULL), c->want);
}
END_TEST

START_TEST(format_ld_special)
{
    char out[64];

    ck_assert_int_eq(resp_format_ld(out, 2, 1.0L), RK_ERR);
    ck_assert_int_eq(resp_format_ld(out, 0, 1.0L), RK_ERR);
    ck_assert_int_eq(resp_format_ld(out, sizeof(out), 2.5L), 3);
    ck_assert_str_eq(out, "2.5");
    ck_assert_int_eq(resp_format_ld(out, sizeof(out), -2.5L), 4);
    ck_assert_str_eq(out, "-2.5");
    if (!ld_is_x87()) {
        return;
    }
    /* INCRBYFLOAT 0.2 on "0.1". */
    expect_ld(strtold("0.1", NULL) + strtold("0.2", NULL), "0.3");
    expect_ld(INFINITY, "inf");
    expect_ld(-INFINITY, "-inf");
    ck_assert_int_eq(resp_format_ld(out, 3, INFINITY), RK_ERR);
    ck_assert_int_eq(resp_format_ld(out, 4, INFINITY), 3);
    expect_ld(ldexpl(1.0L, 145),
              "44601490397061246283071436545296723011960832");
    /* 64 bytes hold |v| < 1e44 ("%.17Lf" must fit before the zeros go);
     * bigger values need RESP_LD_MAX_CHARS. */
    ck_assert_int_eq(resp_format_ld(out, sizeof(out), -ldexpl(1.0L, 145)), 45);
    ck_assert_int_eq(resp_format_ld(out, sizeof(out), ldexpl(1.0L, 149)), 45);
    ck_assert_int_eq(resp_format_ld(out, sizeof(out), -ldexpl(1.0L, 149)),
                     RK_ERR);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(resp_format_ld(out, sizeof(out), 1e300L), RK_ERR);
}
END_TEST

/* ---------------------------------------------------------------------- */

static Suite *
resp_suite(void)
{
    Suite *s = suite_create("resp");
    TCase *tc;

    tc = tcase_create("parser");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, parse_any_split, 0,
                        (int)(sizeof(split_cases) / sizeof(split_cases[0])));
    tcase_add_test(tc, bulk_split_across_reads);
    tcase_add_test(tc, pipeline_many);
    tcase_add_test(tc, many_arguments);
    tcase_add_test(tc, huge_count_allocates_little);
    tcase_add_test(tc, bulk_at_default_max);
    tcase_add_test(tc, error_sticks_until_reset);
    tcase_add_test(tc, reset_mid_command);
    tcase_add_test(tc, unauth_can_change);
    tcase_add_test(tc, pending_and_memory);
    tcase_add_test(tc, inline_views_in_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, too_big_mbulk_count);
    tcase_add_test(tc, too_big_bulk_count);
    tcase_add_test(tc, too_big_inline);
    tcase_add_test(tc, big_bulk_space_commit);
    tcase_add_test(tc, big_bulk_bytewise);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_test(tc, writer_basic);
    tcase_add_test(tc, writer_consume);
    tcase_add_test(tc, writer_integers);
    tcase_add_test(tc, writer_bulk_lengths);
    tcase_add_test(tc, writer_parser_roundtrip);
    tcase_add_loop_test(tc, format_ld_cases, 0,
                        (int)(sizeof(ld_cases) / sizeof(ld_cases[0])));
    tcase_add_test(tc, format_ld_special);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(resp_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
