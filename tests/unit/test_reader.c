/*
 * tests/unit/test_reader.c - Check suite for the RESP reply reader in
 * resp/reader.h: every reply type of RESP2 and RESP3, nesting, nil and
 * empty values, binary bulks, pipelines, every protocol error and limit,
 * each input split at every byte boundary (copied in, and read through
 * resp_reader_space()), round trips through the reply writer of resp.h,
 * and big replies fed in small pieces.
 *
 * A run is rendered as text: each reply followed by ';', then "+N" when the
 * reader wants more bytes with N bytes pending, or "-<error text>" after
 * RESP_EPROTO. A reply renders as "+status", "-error", ":int", "$bulk",
 * "nil" ($-1), "nil*" (*-1), "null" (_), ",double-text", "#t"/"#f",
 * "=fmt:text", "(bignum" and "*[a,b]" (with '%', '~', '>' for maps, sets and
 * pushes); bytes outside printable ASCII and "\,;[]" are written \xHH.
 */
#include "reader.h"

#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

#define MB (1024 * 1024)

/* An assertion that stays quiet when it holds: Check's own ck_assert*()
 * write to a pipe every time, which byte-by-byte loops cannot afford. */
#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);         \
        }                                                                 \
    } while (0)

/* How bytes reach the reader. */
enum feed_mode {
    FEED_COPY,  /* resp_reader_feed() */
    FEED_SPACE  /* resp_reader_space() + memcpy + resp_reader_commit() */
};

/* Limits for a run; 0 keeps the default. */
struct limits {
    uint64_t max_bulk;
    uint64_t max_elements;
};

struct run {
    struct resp_buf out;    /* rendered replies and final state */
    int dead;               /* RESP_EPROTO seen: feed nothing more */
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
out_raw(struct resp_buf *out, const char *s, size_t n)
{
    CHECK(resp_add_raw(out, s, n) == RK_OK);
}

static void
out_str(struct resp_buf *out, const char *s)
{
    out_raw(out, s, strlen(s));
}

/* s[0, n) with unusual bytes as \xHH. */
static void
out_esc(struct resp_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c > 0x7e || strchr("\\,;[]", c) != NULL) {
            char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

            out_raw(out, e, 4);
        } else {
            out_raw(out, &s[i], 1);
        }
    }
}

/* A NUL-terminated copy of out's bytes (caller frees); out is freed. */
static char *
out_take(struct resp_buf *out)
{
    char *s = malloc(out->len + 1);

    CHECK(s != NULL);
    if (out->len > 0) {
        memcpy(s, out->ptr, out->len);
    }
    s[out->len] = '\0';
    resp_buf_deinit(out);
    return s;
}

/* Check the invariants of one node of a reply of r and render it. */
static void
render(struct resp_buf *out, const struct resp_reply *v,
       const struct resp_reader *r)
{
    static const char agg[] = { 0, 0, 0, 0, 0, 0, '*', 0, '%', 0, 0, 0, 0,
                                0, '~', '>' };
    int strtype = v->type == RESP_REPLY_STATUS ||
                  v->type == RESP_REPLY_ERROR ||
                  v->type == RESP_REPLY_BULK ||
                  v->type == RESP_REPLY_VERBATIM ||
                  v->type == RESP_REPLY_BIGNUM ||
                  v->type == RESP_REPLY_DOUBLE;
    size_t i;

    CHECK(v->type >= RESP_REPLY_STATUS && v->type <= RESP_REPLY_PUSH);
    if (strtype) {
        /* A view into the consumed part of the reader's buffer. */
        CHECK(v->str.ptr != NULL);
        CHECK(v->str.ptr >= r->buf);
        CHECK(v->str.len <= (size_t)(r->buf + r->pos - v->str.ptr));
    } else {
        CHECK(v->str.ptr == NULL && v->str.len == 0);
    }
    if (agg[v->type] != 0) {
        CHECK((v->n == 0) == (v->elem == NULL));
    } else {
        CHECK(v->n == 0 && v->elem == NULL);
    }
    switch (v->type) {
    case RESP_REPLY_STATUS:
        out_str(out, "+");
        out_esc(out, v->str.ptr, v->str.len);
        break;
    case RESP_REPLY_ERROR:
        out_str(out, "-");
        out_esc(out, v->str.ptr, v->str.len);
        break;
    case RESP_REPLY_INTEGER: {
        char num[32];

        snprintf(num, sizeof(num), ":%lld", v->integer);
        out_str(out, num);
        break;
    }
    case RESP_REPLY_BULK:
        out_str(out, "$");
        out_esc(out, v->str.ptr, v->str.len);
        break;
    case RESP_REPLY_NIL:
        out_str(out, "nil");
        break;
    case RESP_REPLY_NIL_ARRAY:
        out_str(out, "nil*");
        break;
    case RESP_REPLY_NULL:
        out_str(out, "null");
        break;
    case RESP_REPLY_DOUBLE:
        out_str(out, ",");
        out_esc(out, v->str.ptr, v->str.len);
        break;
    case RESP_REPLY_BOOL:
        CHECK(v->integer == 0 || v->integer == 1);
        out_str(out, v->integer ? "#t" : "#f");
        break;
    case RESP_REPLY_VERBATIM:
        CHECK(strlen(v->vtype) == 3);
        out_str(out, "=");
        out_esc(out, v->vtype, 3);
        out_str(out, ":");
        out_esc(out, v->str.ptr, v->str.len);
        break;
    case RESP_REPLY_BIGNUM:
        out_str(out, "(");
        out_esc(out, v->str.ptr, v->str.len);
        break;
    default:
        CHECK(agg[v->type] != 0);
        CHECK(v->type != RESP_REPLY_MAP || v->n % 2 == 0);
        out_raw(out, &agg[v->type], 1);
        out_str(out, "[");
        for (i = 0; i < v->n; i++) {
            if (i > 0) {
                out_str(out, ",");
            }
            render(out, &v->elem[i], r);
        }
        out_str(out, "]");
        break;
    }
}

/* Return every complete reply; record an error. */
static void
drain(struct run *run, struct resp_reader *r)
{
    const struct resp_reply *v;
    int rc;

    while ((rc = resp_reader_next(r, &v)) == RESP_OK) {
        CHECK(v != NULL);
        render(&run->out, v, r);
        out_str(&run->out, ";");
    }
    CHECK(v == NULL);
    CHECK(rc == RESP_INCOMPLETE || rc == RESP_EPROTO);
    if (rc == RESP_EPROTO) {
        CHECK(r->err != NULL);
        CHECK(strncmp(r->err, "Protocol error: ", 16) == 0);
        out_str(&run->out, "-");
        out_str(&run->out, r->err);
        run->dead = 1;
        /* The error sticks until resp_reader_reset(). */
        CHECK(resp_reader_next(r, &v) == RESP_EPROTO && v == NULL);
        CHECK(resp_reader_feed(r, "+OK\r\n", 5) == RESP_EPROTO);
    }
}

/* Deliver one chunk and drain. */
static void
deliver(struct run *run, struct resp_reader *r, const char *d, size_t n,
        enum feed_mode mode)
{
    if (run->dead) {
        return;
    }
    if (mode == FEED_SPACE) {
        size_t avail = 0;
        char *dst = resp_reader_space(r, n, &avail);

        CHECK(dst != NULL);
        CHECK(avail >= n);
        if (n > 0) {
            memcpy(dst, d, n);
        }
        resp_reader_commit(r, n);
    } else {
        CHECK(resp_reader_feed(r, d, n) == RK_OK);
    }
    drain(run, r);
}

static void
reader_setup(struct resp_reader *r, const struct limits *lim)
{
    resp_reader_init(r);
    if (lim != NULL && lim->max_bulk != 0) {
        r->max_bulk = lim->max_bulk;
    }
    if (lim != NULL && lim->max_elements != 0) {
        r->max_elements = lim->max_elements;
    }
}

/* Close a run: the pending count unless it died; returns the text. */
static char *
finish(struct run *run, struct resp_reader *r)
{
    char tail[32];

    if (!run->dead) {
        snprintf(tail, sizeof(tail), "+%zu", resp_reader_pending(r));
        out_str(&run->out, tail);
    }
    resp_reader_deinit(r);
    return out_take(&run->out);
}

/* Read in[0, n) in pieces ending at the ncuts offsets in cuts. */
static char *
run_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts,
         enum feed_mode mode, const struct limits *lim)
{
    struct resp_reader r;
    struct run run;
    size_t at = 0, i;

    reader_setup(&r, lim);
    memset(&run, 0, sizeof(run));
    resp_buf_init(&run.out);
    drain(&run, &r);    /* nothing buffered: RESP_INCOMPLETE */
    for (i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;

        deliver(&run, &r, in + at, end - at, mode);
        at = end;
    }
    return finish(&run, &r);
}

/* Read in[0, n) in pieces of step bytes. */
static char *
run_step(const char *in, size_t n, size_t step, enum feed_mode mode,
         const struct limits *lim)
{
    struct resp_reader r;
    struct run run;
    size_t at;

    reader_setup(&r, lim);
    memset(&run, 0, sizeof(run));
    resp_buf_init(&run.out);
    for (at = 0; at < n; at += step) {
        deliver(&run, &r, in + at, n - at < step ? n - at : step, mode);
    }
    return finish(&run, &r);
}

/* Check that in[0, n) renders as expect whole, split in two at every byte
 * boundary, in pseudo-random pieces and byte by byte, both ways. */
static void
check_all(const char *in, size_t n, const char *expect,
          const struct limits *lim)
{
    uint64_t seed = 0x2545f4914f6cdd1dull;
    size_t i, k;
    char *s;

    s = run_cuts(in, n, NULL, 0, FEED_COPY, lim);
    ck_assert_str_eq(s, expect);
    free(s);
    for (i = 1; i < n; i++) {
        s = run_cuts(in, n, &i, 1, i % 2 ? FEED_SPACE : FEED_COPY, lim);
        if (strcmp(s, expect) != 0) {
            ck_abort_msg("split at %zu: got \"%s\", want \"%s\"", i, s,
                         expect);
        }
        free(s);
    }
    for (k = 0; k < 8; k++) {
        size_t cuts[6], nc = 0, at = 0;

        while (nc < 6 && n > 0) {
            at += 1 + (size_t)(next_rand(&seed) % (n / 3 + 1));
            if (at >= n) {
                break;
            }
            cuts[nc++] = at;
        }
        s = run_cuts(in, n, cuts, nc, k % 2 ? FEED_SPACE : FEED_COPY, lim);
        ck_assert_str_eq(s, expect);
        free(s);
    }
    s = run_step(in, n, 1, FEED_COPY, lim);
    ck_assert_str_eq(s, expect);
    free(s);
    s = run_step(in, n, 1, FEED_SPACE, lim);
    ck_assert_str_eq(s, expect);
    free(s);
}

/* Parse in[0, n) as a single complete reply; the reader stays open. */
static const struct resp_reply *
one(struct resp_reader *r, const char *in, size_t n)
{
    const struct resp_reply *v = NULL;

    resp_reader_init(r);
    ck_assert_int_eq(resp_reader_feed(r, in, n), RK_OK);
    ck_assert_int_eq(resp_reader_next(r, &v), RESP_OK);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(resp_reader_pending(r), 0);
    return v;
}

/* one() on a string literal. */
#define ONE(r, lit) one((r), (lit), sizeof(lit) - 1)

/* ---------------------------------------------------------------------- */
/* Every input at every split                                              */
/* ---------------------------------------------------------------------- */

struct split_case {
    const char *in;
    size_t len;
    const char *expect;
};

#define C(in, expect) { in, sizeof(in) - 1, expect }

static const struct split_case split_cases[] = {
    /* RESP2 types */
    C("+OK\r\n", "+OK;+0"),
    C("+\r\n", "+;+0"),
    C("+a\rb\r\n", "+a\\x0db;+0"),
    C("-ERR unknown command 'x'\r\n", "-ERR unknown command 'x';+0"),
    C(":0\r\n", ":0;+0"),
    C(":-42\r\n:9223372036854775807\r\n:-9223372036854775808\r\n",
      ":-42;:9223372036854775807;:-9223372036854775808;+0"),
    C("$5\r\nhello\r\n", "$hello;+0"),
    C("$0\r\n\r\n", "$;+0"),
    C("$-1\r\n", "nil;+0"),
    C("*-1\r\n", "nil*;+0"),
    C("*0\r\n", "*[];+0"),
    C("*3\r\n:1\r\n$1\r\na\r\n+x\r\n", "*[:1,$a,+x];+0"),
    /* nesting, nil and empty inside aggregates */
    C("*2\r\n*2\r\n:1\r\n*0\r\n*2\r\n*-1\r\n$-1\r\n",
      "*[*[:1,*[]],*[nil*,nil]];+0"),
    C("*1\r\n*1\r\n*1\r\n*1\r\n$0\r\n\r\n", "*[*[*[*[$]]]];+0"),
    C("*3\r\n*0\r\n*0\r\n*1\r\n*0\r\n", "*[*[],*[],*[*[]]];+0"),
    /* binary bulks */
    C("$8\r\na\r\n\0b\n\rc\r\n", "$a\\x0d\\x0a\\x00b\\x0a\\x0dc;+0"),
    C("$2\r\n\r\n\r\n", "$\\x0d\\x0a;+0"),
    C("$3\r\n\0\0\0\r\n", "$\\x00\\x00\\x00;+0"),
    C("*2\r\n$1\r\n\r\r\n$1\r\n\n\r\n", "*[$\\x0d,$\\x0a];+0"),
    /* RESP3 types */
    C("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%[+a,:1,+b,:2];+0"),
    C("%0\r\n", "%[];+0"),
    C("_\r\n", "null;+0"),
    C(",1.5\r\n,-0.25\r\n,1e10\r\n,inf\r\n,-inf\r\n,nan\r\n,10\r\n",
      ",1.5;,-0.25;,1e10;,inf;,-inf;,nan;,10;+0"),
    C("#t\r\n#f\r\n", "#t;#f;+0"),
    C("=15\r\ntxt:Some string\r\n", "=txt:Some string;+0"),
    C("=4\r\nmkd:\r\n", "=mkd:;+0"),
    C("=6\r\ntxt:\r\n\r\n", "=txt:\\x0d\\x0a;+0"),
    C("(3492890328409238509324850943850943825024385\r\n(-1\r\n(+7\r\n",
      "(3492890328409238509324850943850943825024385;(-1;(+7;+0"),
    C("~3\r\n:1\r\n:2\r\n:3\r\n", "~[:1,:2,:3];+0"),
    C("~0\r\n", "~[];+0"),
    C(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
      ">[$message,$ch,$hi];+0"),
    C("!21\r\nSYNTAX invalid syntax\r\n", "-SYNTAX invalid syntax;+0"),
    C("%1\r\n~1\r\n_\r\n>1\r\n#t\r\n", "%[~[null],>[#t]];+0"),
    /* attributes are dropped */
    C("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n"
      ",0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
      "*[:2039123,:9543892];+0"),
    C("*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:7\r\n", "*[$v,:7];+0"),
    C("|0\r\n+OK\r\n", "+OK;+0"),
    /* an attribute whose value has an attribute of its own */
    C("|1\r\n+a\r\n|1\r\n+b\r\n:2\r\n:3\r\n:4\r\n", ":4;+0"),
    /* incomplete */
    C("*2\r\n:1\r\n", "+8"),
    C("$5\r\nhel", "+7"),
    C("+OK\r", "+4"),
    C("+OK\r\n+PA", "+OK;+3"),
    C("|1\r\n+a\r\n+b\r\n", "+12"),
    /* pipelines */
    C("+OK\r\n:1\r\n$1\r\nx\r\n*0\r\n_\r\n*1\r\n*-1\r\n",
      "+OK;:1;$x;*[];null;*[nil*];+0"),
    C("$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\n", "$a;$b;$c;+4"),
    /* protocol errors */
    C("?x\r\n", "-Protocol error: invalid type byte '?'"),
    C("+OK\r\n\0", "+OK;-Protocol error: invalid type byte \\x00"),
    C("\r\n", "-Protocol error: invalid type byte \\x0d"),
    C(" +OK\r\n", "-Protocol error: invalid type byte \\x20"),
    C("\xff", "-Protocol error: invalid type byte \\xff"),
    C("*2\r\n:1\r\n?\r\n", "-Protocol error: invalid type byte '?'"),
    C("$-2\r\n", "-Protocol error: invalid bulk length"),
    C("$abc\r\n", "-Protocol error: invalid bulk length"),
    C("$01\r\n", "-Protocol error: invalid bulk length"),
    C("$\r\n", "-Protocol error: invalid bulk length"),
    C("$+1\r\n", "-Protocol error: invalid bulk length"),
    C("$1 \r\n", "-Protocol error: invalid bulk length"),
    C("=-1\r\n", "-Protocol error: invalid bulk length"),
    C("!-1\r\n", "-Protocol error: invalid bulk length"),
    C("*-2\r\n", "-Protocol error: invalid aggregate length"),
    C("*1x\r\n", "-Protocol error: invalid aggregate length"),
    C("*\r\n", "-Protocol error: invalid aggregate length"),
    C("%-1\r\n", "-Protocol error: invalid aggregate length"),
    C("~-1\r\n", "-Protocol error: invalid aggregate length"),
    C(">-1\r\n", "-Protocol error: invalid aggregate length"),
    C("|x\r\n", "-Protocol error: invalid aggregate length"),
    C("$3\r\nabcXY", "-Protocol error: expected CRLF after bulk"),
    C("$3\r\nabc\rX", "-Protocol error: expected CRLF after bulk"),
    C("$3\r\nabc\n\r", "-Protocol error: expected CRLF after bulk"),
    C("$0\r\nXX", "-Protocol error: expected CRLF after bulk"),
    C(":12a\r\n", "-Protocol error: invalid integer"),
    C(":\r\n", "-Protocol error: invalid integer"),
    C(":-0\r\n", "-Protocol error: invalid integer"),
    C(":007\r\n", "-Protocol error: invalid integer"),
    C(": 1\r\n", "-Protocol error: invalid integer"),
    C(":9223372036854775808\r\n", "-Protocol error: invalid integer"),
    C(":-9223372036854775809\r\n", "-Protocol error: invalid integer"),
    C("_x\r\n", "-Protocol error: invalid null"),
    C(",abc\r\n", "-Protocol error: invalid double"),
    C(",\r\n", "-Protocol error: invalid double"),
    C(",1e999\r\n", "-Protocol error: invalid double"),
    C(", 1\r\n", "-Protocol error: invalid double"),
    C(",0x10\r\n", "-Protocol error: invalid double"),
    C(",.\r\n", "-Protocol error: invalid double"),
    C("#x\r\n", "-Protocol error: invalid boolean"),
    C("#\r\n", "-Protocol error: invalid boolean"),
    C("#tt\r\n", "-Protocol error: invalid boolean"),
    C("(12a\r\n", "-Protocol error: invalid big number"),
    C("(\r\n", "-Protocol error: invalid big number"),
    C("(-\r\n", "-Protocol error: invalid big number"),
    C("=3\r\nabc\r\n", "-Protocol error: invalid verbatim string"),
    C("=4\r\nabcd\r\n", "-Protocol error: invalid verbatim string"),
    C("*1048577\r\n", "-Protocol error: too many elements"),
    C("%524289\r\n", "-Protocol error: too many elements"),
    C("$536870913\r\n", "-Protocol error: bulk too large"),
};

START_TEST(read_any_split)
{
    const struct split_case *c = &split_cases[_i];

    check_all(c->in, c->len, c->expect, NULL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Fields of each type                                                     */
/* ---------------------------------------------------------------------- */

START_TEST(fields_resp2)
{
    struct resp_reader r;
    const struct resp_reply *v;

    v = ONE(&r, "+OK\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_STATUS);
    ck_assert_uint_eq(v->str.len, 2);
    ck_assert(memcmp(v->str.ptr, "OK", 2) == 0);
    resp_reader_deinit(&r);

    v = ONE(&r, "-ERR x\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_ERROR);
    ck_assert(v->str.len == 5 && memcmp(v->str.ptr, "ERR x", 5) == 0);
    resp_reader_deinit(&r);

    v = ONE(&r, ":-9223372036854775808\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_INTEGER);
    ck_assert(v->integer == LLONG_MIN);
    resp_reader_deinit(&r);

    v = ONE(&r, "$0\r\n\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_BULK);
    ck_assert_ptr_nonnull(v->str.ptr);     /* empty, not nil */
    ck_assert_uint_eq(v->str.len, 0);
    resp_reader_deinit(&r);

    v = ONE(&r, "$-1\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_NIL);
    ck_assert_ptr_null(v->str.ptr);
    resp_reader_deinit(&r);

    v = ONE(&r, "*-1\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_NIL_ARRAY);
    ck_assert_uint_eq(v->n, 0);
    ck_assert_ptr_null(v->elem);
    resp_reader_deinit(&r);

    v = ONE(&r, "*0\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_ARRAY);
    ck_assert_uint_eq(v->n, 0);
    ck_assert_ptr_null(v->elem);
    resp_reader_deinit(&r);

    v = ONE(&r, "*2\r\n:5\r\n*1\r\n$2\r\nab\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_ARRAY);
    ck_assert_uint_eq(v->n, 2);
    ck_assert_int_eq(v->elem[0].type, RESP_REPLY_INTEGER);
    ck_assert(v->elem[0].integer == 5);
    ck_assert_int_eq(v->elem[1].type, RESP_REPLY_ARRAY);
    ck_assert_uint_eq(v->elem[1].n, 1);
    ck_assert_int_eq(v->elem[1].elem[0].type, RESP_REPLY_BULK);
    ck_assert(memcmp(v->elem[1].elem[0].str.ptr, "ab", 2) == 0);
    resp_reader_deinit(&r);
}
END_TEST

START_TEST(fields_resp3)
{
    struct resp_reader r;
    const struct resp_reply *v;

    v = ONE(&r, "%1\r\n+k\r\n:1\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_MAP);
    ck_assert_uint_eq(v->n, 2);     /* key and value */
    ck_assert_int_eq(v->elem[0].type, RESP_REPLY_STATUS);
    ck_assert_int_eq(v->elem[1].type, RESP_REPLY_INTEGER);
    resp_reader_deinit(&r);

    v = ONE(&r, "_\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_NULL);
    resp_reader_deinit(&r);

    v = ONE(&r, ",-1.25e2\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_DOUBLE);
    ck_assert(v->dval == -125.0);
    ck_assert(v->str.len == 7 && memcmp(v->str.ptr, "-1.25e2", 7) == 0);
    resp_reader_deinit(&r);

    v = ONE(&r, ",-inf\r\n");
    ck_assert(isinf(v->dval) && v->dval < 0);
    resp_reader_deinit(&r);

    v = ONE(&r, ",nan\r\n");
    ck_assert(isnan(v->dval));
    resp_reader_deinit(&r);

    v = ONE(&r, "#t\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_BOOL);
    ck_assert(v->integer == 1);
    resp_reader_deinit(&r);

    v = ONE(&r, "#f\r\n");
    ck_assert(v->integer == 0);
    resp_reader_deinit(&r);

    v = ONE(&r, "=8\r\nmkd:# hi\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_VERBATIM);
    ck_assert_str_eq(v->vtype, "mkd");
    ck_assert(v->str.len == 4 && memcmp(v->str.ptr, "# hi", 4) == 0);
    resp_reader_deinit(&r);

    v = ONE(&r, "(-12345678901234567890123\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_BIGNUM);
    ck_assert_uint_eq(v->str.len, 24);
    resp_reader_deinit(&r);

    v = ONE(&r, "~1\r\n:1\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_SET);
    ck_assert_uint_eq(v->n, 1);
    resp_reader_deinit(&r);

    v = ONE(&r, ">2\r\n+a\r\n+b\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_PUSH);
    ck_assert_uint_eq(v->n, 2);
    resp_reader_deinit(&r);

    v = ONE(&r, "!3\r\nE x\r\n");
    ck_assert_int_eq(v->type, RESP_REPLY_ERROR);
    ck_assert(v->str.len == 3 && memcmp(v->str.ptr, "E x", 3) == 0);
    resp_reader_deinit(&r);
}
END_TEST

START_TEST(type_names)
{
    ck_assert_str_eq(resp_reply_type_name(RESP_REPLY_STATUS), "status");
    ck_assert_str_eq(resp_reply_type_name(RESP_REPLY_NIL_ARRAY),
                     "nil-array");
    ck_assert_str_eq(resp_reply_type_name(RESP_REPLY_PUSH), "push");
    ck_assert_str_eq(resp_reply_type_name(0), "unknown");
    ck_assert_str_eq(resp_reply_type_name(99), "unknown");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Pipelines, state, errors                                                */
/* ---------------------------------------------------------------------- */

START_TEST(pipeline_in_order)
{
    struct resp_reader r;
    const struct resp_reply *v;
    struct resp_buf in;
    size_t i, mem = 0;
    int round;

    resp_buf_init(&in);
    for (i = 0; i < 10000; i++) {
        ck_assert_int_eq(resp_add_array(&in, 2), RK_OK);
        ck_assert_int_eq(resp_add_int(&in, (long long)i), RK_OK);
        ck_assert_int_eq(resp_add_bulk_ll(&in, (long long)i), RK_OK);
    }
    resp_reader_init(&r);
    for (round = 0; round < 2; round++) {
        ck_assert_int_eq(resp_reader_feed(&r, in.ptr, in.len), RK_OK);
        for (i = 0; i < 10000; i++) {
            char num[24];
            int n = snprintf(num, sizeof(num), "%zu", i);

            CHECK(resp_reader_next(&r, &v) == RESP_OK);
            CHECK(v->type == RESP_REPLY_ARRAY && v->n == 2);
            CHECK(v->elem[0].integer == (long long)i);
            CHECK(v->elem[1].str.len == (size_t)n);
            CHECK(memcmp(v->elem[1].str.ptr, num, (size_t)n) == 0);
        }
        ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
        ck_assert_ptr_null(v);
        ck_assert_uint_eq(resp_reader_pending(&r), 0);
        /* The arena and the buffer are reused: no growth on round 2. */
        if (round == 0) {
            mem = resp_reader_memory(&r);
        } else {
            ck_assert_uint_eq(resp_reader_memory(&r), mem);
        }
    }
    ck_assert_uint_lt(mem, in.len + 64 * 1024);
    resp_reader_deinit(&r);
    resp_buf_deinit(&in);
}
END_TEST

START_TEST(next_without_bytes)
{
    struct resp_reader r;
    const struct resp_reply *v = (const struct resp_reply *)&r;

    resp_reader_init(&r);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(resp_reader_feed(&r, NULL, 0), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    ck_assert_uint_eq(resp_reader_pending(&r), 0);
    resp_reader_deinit(&r);
    /* A second deinit is harmless. */
    resp_reader_deinit(&r);
}
END_TEST

START_TEST(error_sticks_until_reset)
{
    struct resp_reader r;
    const struct resp_reply *v;

    resp_reader_init(&r);
    r.max_elements = 10;
    ck_assert_int_eq(resp_reader_feed(&r, "*2\r\n:1\r\n?", 9), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_EPROTO);
    ck_assert_str_eq(r.err, "Protocol error: invalid type byte '?'");
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_EPROTO);
    ck_assert_int_eq(resp_reader_feed(&r, "+OK\r\n", 5), RESP_EPROTO);
    resp_reader_reset(&r);
    ck_assert_ptr_null(r.err);
    ck_assert_uint_eq(r.max_elements, 10);  /* limits are kept */
    ck_assert_uint_eq(resp_reader_pending(&r), 0);
    ck_assert_int_eq(resp_reader_feed(&r, "*1\r\n+OK\r\n", 9), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_OK);
    ck_assert_int_eq(v->type, RESP_REPLY_ARRAY);
    ck_assert(v->elem[0].str.len == 2);
    resp_reader_deinit(&r);
}
END_TEST

START_TEST(reset_mid_reply)
{
    struct resp_reader r;
    const struct resp_reply *v;

    resp_reader_init(&r);
    ck_assert_int_eq(resp_reader_feed(&r, "*3\r\n*1\r\n$10\r\nab", 15), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    resp_reader_reset(&r);
    ck_assert_int_eq(resp_reader_feed(&r, ":1\r\n", 4), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_OK);
    ck_assert_int_eq(v->type, RESP_REPLY_INTEGER);
    resp_reader_deinit(&r);
}
END_TEST

/* Each reply is complete and its strings point into the buffer, even when
 * the buffer moved while the reply was arriving. */
START_TEST(strings_survive_buffer_moves)
{
    struct resp_reader r;
    const struct resp_reply *v;
    char head[64], *body;
    size_t i, n = 300 * 1024;
    int hl;

    body = malloc(n);
    ck_assert_ptr_nonnull(body);
    for (i = 0; i < n; i++) {
        body[i] = (char)('a' + i % 26);
    }
    resp_reader_init(&r);
    /* A small bulk first, then a big one that makes the buffer grow. */
    ck_assert_int_eq(resp_reader_feed(&r, "*3\r\n$3\r\nfoo\r\n+st\r\n", 18),
                     RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    hl = snprintf(head, sizeof(head), "$%zu\r\n", n);
    for (i = 0; i < (size_t)hl; i++) {
        ck_assert_int_eq(resp_reader_feed(&r, &head[i], 1), RK_OK);
        ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    }
    for (i = 0; i < n; i += 1000) {
        size_t k = n - i < 1000 ? n - i : 1000;

        CHECK(resp_reader_feed(&r, body + i, k) == RK_OK);
        CHECK(resp_reader_next(&r, &v) == RESP_INCOMPLETE);
    }
    ck_assert_int_eq(resp_reader_feed(&r, "\r\n", 2), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_OK);
    ck_assert_uint_eq(v->n, 3);
    ck_assert(v->elem[0].str.len == 3 &&
              memcmp(v->elem[0].str.ptr, "foo", 3) == 0);
    ck_assert(v->elem[1].str.len == 2 &&
              memcmp(v->elem[1].str.ptr, "st", 2) == 0);
    ck_assert(v->elem[2].str.len == n &&
              memcmp(v->elem[2].str.ptr, body, n) == 0);
    resp_reader_deinit(&r);
    free(body);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Limits                                                                  */
/* ---------------------------------------------------------------------- */

START_TEST(limit_elements)
{
    struct limits lim = { 0, 3 };

    check_all("*3\r\n:1\r\n:2\r\n:3\r\n", 16, "*[:1,:2,:3];+0", &lim);
    check_all("*4\r\n", 4, "-Protocol error: too many elements", &lim);
    check_all("%1\r\n+a\r\n+b\r\n", 12, "%[+a,+b];+0", &lim);
    check_all("%2\r\n", 4, "-Protocol error: too many elements", &lim);
    check_all("~4\r\n", 4, "-Protocol error: too many elements", &lim);
    check_all(">4\r\n", 4, "-Protocol error: too many elements", &lim);
    check_all("|2\r\n", 4, "-Protocol error: too many elements", &lim);
    check_all("*1\r\n*4\r\n", 8, "-Protocol error: too many elements",
              &lim);
}
END_TEST

START_TEST(limit_bulk)
{
    struct limits lim = { 10, 0 };

    check_all("$10\r\n0123456789\r\n", 17, "$0123456789;+0", &lim);
    check_all("$11\r\n", 5, "-Protocol error: bulk too large", &lim);
    check_all("=11\r\n", 5, "-Protocol error: bulk too large", &lim);
    check_all("!11\r\n", 5, "-Protocol error: bulk too large", &lim);
    /* Status, error and big number lines are bounded by max_bulk too. */
    check_all("+0123456789\r\n", 13, "+0123456789;+0", &lim);
    check_all("+0123456789A\r\n", 14, "-Protocol error: line too long",
              &lim);
    check_all("+0123456789A", 12, "-Protocol error: line too long", &lim);
    check_all("-0123456789A\r\n", 14, "-Protocol error: line too long",
              &lim);
    check_all("(01234567890\r\n", 14, "-Protocol error: line too long",
              &lim);
    /* A CR that may start the CRLF is not counted yet. */
    check_all("+0123456789\r", 12, "+12", &lim);
}
END_TEST

START_TEST(limit_numeric_line)
{
    char in[RESP_READER_MAX_NUMLINE + 16];
    size_t n;

    /* 512 digits and CRLF: a line of legal length, a bad integer. */
    in[0] = ':';
    memset(in + 1, '1', RESP_READER_MAX_NUMLINE);
    memcpy(in + 1 + RESP_READER_MAX_NUMLINE, "\r\n", 2);
    n = RESP_READER_MAX_NUMLINE + 3;
    check_all(in, n, "-Protocol error: invalid integer", NULL);
    /* One more digit is rejected, with or without its CRLF. */
    in[0] = '$';
    memset(in + 1, '1', RESP_READER_MAX_NUMLINE + 1);
    memcpy(in + 2 + RESP_READER_MAX_NUMLINE, "\r\n", 2);
    check_all(in, n + 1, "-Protocol error: line too long", NULL);
    check_all(in, n - 1, "-Protocol error: line too long", NULL);
    check_all(in, n - 2, "+513", NULL);
}
END_TEST

START_TEST(limit_depth)
{
    char in[(RESP_READER_MAX_DEPTH + 2) * 4 + 8];
    char expect[(RESP_READER_MAX_DEPTH + 2) * 3 + 16];
    size_t n = 0, e = 0;
    int i;

    for (i = 0; i < RESP_READER_MAX_DEPTH; i++) {
        memcpy(in + n, "*1\r\n", 4);
        n += 4;
        memcpy(expect + e, "*[", 2);
        e += 2;
    }
    memcpy(in + n, ":1\r\n", 4);
    memcpy(expect + e, ":1", 2);
    e += 2;
    for (i = 0; i < RESP_READER_MAX_DEPTH; i++) {
        expect[e++] = ']';
    }
    memcpy(expect + e, ";+0", 4);
    check_all(in, n + 4, expect, NULL);
    /* An empty aggregate at the deepest level opens nothing. */
    memcpy(in + n, "*0\r\n", 4);
    memcpy(expect + e - RESP_READER_MAX_DEPTH - 2, "*[]", 3);
    for (i = 0; i < RESP_READER_MAX_DEPTH; i++) {
        expect[e + 1 - RESP_READER_MAX_DEPTH + i] = ']';
    }
    memcpy(expect + e + 1, ";+0", 4);
    check_all(in, n + 4, expect, NULL);
    /* One level more is refused, for every aggregate type. */
    memcpy(in + n, "*1\r\n", 4);
    check_all(in, n + 4, "-Protocol error: nesting too deep", NULL);
    memcpy(in + n, "%1\r\n", 4);
    check_all(in, n + 4, "-Protocol error: nesting too deep", NULL);
    memcpy(in + n, "|1\r\n", 4);
    check_all(in, n + 4, "-Protocol error: nesting too deep", NULL);
}
END_TEST

/* A header announcing a huge aggregate allocates little until the
 * elements arrive. */
START_TEST(huge_count_allocates_little)
{
    struct resp_reader r;
    const struct resp_reply *v;
    char hdr[32];
    int i, n;

    resp_reader_init(&r);
    n = snprintf(hdr, sizeof(hdr), "*%d\r\n", RESP_READER_DEFAULT_MAX_ELEM);
    for (i = 0; i < RESP_READER_MAX_DEPTH; i++) {
        ck_assert_int_eq(resp_reader_feed(&r, hdr, (size_t)n), RK_OK);
        ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    }
    ck_assert_uint_lt(resp_reader_memory(&r), 8 * MB);
    resp_reader_deinit(&r);
}
END_TEST

/* A million elements arrive in small pieces; the element array grows. */
START_TEST(big_aggregate_in_pieces)
{
    struct resp_reader r;
    const struct resp_reply *v;
    struct resp_buf in;
    size_t i, at, count = RESP_READER_DEFAULT_MAX_ELEM;

    resp_buf_init(&in);
    ck_assert_int_eq(resp_add_array(&in, 2), RK_OK);
    ck_assert_int_eq(resp_add_array(&in, (long long)count), RK_OK);
    for (i = 0; i < count; i++) {
        CHECK(resp_add_int(&in, (long long)i) == RK_OK);
    }
    ck_assert_int_eq(resp_add_status(&in, "end"), RK_OK);
    resp_reader_init(&r);
    for (at = 0; at < in.len; at += 4096) {
        size_t k = in.len - at < 4096 ? in.len - at : 4096;

        CHECK(resp_reader_feed(&r, in.ptr + at, k) == RK_OK);
        CHECK(resp_reader_next(&r, &v) ==
              (at + k == in.len ? RESP_OK : RESP_INCOMPLETE));
    }
    ck_assert_uint_eq(v->n, 2);
    ck_assert_uint_eq(v->elem[0].n, count);
    for (i = 0; i < count; i++) {
        CHECK(v->elem[0].elem[i].type == RESP_REPLY_INTEGER);
        CHECK(v->elem[0].elem[i].integer == (long long)i);
    }
    ck_assert_int_eq(v->elem[1].type, RESP_REPLY_STATUS);
    /* The array doubled as it filled: at most twice its final size. */
    ck_assert_uint_lt(resp_reader_memory(&r),
                      in.len + 3 * count * sizeof(struct resp_reply));
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    resp_reader_deinit(&r);
    resp_buf_deinit(&in);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Big replies in small pieces                                             */
/* ---------------------------------------------------------------------- */

#define BIG_BULK (100u * MB)
#define PIECE    (16u * 1024)

static char
pattern(size_t i)
{
    return (char)((i * 2654435761u) >> 24);
}

/* A 100 MB bulk in 16 KB feeds, next() after each: linear time, one
 * buffer of about the bulk's size, released once the reader is idle. */
START_TEST(big_bulk_small_feeds)
{
    struct resp_reader r;
    const struct resp_reply *v;
    char *piece, head[32];
    size_t at, i;
    int hl;

    piece = malloc(PIECE);
    ck_assert_ptr_nonnull(piece);
    resp_reader_init(&r);
    hl = snprintf(head, sizeof(head), "*2\r\n$%u\r\n", BIG_BULK);
    ck_assert_int_eq(resp_reader_feed(&r, head, (size_t)hl), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    for (at = 0; at < BIG_BULK; at += PIECE) {
        for (i = 0; i < PIECE; i++) {
            piece[i] = pattern(at + i);
        }
        CHECK(resp_reader_feed(&r, piece, PIECE) == RK_OK);
        CHECK(resp_reader_next(&r, &v) == RESP_INCOMPLETE);
    }
    ck_assert_int_eq(resp_reader_feed(&r, "\r\n:7\r\n", 6), RK_OK);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_OK);
    ck_assert_uint_eq(v->n, 2);
    ck_assert_uint_eq(v->elem[0].str.len, BIG_BULK);
    for (i = 0; i < BIG_BULK; i++) {
        CHECK(v->elem[0].str.ptr[i] == pattern(i));
    }
    ck_assert(v->elem[1].integer == 7);
    /* Reserved once for the whole bulk, not grown by doubling. */
    ck_assert_uint_lt(resp_reader_memory(&r), BIG_BULK + MB);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    ck_assert_uint_lt(resp_reader_memory(&r), MB);
    resp_reader_deinit(&r);
    free(piece);
}
END_TEST

/* The same through resp_reader_space(): the area covers the rest of the
 * bulk, so it is read in place. */
START_TEST(big_bulk_space_commit)
{
    struct resp_reader r;
    const struct resp_reply *v;
    char head[32], *dst;
    size_t at, i, avail;
    int hl;

    resp_reader_init(&r);
    hl = snprintf(head, sizeof(head), "$%u\r\n", BIG_BULK);
    dst = resp_reader_space(&r, PIECE, &avail);
    ck_assert_ptr_nonnull(dst);
    ck_assert_uint_ge(avail, PIECE);
    memcpy(dst, head, (size_t)hl);
    resp_reader_commit(&r, (size_t)hl);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_INCOMPLETE);
    for (at = 0; at < BIG_BULK; at += PIECE) {
        dst = resp_reader_space(&r, PIECE, &avail);
        CHECK(dst != NULL);
        CHECK(avail >= BIG_BULK + 2 - at);
        for (i = 0; i < PIECE; i++) {
            dst[i] = pattern(at + i);
        }
        resp_reader_commit(&r, PIECE);
        CHECK(resp_reader_next(&r, &v) == RESP_INCOMPLETE);
    }
    dst = resp_reader_space(&r, 2, &avail);
    memcpy(dst, "\r\n", 2);
    resp_reader_commit(&r, 2);
    ck_assert_int_eq(resp_reader_next(&r, &v), RESP_OK);
    ck_assert_uint_eq(v->str.len, BIG_BULK);
    for (i = 0; i < BIG_BULK; i += 4093) {
        CHECK(v->str.ptr[i] == pattern(i));
    }
    ck_assert_uint_lt(resp_reader_memory(&r), BIG_BULK + MB);
    resp_reader_deinit(&r);
}
END_TEST

/* A 16 MB status line with lone CRs in 512-byte feeds. */
START_TEST(long_line_small_feeds)
{
    struct resp_reader r;
    const struct resp_reply *v;
    size_t n = 16u * MB, at;
    char *in;

    in = malloc(n + 3);
    ck_assert_ptr_nonnull(in);
    in[0] = '+';
    memset(in + 1, 'x', n);
    /* Lone CRs inside are part of the line. */
    in[1000] = '\r';
    in[n / 2] = '\r';
    memcpy(in + n + 1, "\r\n", 2);
    resp_reader_init(&r);
    for (at = 0; at < n + 3; at += 512) {
        size_t k = n + 3 - at < 512 ? n + 3 - at : 512;

        CHECK(resp_reader_feed(&r, in + at, k) == RK_OK);
        CHECK(resp_reader_next(&r, &v) ==
              (at + k == n + 3 ? RESP_OK : RESP_INCOMPLETE));
    }
    ck_assert_int_eq(v->type, RESP_REPLY_STATUS);
    ck_assert_uint_eq(v->str.len, n);
    ck_assert(memcmp(v->str.ptr, in + 1, n) == 0);
    resp_reader_deinit(&r);
    free(in);
}
END_TEST

/* CPU seconds to read in[0, n) in pieces of step bytes, next() after
 * each; *replies receives the number of replies. */
static double
read_clock(const char *in, size_t n, size_t step, size_t *replies)
{
    struct resp_reader r;
    const struct resp_reply *v;
    clock_t t0 = clock();
    size_t at;

    *replies = 0;
    resp_reader_init(&r);
    for (at = 0; at < n; at += step) {
        size_t k = n - at < step ? n - at : step;

        CHECK(resp_reader_feed(&r, in + at, k) == RK_OK);
        while (resp_reader_next(&r, &v) == RESP_OK) {
            (*replies)++;
        }
    }
    CHECK(resp_reader_pending(&r) == 0);
    resp_reader_deinit(&r);
    return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* Big replies in small pieces give the same single reply as in one piece.
 * The times are printed, not asserted (speed belongs to benchmarks): a
 * rescan per call shows as a 1000-fold difference on the 16 MB line. */
START_TEST(big_replies_in_pieces)
{
    struct resp_buf in;
    size_t i, n, replies, step;
    double whole, pieces;
    int which;

    for (which = 0; which < 3; which++) {
        resp_buf_init(&in);
        if (which == 0) {
            /* One 16 MB status line. */
            n = 16u * MB;
            CHECK(resp_add_raw(&in, "+", 1) == RK_OK);
            CHECK(resp_buf_reserve(&in, n) != NULL);
            memset(in.ptr + in.len, 'x', n);
            in.len += n;
            CHECK(resp_add_raw(&in, "\r\n", 2) == RK_OK);
            step = 512;
        } else if (which == 1) {
            /* One 32 MB bulk. */
            char head[32];
            int hl;

            n = 32u * MB;
            hl = snprintf(head, sizeof(head), "$%zu\r\n", n);
            CHECK(resp_add_raw(&in, head, (size_t)hl) == RK_OK);
            CHECK(resp_buf_reserve(&in, n) != NULL);
            memset(in.ptr + in.len, 'y', n);
            in.len += n;
            CHECK(resp_add_raw(&in, "\r\n", 2) == RK_OK);
            step = 1024;
        } else {
            /* 256K small arrays inside one array. */
            n = 256u * 1024;
            CHECK(resp_add_array(&in, 2) == RK_OK);
            CHECK(resp_add_array(&in, (long long)n) == RK_OK);
            for (i = 0; i < n; i++) {
                CHECK(resp_add_array(&in, 1) == RK_OK);
                CHECK(resp_add_int(&in, 1) == RK_OK);
            }
            CHECK(resp_add_null(&in) == RK_OK);
            step = 64;
        }
        whole = read_clock(in.ptr, in.len, in.len, &replies);
        ck_assert_uint_eq(replies, 1);
        pieces = read_clock(in.ptr, in.len, step, &replies);
        ck_assert_uint_eq(replies, 1);
        printf("reader case %d: %.3f s in pieces, %.3f s whole\n", which,
               pieces, whole);
        resp_buf_deinit(&in);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Round trips through the reply writer                                    */
/* ---------------------------------------------------------------------- */

/* What rendering the reply written for the writer's output must give. */
struct expect {
    struct resp_buf text;
};

static void
exp_str(struct expect *e, const char *s)
{
    out_str(&e->text, s);
}

START_TEST(roundtrip_writer_resp2)
{
    struct resp_buf w;

    resp_buf_init(&w);
    ck_assert_int_eq(resp_add_status(&w, "OK"), RK_OK);
    ck_assert_int_eq(resp_add_error(&w, "ERR a\r\nb", 8), RK_OK);
    ck_assert_int_eq(resp_add_int(&w, LLONG_MIN), RK_OK);
    ck_assert_int_eq(resp_add_int(&w, LLONG_MAX), RK_OK);
    ck_assert_int_eq(resp_add_bulk(&w, "a\r\n\0b", 5), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&w, ""), RK_OK);
    ck_assert_int_eq(resp_add_bulk_ll(&w, -12), RK_OK);
    ck_assert_int_eq(resp_add_null(&w), RK_OK);
    ck_assert_int_eq(resp_add_null_array(&w), RK_OK);
    ck_assert_int_eq(resp_add_array(&w, 2), RK_OK);
    ck_assert_int_eq(resp_add_int(&w, 1), RK_OK);
    ck_assert_int_eq(resp_add_array(&w, 0), RK_OK);
    ck_assert_int_eq(resp_add_map(&w, 1), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&w, "k"), RK_OK);
    ck_assert_int_eq(resp_add_int(&w, 2), RK_OK);
    ck_assert_int_eq(resp_add_verbatim(&w, "txt", "hi\n", 3), RK_OK);
    check_all(w.ptr, w.len,
              "+OK;-ERR a  b;:-9223372036854775808;:9223372036854775807;"
              "$a\\x0d\\x0a\\x00b;$;$-12;nil;nil*;*[:1,*[]];*[$k,:2];"
              "$hi\\x0a;+0", NULL);
    resp_buf_deinit(&w);
}
END_TEST

START_TEST(roundtrip_writer_resp3)
{
    struct resp_buf w;

    resp_buf_init(&w);
    w.resp3 = 1;
    ck_assert_int_eq(resp_add_null(&w), RK_OK);
    ck_assert_int_eq(resp_add_null_array(&w), RK_OK);
    ck_assert_int_eq(resp_add_map(&w, 2), RK_OK);
    ck_assert_int_eq(resp_add_bulk_str(&w, "a"), RK_OK);
    ck_assert_int_eq(resp_add_null(&w), RK_OK);
    ck_assert_int_eq(resp_add_status(&w, "b"), RK_OK);
    ck_assert_int_eq(resp_add_map(&w, 0), RK_OK);
    ck_assert_int_eq(resp_add_verbatim(&w, "txt", "x\r\ny", 4), RK_OK);
    ck_assert_int_eq(resp_add_verbatim(&w, "mkd", "", 0), RK_OK);
    ck_assert_int_eq(resp_add_array(&w, 1), RK_OK);
    ck_assert_int_eq(resp_add_map(&w, 1), RK_OK);
    ck_assert_int_eq(resp_add_int(&w, 1), RK_OK);
    ck_assert_int_eq(resp_add_verbatim(&w, "txt", "v", 1), RK_OK);
    check_all(w.ptr, w.len,
              "null;null;%[$a,null,+b,%[]];=txt:x\\x0d\\x0ay;=mkd:;"
              "*[%[:1,=txt:v]];+0", NULL);
    resp_buf_deinit(&w);
}
END_TEST

/* Write a random reply with the writer and its expected rendering. */
static void
gen_reply(struct resp_buf *w, struct expect *e, uint64_t *seed, int depth)
{
    static const long long ints[] = { 0, 1, -1, 42, LLONG_MAX, LLONG_MIN,
                                      1000000007, -987654321 };
    char bytes[48] = { 0 }, num[32];
    uint64_t x = next_rand(seed);
    size_t n = (size_t)(x >> 8) % 40, i;
    unsigned pick = (unsigned)(x % (depth < 5 ? 12 : 9));

    for (i = 0; i < n; i++) {
        bytes[i] = (char)(next_rand(seed) >> 16);
    }
    switch (pick) {
    case 0:     /* status: letters only */
        for (i = 0; i < n; i++) {
            bytes[i] = (char)('a' + (unsigned char)bytes[i] % 26);
        }
        bytes[n] = '\0';
        CHECK(resp_add_status(w, bytes) == RK_OK);
        exp_str(e, "+");
        out_esc(&e->text, bytes, n);
        break;
    case 1:     /* error: CR and LF become spaces */
        CHECK(resp_add_error(w, bytes, n) == RK_OK);
        for (i = 0; i < n; i++) {
            if (bytes[i] == '\r' || bytes[i] == '\n') {
                bytes[i] = ' ';
            }
        }
        exp_str(e, "-");
        out_esc(&e->text, bytes, n);
        break;
    case 2:
        CHECK(resp_add_int(w, ints[x % 8]) == RK_OK);
        snprintf(num, sizeof(num), ":%lld", ints[x % 8]);
        exp_str(e, num);
        break;
    case 3:
    case 4:
        CHECK(resp_add_bulk(w, bytes, n) == RK_OK);
        exp_str(e, "$");
        out_esc(&e->text, bytes, n);
        break;
    case 5:
        CHECK(resp_add_bulk_ll(w, ints[x % 8]) == RK_OK);
        snprintf(num, sizeof(num), "$%lld", ints[x % 8]);
        exp_str(e, num);
        break;
    case 6:
        CHECK(resp_add_null(w) == RK_OK);
        exp_str(e, w->resp3 ? "null" : "nil");
        break;
    case 7:
        CHECK(resp_add_null_array(w) == RK_OK);
        exp_str(e, w->resp3 ? "null" : "nil*");
        break;
    case 8:
        CHECK(resp_add_verbatim(w, x & 1 ? "txt" : "mkd", bytes, n) ==
              RK_OK);
        exp_str(e, w->resp3 ? (x & 1 ? "=txt:" : "=mkd:") : "$");
        out_esc(&e->text, bytes, n);
        break;
    case 9:
    case 10:
        n %= 5;
        CHECK(resp_add_array(w, (long long)n) == RK_OK);
        exp_str(e, "*[");
        for (i = 0; i < n; i++) {
            if (i > 0) {
                exp_str(e, ",");
            }
            gen_reply(w, e, seed, depth + 1);
        }
        exp_str(e, "]");
        break;
    default:
        n %= 3;
        CHECK(resp_add_map(w, (long long)n) == RK_OK);
        exp_str(e, w->resp3 ? "%[" : "*[");
        for (i = 0; i < 2 * n; i++) {
            if (i > 0) {
                exp_str(e, ",");
            }
            gen_reply(w, e, seed, depth + 1);
        }
        exp_str(e, "]");
        break;
    }
}

/* Random pipelines written by the writer, in RESP2 and RESP3, read back
 * whole and in random pieces. */
START_TEST(roundtrip_writer_random)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
    int iter;

    for (iter = 0; iter < 300; iter++) {
        struct resp_buf w;
        struct expect e;
        size_t cuts[16], nc = 0, at = 0;
        int k, replies = 1 + (int)(next_rand(&seed) % 4);
        char *want, *got;

        resp_buf_init(&w);
        w.resp3 = _i == 1;
        resp_buf_init(&e.text);
        for (k = 0; k < replies; k++) {
            gen_reply(&w, &e, &seed, 0);
            exp_str(&e, ";");
        }
        exp_str(&e, "+0");
        want = out_take(&e.text);
        got = run_cuts(w.ptr, w.len, NULL, 0, FEED_COPY, NULL);
        ck_assert_str_eq(got, want);
        free(got);
        while (nc < 16) {
            at += 1 + (size_t)(next_rand(&seed) % 24);
            if (at >= w.len) {
                break;
            }
            cuts[nc++] = at;
        }
        got = run_cuts(w.ptr, w.len, cuts, nc,
                       iter % 2 ? FEED_SPACE : FEED_COPY, NULL);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
        resp_buf_deinit(&w);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */

static Suite *
reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc;

    tc = tcase_create("types");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, read_any_split, 0,
                        (int)(sizeof(split_cases) / sizeof(split_cases[0])));
    tcase_add_test(tc, fields_resp2);
    tcase_add_test(tc, fields_resp3);
    tcase_add_test(tc, type_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("state");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pipeline_in_order);
    tcase_add_test(tc, next_without_bytes);
    tcase_add_test(tc, error_sticks_until_reset);
    tcase_add_test(tc, reset_mid_reply);
    tcase_add_test(tc, strings_survive_buffer_moves);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, limit_elements);
    tcase_add_test(tc, limit_bulk);
    tcase_add_test(tc, limit_numeric_line);
    tcase_add_test(tc, limit_depth);
    tcase_add_test(tc, huge_count_allocates_little);
    tcase_add_test(tc, big_aggregate_in_pieces);
    suite_add_tcase(s, tc);

    tc = tcase_create("big");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, big_bulk_small_feeds);
    tcase_add_test(tc, big_bulk_space_commit);
    tcase_add_test(tc, long_line_small_feeds);
    tcase_add_test(tc, big_replies_in_pieces);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, roundtrip_writer_resp2);
    tcase_add_test(tc, roundtrip_writer_resp3);
    tcase_add_loop_test(tc, roundtrip_writer_random, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(reader_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
