/*
 * tests/unit/test_quorum.c - the write and read quorum state machines of
 * cluster/quorum.c, driven by hand as the coordinator would drive them.
 *
 * Covered, table-driven over N = 1, 3, 5 and ONE / QUORUM / ALL (counts
 * from ring_quorum()): writes succeed exactly at W acks, fail as soon as W
 * is out of reach and at the deadline, hand out exact hint lists (late
 * acks clear the need); sloppy quorum counts stored hints; reads pick the
 * newest record (tombstones, node tie-break, absent), list exactly the
 * stale replicas, block on read repair at QUORUM and ALL until the newest
 * is on R replicas, fail when repair cannot get there, answer ONE reads
 * at once and repair in the background; duplicate, unknown and late
 * events; error texts; counters; and randomized property tests with fixed
 * seeds against a simple reference model.
 */
#include "quorum.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "rk.h"
#include "store.h"

#define DEADLINE 1000
#define MAXR QUORUM_MAX_REPLICAS

/* ---- helpers ------------------------------------------------------------ */

/* The 9 (N, level) pairs the table-driven tests loop over. */
static const unsigned cfg_n[] = { 1, 3, 5 };
static const char *const cfg_level[] = { "ONE", "QUORUM", "ALL" };
#define NCFG 9

struct cfg {
    unsigned n;
    unsigned q;         /* W or R */
    const char *level;
};

static struct cfg
cfg_of(int i)
{
    struct cfg c;
    int q;

    c.n = cfg_n[i / 3];
    c.level = cfg_level[i % 3];
    q = ring_quorum(c.n, c.level);
    ck_assert_int_gt(q, 0);
    c.q = (unsigned)q;
    return c;
}

/* Member indexes of a preference list: not 0..n-1, to catch mix-ups. */
static void
pref_of(uint16_t *rep, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        rep[i] = (uint16_t)(100 + 7 * i);
    }
}

/* Sort a small list of member indexes (insertion sort). */
static void
sort16(uint16_t *a, size_t n)
{
    size_t i;
    size_t j;

    for (i = 1; i < n; i++) {
        uint16_t v = a[i];
        for (j = i; j > 0 && a[j - 1] > v; j--) {
            a[j] = a[j - 1];
        }
        a[j] = v;
    }
}

/* Assert that list (k entries, any order) is exactly want (wn entries). */
static void
assert_set(const uint16_t *list, size_t k, const uint16_t *want, size_t wn)
{
    uint16_t a[MAXR];
    uint16_t b[MAXR];
    size_t i;

    ck_assert_uint_eq(k, wn);
    memcpy(a, list, k * sizeof(*a));
    memcpy(b, want, wn * sizeof(*b));
    sort16(a, k);
    sort16(b, wn);
    for (i = 0; i < k; i++) {
        ck_assert_uint_eq(a[i], b[i]);
    }
}

/* A live string record; value is a static string. */
static struct store_record
rec_of(uint64_t version, uint32_t node, const char *value)
{
    struct store_record r;

    memset(&r, 0, sizeof(r));
    r.version = version;
    r.node = node;
    r.type = STORE_TYPE_STRING;
    r.value.ptr = value;
    r.value.len = strlen(value);
    return r;
}

static struct store_record
tomb_of(uint64_t version, uint32_t node)
{
    struct store_record r = rec_of(version, node, "");

    r.flags = STORE_F_TOMBSTONE;
    return r;
}

/* Answer with a live record of version v (node 1) or absent (v == 0). */
static int
answer_v(struct quorum_read *q, uint16_t who, uint64_t v)
{
    struct store_record r = rec_of(v, 1, "x");

    return quorum_read_answer(q, who, v != 0, v != 0 ? &r : NULL);
}

/* ---- writes ------------------------------------------------------------ */

START_TEST(write_ok_exactly_at_w)
{
    struct cfg c = cfg_of(_i);
    struct quorum_stats st;
    struct quorum_write q;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    unsigned k;

    memset(&st, 0, sizeof(st));
    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_write_init(&q, rep, c.n, c.q, 0, DEADLINE, &st),
                     RK_OK);
    ck_assert_int_eq(quorum_write_state(&q), QUORUM_PENDING);
    for (k = 0; k < c.n; k++) {
        int s = quorum_write_ack(&q, rep[k]);
        ck_assert_int_eq(s, k + 1 >= c.q ? QUORUM_DONE_OK : QUORUM_PENDING);
        ck_assert_int_eq(quorum_write_settled(&q), k + 1 == c.n);
        if (k + 1 < c.n) {
            /* Nothing failed and not settled: no hint due yet. */
            ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 0);
        }
    }
    ck_assert_uint_eq(quorum_write_count(&q), c.q);
    ck_assert_uint_eq(quorum_write_acks(&q), c.n);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 0);
    ck_assert_uint_eq(st.writes_ok, 1);
    ck_assert_uint_eq(st.writes_failed, 0);
    ck_assert_uint_eq(st.hints_requested, 0);
    quorum_write_deinit(&q);
}
END_TEST

START_TEST(write_ok_then_hints_for_silent_replicas)
{
    struct cfg c = cfg_of(_i);
    struct quorum_stats st;
    struct quorum_write q;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    unsigned k;
    size_t got;

    memset(&st, 0, sizeof(st));
    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_write_init(&q, rep, c.n, c.q, 0, DEADLINE, &st),
                     RK_OK);
    for (k = 0; k < c.q; k++) {
        quorum_write_ack(&q, rep[k]);
    }
    ck_assert_int_eq(quorum_write_state(&q), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE - 1), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_write_settled(&q), c.q == c.n);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 0);
    /* The deadline settles the op; the silent replicas need hints. */
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_write_settled(&q), 1);
    got = quorum_write_take_hints(&q, out, MAXR);
    assert_set(out, got, rep + c.q, c.n - c.q);
    /* Handed out once. */
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 0);
    ck_assert_uint_eq(st.hints_requested, c.n - c.q);
    ck_assert_uint_eq(st.writes_ok, 1);
}
END_TEST

START_TEST(write_fails_as_soon_as_w_unreachable)
{
    struct cfg c = cfg_of(_i);
    struct quorum_stats st;
    struct quorum_write q;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    uint16_t hints[MAXR];
    size_t nh = 0;
    unsigned fail_at = c.n - c.q + 1;   /* failures that make W unreachable */
    unsigned j;
    char err[128];
    char want[128];

    memset(&st, 0, sizeof(st));
    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_write_init(&q, rep, c.n, c.q, 0, DEADLINE, &st),
                     RK_OK);
    for (j = 1; j <= fail_at; j++) {
        int s = quorum_write_fail(&q, rep[j - 1]);
        ck_assert_int_eq(s, j == fail_at ? QUORUM_DONE_FAIL : QUORUM_PENDING);
        /* A failed replica is due a hint at once. */
        ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 1);
        ck_assert_uint_eq(out[0], rep[j - 1]);
        hints[nh++] = out[0];
    }
    ck_assert_uint_eq(quorum_write_count(&q), 0);
    ck_assert_int_eq(quorum_write_error(&q, err, sizeof(err)), RK_OK);
    snprintf(want, sizeof(want),
             "-NOQUORUM write acknowledged by 0 of %u replica%s, %u required",
             c.n, c.n == 1 ? "" : "s", c.q);
    ck_assert_str_eq(err, want);
    /* The rest ack late: the result stays, they need no hint. */
    for (j = fail_at; j < c.n; j++) {
        ck_assert_int_eq(quorum_write_ack(&q, rep[j]), QUORUM_DONE_FAIL);
    }
    ck_assert_uint_eq(quorum_write_count(&q), 0);
    ck_assert_uint_eq(quorum_write_acks(&q), c.n - fail_at);
    ck_assert_int_eq(quorum_write_settled(&q), 1);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 0);
    assert_set(hints, nh, rep, fail_at);
    ck_assert_uint_eq(st.writes_failed, 1);
    ck_assert_uint_eq(st.writes_ok, 0);
}
END_TEST

START_TEST(write_fails_at_deadline)
{
    struct cfg c = cfg_of(_i);
    struct quorum_write q;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    unsigned k;
    size_t got;
    char err[128];
    char want[128];

    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_write_init(&q, rep, c.n, c.q, 0, DEADLINE, NULL),
                     RK_OK);
    for (k = 0; k + 1 < c.q; k++) {
        ck_assert_int_eq(quorum_write_ack(&q, rep[k]), QUORUM_PENDING);
    }
    ck_assert_int_eq(quorum_write_timeout(&q, 0), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE - 1), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_settled(&q), 0);
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE), QUORUM_DONE_FAIL);
    ck_assert_uint_eq(quorum_write_count(&q), c.q - 1);
    quorum_write_error(&q, err, sizeof(err));
    snprintf(want, sizeof(want),
             "-NOQUORUM write acknowledged by %u of %u replica%s, "
             "%u required", c.q - 1, c.n, c.n == 1 ? "" : "s", c.q);
    ck_assert_str_eq(err, want);
    /* Every replica that did not ack gets a hint. */
    got = quorum_write_take_hints(&q, out, MAXR);
    assert_set(out, got, rep + c.q - 1, c.n - c.q + 1);
    /* A late ack changes nothing. */
    ck_assert_int_eq(quorum_write_ack(&q, rep[c.n - 1]), QUORUM_DONE_FAIL);
    ck_assert_uint_eq(quorum_write_count(&q), c.q - 1);
}
END_TEST

/* N=5 W=3: hint lists while the op runs, after it and after late acks. */
START_TEST(write_hint_lists_exact)
{
    struct quorum_write q;
    uint16_t rep[5] = { 4, 9, 2, 7, 30 };
    uint16_t out[MAXR];
    size_t got;

    ck_assert_int_eq(quorum_write_init(&q, rep, 5, 3, 0, DEADLINE, NULL),
                     RK_OK);
    quorum_write_ack(&q, 4);
    quorum_write_fail(&q, 2);
    got = quorum_write_take_hints(&q, out, MAXR);
    ck_assert_uint_eq(got, 1);
    ck_assert_uint_eq(out[0], 2);
    ck_assert_int_eq(quorum_write_ack(&q, 9), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 7), QUORUM_DONE_OK);
    /* 30 is silent; the op is done, not settled: nothing due yet. */
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 0);
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE), QUORUM_DONE_OK);
    got = quorum_write_take_hints(&q, out, MAXR);
    ck_assert_uint_eq(got, 1);
    ck_assert_uint_eq(out[0], 30);
    ck_assert_int_eq(quorum_write_hinted(&q, 30), QUORUM_DONE_OK);

    /* A late ack before the end clears the need. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 5, 3, 0, DEADLINE, NULL),
                     RK_OK);
    quorum_write_ack(&q, 4);
    quorum_write_ack(&q, 9);
    quorum_write_ack(&q, 2);
    ck_assert_int_eq(quorum_write_state(&q), QUORUM_DONE_OK);
    quorum_write_ack(&q, 30);
    quorum_write_timeout(&q, DEADLINE + 5);
    got = quorum_write_take_hints(&q, out, MAXR);
    ck_assert_uint_eq(got, 1);
    ck_assert_uint_eq(out[0], 7);

    /* cap smaller than the due list: the rest comes next time. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 5, 5, 0, DEADLINE, NULL),
                     RK_OK);
    quorum_write_ack(&q, 9);
    quorum_write_timeout(&q, DEADLINE);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, 2), 2);
    ck_assert_uint_eq(out[0], 4);
    ck_assert_uint_eq(out[1], 2);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, 2), 2);
    ck_assert_uint_eq(out[0], 7);
    ck_assert_uint_eq(out[1], 30);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, 2), 0);

    /* A replica the caller hinted on its own is not handed out. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 5, 2, 0, DEADLINE, NULL),
                     RK_OK);
    quorum_write_hinted(&q, 30);
    quorum_write_ack(&q, 4);
    quorum_write_ack(&q, 9);
    quorum_write_timeout(&q, DEADLINE);
    got = quorum_write_take_hints(&q, out, MAXR);
    ck_assert_uint_eq(got, 2);
    ck_assert_uint_eq(out[0], 2);
    ck_assert_uint_eq(out[1], 7);
}
END_TEST

START_TEST(write_sloppy_counts_hints)
{
    struct quorum_write q;
    uint16_t rep[3] = { 1, 2, 3 };
    uint16_t out[MAXR];
    char err[128];

    /* Strict: a hint does not count. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, 0, DEADLINE, NULL),
                     RK_OK);
    quorum_write_ack(&q, 1);
    ck_assert_int_eq(quorum_write_fail(&q, 2), QUORUM_PENDING);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 1);
    ck_assert_int_eq(quorum_write_hinted(&q, 2), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_fail(&q, 3), QUORUM_DONE_FAIL);
    ck_assert_uint_eq(quorum_write_count(&q), 1);

    /* Sloppy: it does. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, QUORUM_F_SLOPPY,
                                       DEADLINE, NULL), RK_OK);
    quorum_write_ack(&q, 1);
    ck_assert_int_eq(quorum_write_fail(&q, 2), QUORUM_PENDING);
    ck_assert_uint_eq(quorum_write_take_hints(&q, out, MAXR), 1);
    ck_assert_uint_eq(out[0], 2);
    ck_assert_int_eq(quorum_write_hinted(&q, 2), QUORUM_DONE_OK);
    ck_assert_uint_eq(quorum_write_count(&q), 2);
    ck_assert_uint_eq(quorum_write_acks(&q), 1);

    /* Sloppy: failures alone do not fail the op while hints may work... */
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, QUORUM_F_SLOPPY,
                                       DEADLINE, NULL), RK_OK);
    quorum_write_ack(&q, 1);
    ck_assert_int_eq(quorum_write_fail(&q, 2), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_fail(&q, 3), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_hint_fail(&q, 2), QUORUM_PENDING);
    /* ... but do once their hints failed too. */
    ck_assert_int_eq(quorum_write_hint_fail(&q, 3), QUORUM_DONE_FAIL);
    ck_assert_uint_eq(quorum_write_count(&q), 1);
    ck_assert_int_eq(quorum_write_error(&q, err, sizeof(err)), RK_OK);
    ck_assert_str_eq(err, "-NOQUORUM write acknowledged or hinted for 1 of "
                     "3 replicas, 2 required");

    /* Sloppy: hints for pending replicas count; no double count. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 3, QUORUM_F_SLOPPY,
                                       DEADLINE, NULL), RK_OK);
    ck_assert_int_eq(quorum_write_hinted(&q, 3), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 3), QUORUM_PENDING);
    ck_assert_uint_eq(quorum_write_count(&q), 1);
    ck_assert_int_eq(quorum_write_hinted(&q, 1), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_hinted(&q, 2), QUORUM_DONE_OK);
    ck_assert_uint_eq(quorum_write_count(&q), 3);
    ck_assert_uint_eq(quorum_write_acks(&q), 1);

    /* Sloppy: a deadline still fails the op. */
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, QUORUM_F_SLOPPY,
                                       DEADLINE, NULL), RK_OK);
    quorum_write_fail(&q, 1);
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE), QUORUM_DONE_FAIL);
}
END_TEST

START_TEST(write_duplicates_and_strangers_ignored)
{
    struct quorum_write q;
    uint16_t rep[3] = { 5, 6, 7 };

    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, 0, DEADLINE, NULL),
                     RK_OK);
    ck_assert_int_eq(quorum_write_ack(&q, 5), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 5), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_fail(&q, 5), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 4), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 0), QUORUM_PENDING);
    ck_assert_uint_eq(quorum_write_acks(&q), 1);
    /* A failure is final: a later ack from it does not count. */
    ck_assert_int_eq(quorum_write_fail(&q, 6), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_fail(&q, 6), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 6), QUORUM_PENDING);
    ck_assert_uint_eq(quorum_write_acks(&q), 1);
    ck_assert_int_eq(quorum_write_fail(&q, 8), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_hinted(&q, 5), QUORUM_PENDING);
    ck_assert_int_eq(quorum_write_ack(&q, 7), QUORUM_DONE_OK);
}
END_TEST

START_TEST(write_events_after_done_change_nothing)
{
    struct quorum_write q;
    uint16_t rep[5] = { 0, 1, 2, 3, 4 };
    unsigned i;

    ck_assert_int_eq(quorum_write_init(&q, rep, 5, 3, 0, DEADLINE, NULL),
                     RK_OK);
    for (i = 0; i < 3; i++) {
        quorum_write_ack(&q, rep[i]);
    }
    ck_assert_int_eq(quorum_write_fail(&q, 3), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_write_ack(&q, 4), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE * 2), QUORUM_DONE_OK);
    ck_assert_uint_eq(quorum_write_count(&q), 3);
    ck_assert_uint_eq(quorum_write_acks(&q), 4);

    ck_assert_int_eq(quorum_write_init(&q, rep, 5, 5, 0, DEADLINE, NULL),
                     RK_OK);
    quorum_write_ack(&q, 0);
    ck_assert_int_eq(quorum_write_fail(&q, 1), QUORUM_DONE_FAIL);
    for (i = 2; i < 5; i++) {
        ck_assert_int_eq(quorum_write_ack(&q, rep[i]), QUORUM_DONE_FAIL);
    }
    ck_assert_int_eq(quorum_write_timeout(&q, DEADLINE), QUORUM_DONE_FAIL);
    ck_assert_uint_eq(quorum_write_count(&q), 1);
    ck_assert_uint_eq(quorum_write_acks(&q), 4);
}
END_TEST

START_TEST(write_init_rejects_bad_arguments)
{
    struct quorum_write q;
    uint16_t rep[MAXR + 1];
    unsigned i;

    for (i = 0; i <= MAXR; i++) {
        rep[i] = (uint16_t)i;
    }
    ck_assert_int_eq(quorum_write_init(&q, rep, 0, 1, 0, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_write_init(&q, rep, MAXR + 1, 1, 0, 0, NULL),
                     RK_ERR);
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 0, 0, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 4, 0, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, 1u << 5, 0, NULL),
                     RK_ERR);
    ck_assert_int_eq(quorum_write_init(&q, NULL, 3, 2, 0, 0, NULL), RK_ERR);
    rep[2] = rep[0];
    ck_assert_int_eq(quorum_write_init(&q, rep, 3, 2, 0, 0, NULL), RK_ERR);
    rep[2] = 2;

    /* The largest list works, bit 63 included. */
    ck_assert_int_eq(quorum_write_init(&q, rep, MAXR, MAXR, 0, DEADLINE,
                                       NULL), RK_OK);
    for (i = 0; i + 1 < MAXR; i++) {
        ck_assert_int_eq(quorum_write_ack(&q, rep[i]), QUORUM_PENDING);
    }
    ck_assert_int_eq(quorum_write_ack(&q, rep[MAXR - 1]), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_write_settled(&q), 1);
}
END_TEST

/* ---- error texts and counters ------------------------------------------ */

START_TEST(error_texts)
{
    char buf[128];
    char small[12];

    ck_assert_int_eq(quorum_error_text(buf, sizeof(buf), QUORUM_ERR_WRITE,
                                       1, 3, 2), RK_OK);
    ck_assert_str_eq(buf, "-NOQUORUM write acknowledged by 1 of 3 replicas, "
                     "2 required");
    ck_assert_int_eq(quorum_error_text(buf, sizeof(buf), QUORUM_ERR_READ,
                                       1, 3, 2), RK_OK);
    ck_assert_str_eq(buf, "-NOQUORUM read answered by 1 of 3 replicas, "
                     "2 required");
    ck_assert_int_eq(quorum_error_text(buf, sizeof(buf), QUORUM_ERR_REPAIR,
                                       2, 5, 3), RK_OK);
    ck_assert_str_eq(buf, "-NOQUORUM read repair left the newest version on "
                     "2 of 5 replicas, 3 required");
    ck_assert_int_eq(quorum_error_text(buf, sizeof(buf),
                                       QUORUM_ERR_WRITE_SLOPPY, 0, 1, 1),
                     RK_OK);
    ck_assert_str_eq(buf, "-NOQUORUM write acknowledged or hinted for 0 of "
                     "1 replica, 1 required");
    /* Short buffer: truncated, terminated, RK_ERR. */
    ck_assert_int_eq(quorum_error_text(small, sizeof(small),
                                       QUORUM_ERR_WRITE, 1, 3, 2), RK_ERR);
    ck_assert_str_eq(small, "-NOQUORUM w");
    ck_assert_int_eq(quorum_error_text(NULL, 0, QUORUM_ERR_WRITE, 1, 3, 2),
                     RK_ERR);
    ck_assert_int_eq(quorum_error_text(buf, sizeof(buf),
                                       (enum quorum_err_kind)42, 1, 3, 2),
                     RK_ERR);
    ck_assert_str_eq(buf, "-NOQUORUM");
}
END_TEST

START_TEST(stats_add_sums_workers)
{
    struct quorum_stats a;
    struct quorum_stats b;
    struct quorum_stats sum;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&sum, 0, sizeof(sum));
    a.writes_ok = 1;
    a.writes_failed = 2;
    a.reads_ok = 3;
    a.reads_failed = 4;
    a.reads_repairing = 5;
    a.repairs_sent = 6;
    a.repairs_acked = 7;
    a.repairs_failed = 8;
    a.hints_requested = 9;
    b = a;
    quorum_stats_add(&sum, &a);
    quorum_stats_add(&sum, &b);
    ck_assert_uint_eq(sum.writes_ok, 2);
    ck_assert_uint_eq(sum.writes_failed, 4);
    ck_assert_uint_eq(sum.reads_ok, 6);
    ck_assert_uint_eq(sum.reads_failed, 8);
    ck_assert_uint_eq(sum.reads_repairing, 10);
    ck_assert_uint_eq(sum.repairs_sent, 12);
    ck_assert_uint_eq(sum.repairs_acked, 14);
    ck_assert_uint_eq(sum.repairs_failed, 16);
    ck_assert_uint_eq(sum.hints_requested, 18);
}
END_TEST

/* ---- reads: choosing the newest ---------------------------------------- */

/* One answer of a table row: kind 0 absent, 1 live, 2 tombstone. */
struct ans {
    int kind;
    uint64_t version;
    uint32_t node;
    const char *value;
};

struct newest_case {
    const char *name;
    unsigned n;
    struct ans a[5];
    int newest;             /* index of the newest answer, -1: absent */
    const char *stale;      /* stale answer indexes as digits, e.g. "02" */
};

static const struct newest_case newest_cases[] = {
    { "all equal", 3,
      { {1, 10, 1, "a"}, {1, 10, 1, "a"}, {1, 10, 1, "a"} }, 0, "" },
    { "newest in the middle", 3,
      { {1, 10, 1, "a"}, {1, 30, 1, "c"}, {1, 20, 1, "b"} }, 1, "02" },
    { "newest first", 3,
      { {1, 30, 1, "c"}, {1, 10, 1, "a"}, {1, 20, 1, "b"} }, 0, "12" },
    { "newest last", 5,
      { {1, 1, 1, "a"}, {1, 2, 1, "b"}, {1, 3, 1, "c"}, {1, 4, 1, "d"},
        {1, 5, 1, "e"} }, 4, "0123" },
    { "tombstone newest", 3,
      { {1, 40, 1, "old"}, {2, 50, 1, ""}, {1, 40, 1, "old"} }, 1, "02" },
    { "tombstone older", 3,
      { {2, 40, 1, ""}, {1, 50, 1, "new"}, {2, 40, 1, ""} }, 1, "02" },
    { "equal versions: node breaks the tie", 3,
      { {1, 70, 2, "n2"}, {1, 70, 9, "n9"}, {1, 70, 2, "n2"} }, 1, "02" },
    { "equal versions: node tie, winner first", 3,
      { {1, 70, 9, "n9"}, {1, 70, 2, "n2"}, {1, 69, 99, "x"} }, 0, "12" },
    { "absent vs present", 3,
      { {0, 0, 0, NULL}, {1, 1, 1, "v"}, {0, 0, 0, NULL} }, 1, "02" },
    { "absent vs tombstone", 3,
      { {2, 5, 1, ""}, {0, 0, 0, NULL}, {2, 5, 1, ""} }, 0, "1" },
    { "all absent", 3,
      { {0, 0, 0, NULL}, {0, 0, 0, NULL}, {0, 0, 0, NULL} }, -1, "" },
    { "one replica", 1, { {1, 3, 3, "only"} }, 0, "" },
    { "two of five newest", 5,
      { {1, 8, 1, "h"}, {0, 0, 0, NULL}, {1, 9, 4, "i"}, {1, 9, 4, "i"},
        {2, 7, 1, ""} }, 2, "014" },
};
#define NNEWEST (int)(sizeof(newest_cases) / sizeof(newest_cases[0]))

/* Answer a table row's answer i from replica who. */
static int
answer_row(struct quorum_read *q, uint16_t who, const struct ans *a)
{
    struct store_record r;

    if (a->kind == 0) {
        return quorum_read_answer(q, who, 0, NULL);
    }
    r = a->kind == 2 ? tomb_of(a->version, a->node)
                     : rec_of(a->version, a->node, a->value);
    return quorum_read_answer(q, who, 1, &r);
}

START_TEST(read_picks_newest)
{
    const struct newest_case *t = &newest_cases[_i];
    struct quorum_read q;
    struct store_record rec;
    struct store_record dec;
    struct rk_slice enc;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    uint16_t want[MAXR];
    size_t nw = 0;
    size_t k;
    unsigned i;
    int s = -1;

    pref_of(rep, t->n);
    /* R = N: every answer is one of the R. */
    ck_assert_int_eq(quorum_read_init(&q, rep, t->n, t->n, DEADLINE, NULL),
                     RK_OK);
    for (i = 0; i < t->n; i++) {
        s = answer_row(&q, rep[i], &t->a[i]);
    }
    for (k = 0; t->stale[k] != '\0'; k++) {
        want[nw++] = rep[t->stale[k] - '0'];
    }
    /* Disagreement blocks on repair (R = N is a majority). */
    ck_assert_msg(s == (nw == 0 ? QUORUM_DONE_OK : QUORUM_REPAIRING),
                  "%s: state %d", t->name, s);
    if (t->newest < 0) {
        ck_assert_int_eq(quorum_read_result(&q, &rec, &enc), 0);
    } else {
        const struct ans *a = &t->a[t->newest];
        ck_assert_int_eq(quorum_read_result(&q, &rec, &enc), 1);
        ck_assert_uint_eq(rec.version, a->version);
        ck_assert_uint_eq(rec.node, a->node);
        ck_assert_int_eq((rec.flags & STORE_F_TOMBSTONE) != 0, a->kind == 2);
        ck_assert_int_eq(store_record_live(&rec, 0), a->kind == 1);
        ck_assert_uint_eq(rec.value.len, strlen(a->value));
        ck_assert(memcmp(rec.value.ptr, a->value, rec.value.len) == 0);
        ck_assert_int_eq(store_record_decode(enc.ptr, enc.len, &dec), RK_OK);
        ck_assert_int_eq(store_record_cmp(&dec, &rec), 0);
    }
    k = quorum_read_stale(&q, out, MAXR);
    ck_assert_msg(k == nw, "%s: %zu stale, want %zu", t->name, k, nw);
    assert_set(out, k, want, nw);
    k = quorum_read_take_repairs(&q, out, MAXR);
    assert_set(out, k, want, nw);
    quorum_read_deinit(&q);
}
END_TEST

/* ---- reads: quorum table ------------------------------------------------ */

START_TEST(read_ok_exactly_at_r_when_agreeing)
{
    struct cfg c = cfg_of(_i);
    struct quorum_stats st;
    struct quorum_read q;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    unsigned k;

    memset(&st, 0, sizeof(st));
    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_read_init(&q, rep, c.n, c.q, DEADLINE, &st),
                     RK_OK);
    ck_assert_int_eq(quorum_read_blocking(&q), strcmp(c.level, "ONE") != 0 ||
                     c.n == 1);
    for (k = 0; k < c.n; k++) {
        int s = answer_v(&q, rep[k], 42);
        ck_assert_int_eq(s, k + 1 >= c.q ? QUORUM_DONE_OK : QUORUM_PENDING);
        ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 0);
    }
    ck_assert_uint_eq(quorum_read_holders(&q), c.n);
    ck_assert_int_eq(quorum_read_settled(&q), 1);
    ck_assert_uint_eq(st.reads_ok, 1);
    ck_assert_uint_eq(st.reads_repairing, 0);
    ck_assert_uint_eq(st.repairs_sent, 0);
    quorum_read_deinit(&q);
}
END_TEST

START_TEST(read_fails_as_soon_as_r_unreachable)
{
    struct cfg c = cfg_of(_i);
    struct quorum_read q;
    uint16_t rep[MAXR] = { 0 };
    unsigned fail_at = c.n - c.q + 1;
    unsigned j;
    char err[128];
    char want[128];

    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_read_init(&q, rep, c.n, c.q, DEADLINE, NULL),
                     RK_OK);
    for (j = 1; j <= fail_at; j++) {
        int s = quorum_read_fail(&q, rep[j - 1]);
        ck_assert_int_eq(s, j == fail_at ? QUORUM_DONE_FAIL : QUORUM_PENDING);
    }
    quorum_read_error(&q, err, sizeof(err));
    snprintf(want, sizeof(want),
             "-NOQUORUM read answered by 0 of %u replica%s, %u required",
             c.n, c.n == 1 ? "" : "s", c.q);
    ck_assert_str_eq(err, want);
    /* Late answers do not change the result. */
    for (j = fail_at; j < c.n; j++) {
        ck_assert_int_eq(answer_v(&q, rep[j], 5), QUORUM_DONE_FAIL);
    }
    quorum_read_error(&q, err, sizeof(err));
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(quorum_read_settled(&q), 1);
    quorum_read_deinit(&q);
}
END_TEST

START_TEST(read_fails_at_deadline)
{
    struct cfg c = cfg_of(_i);
    struct quorum_stats st;
    struct quorum_read q;
    uint16_t rep[MAXR] = { 0 };
    unsigned k;
    char err[128];
    char want[128];

    memset(&st, 0, sizeof(st));
    pref_of(rep, c.n);
    ck_assert_int_eq(quorum_read_init(&q, rep, c.n, c.q, DEADLINE, &st),
                     RK_OK);
    for (k = 0; k + 1 < c.q; k++) {
        ck_assert_int_eq(answer_v(&q, rep[k], 9), QUORUM_PENDING);
    }
    ck_assert_int_eq(quorum_read_timeout(&q, DEADLINE - 1), QUORUM_PENDING);
    ck_assert_int_eq(quorum_read_settled(&q), 0);
    ck_assert_int_eq(quorum_read_timeout(&q, DEADLINE), QUORUM_DONE_FAIL);
    ck_assert_int_eq(quorum_read_settled(&q), 1);
    quorum_read_error(&q, err, sizeof(err));
    snprintf(want, sizeof(want),
             "-NOQUORUM read answered by %u of %u replica%s, %u required",
             c.q - 1, c.n, c.n == 1 ? "" : "s", c.q);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(st.reads_failed, 1);
    quorum_read_deinit(&q);
}
END_TEST

/*
 * Blocking reads (N=3 and 5 at QUORUM and ALL): h of the R answers hold
 * the newest, the other R - h are older; the read repairs those and
 * answers after exactly R - h repair acks.
 */
static const struct { unsigned n; const char *level; } blocking_cfgs[] = {
    { 3, "QUORUM" }, { 3, "ALL" }, { 5, "QUORUM" }, { 5, "ALL" },
    { 5, "4" },
};
#define NBLOCKING (int)(sizeof(blocking_cfgs) / sizeof(blocking_cfgs[0]))

START_TEST(read_blocks_until_repaired_on_r)
{
    unsigned n = blocking_cfgs[_i].n;
    unsigned r = (unsigned)ring_quorum(n, blocking_cfgs[_i].level);
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    unsigned h;

    pref_of(rep, n);
    for (h = 1; h < r; h++) {
        struct quorum_stats st;
        struct quorum_read q;
        struct store_record rec;
        unsigned k;
        size_t got;

        memset(&st, 0, sizeof(st));
        ck_assert_int_eq(quorum_read_init(&q, rep, n, r, DEADLINE, &st),
                         RK_OK);
        ck_assert_int_eq(quorum_read_blocking(&q), 1);
        /* Older answers first (one absent), then the h newest. */
        for (k = 0; k < r - h; k++) {
            ck_assert_int_eq(answer_v(&q, rep[k], k == 0 ? 0 : 3),
                             QUORUM_PENDING);
        }
        for (k = r - h; k < r; k++) {
            ck_assert_int_eq(answer_v(&q, rep[k], 8),
                             k + 1 == r ? QUORUM_REPAIRING : QUORUM_PENDING);
        }
        ck_assert_uint_eq(quorum_read_holders(&q), h);
        ck_assert_int_eq(quorum_read_result(&q, &rec, NULL), 1);
        ck_assert_uint_eq(rec.version, 8);
        got = quorum_read_take_repairs(&q, out, MAXR);
        assert_set(out, got, rep, r - h);
        ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 0);
        for (k = 0; k < r - h; k++) {
            ck_assert_int_eq(quorum_read_repair_ack(&q, rep[k]),
                             k + 1 == r - h ? QUORUM_DONE_OK
                                            : QUORUM_REPAIRING);
        }
        ck_assert_uint_eq(quorum_read_holders(&q), r);
        ck_assert_uint_eq(st.reads_ok, 1);
        ck_assert_uint_eq(st.reads_repairing, 1);
        ck_assert_uint_eq(st.repairs_sent, r - h);
        ck_assert_uint_eq(st.repairs_acked, r - h);
        /* Still waiting for the replicas beyond R. */
        ck_assert_int_eq(quorum_read_settled(&q), r == n);
        quorum_read_deinit(&q);
    }
}
END_TEST

/* N=3 QUORUM: the ways a REPAIRING read ends. */
START_TEST(read_repairing_outcomes)
{
    struct quorum_stats st;
    struct quorum_read q;
    uint16_t rep[3] = { 11, 12, 13 };
    uint16_t out[MAXR];
    char err[128];

    memset(&st, 0, sizeof(st));
    /* The third replica answers the newest meanwhile: done, no ack. */
    quorum_read_init(&q, rep, 3, 2, DEADLINE, &st);
    answer_v(&q, 11, 9);
    ck_assert_int_eq(answer_v(&q, 12, 1), QUORUM_REPAIRING);
    ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 1);
    ck_assert_uint_eq(out[0], 12);
    ck_assert_int_eq(answer_v(&q, 13, 9), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_read_settled(&q), 0);   /* repair in flight */
    ck_assert_int_eq(quorum_read_repair_ack(&q, 12), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_read_settled(&q), 1);
    quorum_read_deinit(&q);

    /* A newer version arriving meanwhile holds at least the result. */
    quorum_read_init(&q, rep, 3, 2, DEADLINE, &st);
    answer_v(&q, 11, 9);
    answer_v(&q, 12, 1);
    ck_assert_int_eq(answer_v(&q, 13, 20), QUORUM_DONE_OK);
    {
        struct store_record rec;
        ck_assert_int_eq(quorum_read_result(&q, &rec, NULL), 1);
        ck_assert_uint_eq(rec.version, 9);
    }
    quorum_read_deinit(&q);

    /* The third answers stale too: repaired, its ack completes the read. */
    quorum_read_init(&q, rep, 3, 2, DEADLINE, &st);
    answer_v(&q, 11, 9);
    answer_v(&q, 12, 1);
    quorum_read_take_repairs(&q, out, MAXR);
    ck_assert_int_eq(quorum_read_repair_fail(&q, 12), QUORUM_REPAIRING);
    ck_assert_int_eq(answer_v(&q, 13, 0), QUORUM_REPAIRING);
    ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 1);
    ck_assert_uint_eq(out[0], 13);
    ck_assert_int_eq(quorum_read_repair_ack(&q, 13), QUORUM_DONE_OK);
    quorum_read_deinit(&q);

    /* Repair failed and the third replica failed: unreachable. */
    quorum_read_init(&q, rep, 3, 2, DEADLINE, &st);
    answer_v(&q, 11, 9);
    answer_v(&q, 12, 1);
    quorum_read_take_repairs(&q, out, MAXR);
    ck_assert_int_eq(quorum_read_repair_fail(&q, 12), QUORUM_REPAIRING);
    ck_assert_int_eq(quorum_read_fail(&q, 13), QUORUM_DONE_FAIL);
    ck_assert_int_eq(quorum_read_error(&q, err, sizeof(err)), RK_OK);
    ck_assert_str_eq(err, "-NOQUORUM read repair left the newest version on "
                     "1 of 3 replicas, 2 required");
    quorum_read_deinit(&q);

    /* The deadline while repairing. */
    quorum_read_init(&q, rep, 3, 2, DEADLINE, &st);
    answer_v(&q, 11, 9);
    answer_v(&q, 12, 1);
    quorum_read_take_repairs(&q, out, MAXR);
    ck_assert_int_eq(quorum_read_timeout(&q, DEADLINE - 1),
                     QUORUM_REPAIRING);
    ck_assert_int_eq(quorum_read_timeout(&q, DEADLINE), QUORUM_DONE_FAIL);
    quorum_read_error(&q, err, sizeof(err));
    ck_assert_str_eq(err, "-NOQUORUM read repair left the newest version on "
                     "1 of 3 replicas, 2 required");
    /* A late repair ack is counted but changes nothing. */
    ck_assert_int_eq(quorum_read_repair_ack(&q, 12), QUORUM_DONE_FAIL);
    quorum_read_deinit(&q);

    ck_assert_uint_eq(st.reads_ok, 3);
    ck_assert_uint_eq(st.reads_failed, 2);
    ck_assert_uint_eq(st.reads_repairing, 5);
    ck_assert_uint_eq(st.repairs_sent, 5);
    ck_assert_uint_eq(st.repairs_acked, 3);
    ck_assert_uint_eq(st.repairs_failed, 2);
}
END_TEST

/* N=3 ALL: one failed repair is enough to make R unreachable. */
START_TEST(read_all_fails_on_first_repair_failure)
{
    struct quorum_read q;
    uint16_t rep[3] = { 1, 2, 3 };
    uint16_t out[MAXR];
    char err[128];

    quorum_read_init(&q, rep, 3, 3, DEADLINE, NULL);
    answer_v(&q, 1, 9);
    answer_v(&q, 2, 4);
    ck_assert_int_eq(answer_v(&q, 3, 0), QUORUM_REPAIRING);
    ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 2);
    ck_assert_int_eq(quorum_read_repair_ack(&q, 3), QUORUM_REPAIRING);
    ck_assert_int_eq(quorum_read_repair_fail(&q, 2), QUORUM_DONE_FAIL);
    quorum_read_error(&q, err, sizeof(err));
    ck_assert_str_eq(err, "-NOQUORUM read repair left the newest version on "
                     "2 of 3 replicas, 3 required");
    ck_assert_int_eq(quorum_read_settled(&q), 1);
    quorum_read_deinit(&q);
}
END_TEST

/* ONE reads (any N) answer at once; late answers feed background repair. */
START_TEST(read_one_answers_at_once)
{
    unsigned n = cfg_n[_i];
    struct quorum_stats st;
    struct quorum_read q;
    struct store_record rec;
    uint16_t rep[MAXR] = { 0 };
    uint16_t out[MAXR];
    size_t got;

    memset(&st, 0, sizeof(st));
    pref_of(rep, n);
    ck_assert_int_eq(quorum_read_init(&q, rep, n, 1, DEADLINE, &st), RK_OK);
    ck_assert_int_eq(answer_v(&q, rep[0], 5), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_read_result(&q, &rec, NULL), 1);
    ck_assert_uint_eq(rec.version, 5);
    ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 0);
    if (n >= 3) {
        ck_assert_int_eq(quorum_read_blocking(&q), 0);
        /* Late: an older answer and a newer one. */
        ck_assert_int_eq(answer_v(&q, rep[1], 2), QUORUM_DONE_OK);
        ck_assert_int_eq(answer_v(&q, rep[2], 7), QUORUM_DONE_OK);
        ck_assert_int_eq(quorum_read_result(&q, &rec, NULL), 1);
        ck_assert_uint_eq(rec.version, 5);
        got = quorum_read_take_repairs(&q, out, MAXR);
        ck_assert_uint_eq(got, 1);
        ck_assert_uint_eq(out[0], rep[1]);
        ck_assert_int_eq(quorum_read_settled(&q), 0);
        ck_assert_int_eq(quorum_read_repair_ack(&q, rep[1]), QUORUM_DONE_OK);
    }
    if (n == 5) {
        ck_assert_int_eq(answer_v(&q, rep[3], 0), QUORUM_DONE_OK);
        ck_assert_int_eq(quorum_read_fail(&q, rep[4]), QUORUM_DONE_OK);
        got = quorum_read_take_repairs(&q, out, MAXR);
        ck_assert_uint_eq(got, 1);
        ck_assert_uint_eq(out[0], rep[3]);
        ck_assert_int_eq(quorum_read_repair_fail(&q, rep[3]),
                         QUORUM_DONE_OK);
        got = quorum_read_stale(&q, out, MAXR);
        ck_assert_uint_eq(got, 2);
        ck_assert_uint_eq(out[0], rep[1]);
        ck_assert_uint_eq(out[1], rep[3]);
    }
    ck_assert_int_eq(quorum_read_settled(&q), 1);
    ck_assert_uint_eq(st.reads_ok, 1);
    ck_assert_uint_eq(st.reads_repairing, 0);
    ck_assert_uint_eq(st.repairs_sent, n == 5 ? 2 : n == 3 ? 1 : 0);
    quorum_read_deinit(&q);
}
END_TEST

/* A weak count (2 of 5) with disagreeing answers: done, repair later. */
START_TEST(read_weak_count_repairs_in_background)
{
    struct quorum_read q;
    uint16_t rep[5] = { 1, 2, 3, 4, 5 };
    uint16_t out[MAXR];

    quorum_read_init(&q, rep, 5, 2, DEADLINE, NULL);
    ck_assert_int_eq(quorum_read_blocking(&q), 0);
    answer_v(&q, 4, 3);
    ck_assert_int_eq(answer_v(&q, 2, 6), QUORUM_DONE_OK);
    ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 1);
    ck_assert_uint_eq(out[0], 4);
    quorum_read_deinit(&q);
}
END_TEST

START_TEST(read_duplicates_and_strangers_ignored)
{
    struct quorum_read q;
    struct store_record rec;
    uint16_t rep[3] = { 20, 21, 22 };
    uint16_t out[MAXR];

    quorum_read_init(&q, rep, 3, 2, DEADLINE, NULL);
    ck_assert_int_eq(answer_v(&q, 20, 1), QUORUM_PENDING);
    /* A second answer from 20, even a newer one, is ignored. */
    ck_assert_int_eq(answer_v(&q, 20, 9), QUORUM_PENDING);
    ck_assert_int_eq(quorum_read_fail(&q, 20), QUORUM_PENDING);
    ck_assert_int_eq(answer_v(&q, 19, 9), QUORUM_PENDING);
    ck_assert_int_eq(quorum_read_fail(&q, 23), QUORUM_PENDING);
    ck_assert_uint_eq(quorum_read_answers(&q), 1);
    /* Repair events for a replica never sent a repair are ignored. */
    ck_assert_int_eq(quorum_read_repair_ack(&q, 21), QUORUM_PENDING);
    ck_assert_int_eq(quorum_read_fail(&q, 21), QUORUM_PENDING);
    ck_assert_int_eq(answer_v(&q, 21, 9), QUORUM_PENDING);
    ck_assert_int_eq(answer_v(&q, 22, 4), QUORUM_REPAIRING);
    ck_assert_int_eq(quorum_read_result(&q, &rec, NULL), 1);
    ck_assert_uint_eq(rec.version, 4);
    ck_assert_uint_eq(quorum_read_take_repairs(&q, out, MAXR), 1);
    ck_assert_uint_eq(out[0], 20);
    ck_assert_int_eq(quorum_read_repair_ack(&q, 22), QUORUM_REPAIRING);
    ck_assert_int_eq(quorum_read_repair_ack(&q, 20), QUORUM_DONE_OK);
    /* Repeats after the end. */
    ck_assert_int_eq(quorum_read_repair_ack(&q, 20), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_read_repair_fail(&q, 20), QUORUM_DONE_OK);
    ck_assert_int_eq(answer_v(&q, 22, 100), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_read_timeout(&q, DEADLINE), QUORUM_DONE_OK);
    ck_assert_int_eq(quorum_read_result(&q, &rec, NULL), 1);
    ck_assert_uint_eq(rec.version, 4);
    ck_assert_uint_eq(quorum_read_holders(&q), 2);
    quorum_read_deinit(&q);
    quorum_read_deinit(&q);
}
END_TEST

/* The op keeps its own copy of the newest record. */
START_TEST(read_copies_the_record)
{
    struct quorum_read q;
    struct store_record in;
    struct store_record rec;
    struct rk_slice enc;
    uint16_t rep[3] = { 1, 2, 3 };
    char *val = malloc(1000);
    unsigned i;

    ck_assert_ptr_nonnull(val);
    memset(val, 'a', 1000);
    quorum_read_init(&q, rep, 3, 3, DEADLINE, NULL);
    in = rec_of(7, 1, "");
    in.value.ptr = val;
    in.value.len = 1000;
    in.expire_ms = 123456;
    ck_assert_int_eq(quorum_read_answer(&q, 1, 1, &in), QUORUM_PENDING);
    memset(val, 'z', 1000);
    free(val);
    /* A smaller, newer record reuses the buffer; a bigger one grows it. */
    in = rec_of(8, 1, "small");
    quorum_read_answer(&q, 2, 1, &in);
    ck_assert_int_eq(quorum_read_result(&q, &rec, &enc), 1);
    ck_assert_uint_eq(rec.value.len, 5);
    val = malloc(5000);
    ck_assert_ptr_nonnull(val);
    memset(val, 'b', 5000);
    in = rec_of(9, 1, "");
    in.value.ptr = val;
    in.value.len = 5000;
    ck_assert_int_eq(quorum_read_answer(&q, 3, 1, &in), QUORUM_REPAIRING);
    memset(val, 'y', 5000);
    free(val);
    ck_assert_int_eq(quorum_read_result(&q, &rec, &enc), 1);
    ck_assert_uint_eq(rec.version, 9);
    ck_assert_uint_eq(rec.value.len, 5000);
    for (i = 0; i < 5000; i++) {
        ck_assert_int_eq(rec.value.ptr[i], 'b');
    }
    ck_assert(rec.value.ptr >= enc.ptr &&
              rec.value.ptr + rec.value.len <= enc.ptr + enc.len);
    quorum_read_deinit(&q);

    /* The first record's expiry and flags survive the copy. */
    quorum_read_init(&q, rep, 3, 1, DEADLINE, NULL);
    in = rec_of(7, 1, "e");
    in.expire_ms = 123456;
    quorum_read_answer(&q, 1, 1, &in);
    quorum_read_result(&q, &rec, NULL);
    ck_assert_int_eq(rec.expire_ms, 123456);
    ck_assert_int_eq(store_record_live(&rec, 123455), 1);
    ck_assert_int_eq(store_record_live(&rec, 123456), 0);
    quorum_read_deinit(&q);
}
END_TEST

START_TEST(read_init_rejects_bad_arguments)
{
    struct quorum_read q;
    uint16_t rep[4] = { 1, 2, 3, 1 };

    ck_assert_int_eq(quorum_read_init(&q, rep, 0, 1, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_read_init(&q, rep, 3, 0, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_read_init(&q, rep, 3, 4, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_read_init(&q, rep, 4, 2, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_read_init(&q, NULL, 3, 2, 0, NULL), RK_ERR);
    ck_assert_int_eq(quorum_read_init(&q, rep, MAXR + 1, 2, 0, NULL),
                     RK_ERR);
    /* Blocking is decided by 2 * R > N. */
    ck_assert_int_eq(quorum_read_init(&q, rep, 2, 1, 0, NULL), RK_OK);
    ck_assert_int_eq(quorum_read_blocking(&q), 0);
    quorum_read_deinit(&q);
    ck_assert_int_eq(quorum_read_init(&q, rep, 2, 2, 0, NULL), RK_OK);
    ck_assert_int_eq(quorum_read_blocking(&q), 1);
    quorum_read_deinit(&q);
}
END_TEST

/* ---- property tests ---------------------------------------------------- */

/* splitmix64: fixed seeds make every run the same. */
static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned
below(uint64_t *s, unsigned k)
{
    return (unsigned)(rnd(s) % k);
}

#define PROP_ITERS 20000
#define PROP_MAXN 7

/* Reference model of one write, one plain field per replica. */
struct wmodel {
    unsigned n;
    unsigned w;
    int sloppy;
    int outcome[PROP_MAXN];     /* 0 open, 1 acked, 2 failed */
    int hinted[PROP_MAXN];
    int hint_failed[PROP_MAXN];
    int taken[PROP_MAXN];
};

static unsigned
wm_counted(const struct wmodel *m)
{
    unsigned i;
    unsigned c = 0;

    for (i = 0; i < m->n; i++) {
        c += m->outcome[i] == 1 || (m->sloppy && m->hinted[i]);
    }
    return c;
}

static unsigned
wm_reachable(const struct wmodel *m)
{
    unsigned i;
    unsigned c = 0;

    for (i = 0; i < m->n; i++) {
        c += m->outcome[i] != 2 ||
             (m->sloppy && (m->hinted[i] || !m->hint_failed[i]));
    }
    return c;
}

START_TEST(write_property_random_interleavings)
{
    uint64_t seed = 0x5eed0001;
    unsigned it;

    for (it = 0; it < PROP_ITERS; it++) {
        struct wmodel m;
        struct quorum_write q;
        uint16_t rep[PROP_MAXN];
        uint16_t out[PROP_MAXN];
        int64_t now = 0;
        int prev = QUORUM_PENDING;
        unsigned done_count = 0;
        unsigned steps = 0;
        unsigned i;
        size_t k;

        memset(&m, 0, sizeof(m));
        m.n = 1 + below(&seed, PROP_MAXN);
        m.w = 1 + below(&seed, m.n);
        m.sloppy = (int)below(&seed, 2);
        for (i = 0; i < m.n; i++) {
            rep[i] = (uint16_t)(below(&seed, 8) + 8 * i);
        }
        ck_assert_int_eq(quorum_write_init(&q, rep, m.n, m.w,
                                           m.sloppy ? QUORUM_F_SLOPPY : 0,
                                           DEADLINE, NULL), RK_OK);
        while (now < DEADLINE + 100 && steps++ < 6 * m.n + 4) {
            unsigned e = below(&seed, 6);
            unsigned r = below(&seed, m.n);
            int s;

            switch (e) {
            case 0:
                s = quorum_write_ack(&q, rep[r]);
                if (m.outcome[r] == 0) {
                    m.outcome[r] = 1;
                }
                break;
            case 1:
                s = quorum_write_fail(&q, rep[r]);
                if (m.outcome[r] == 0) {
                    m.outcome[r] = 2;
                }
                break;
            case 2:
                s = quorum_write_hinted(&q, rep[r]);
                if (m.outcome[r] != 1) {
                    m.hinted[r] = 1;
                }
                break;
            case 3:
                s = quorum_write_hint_fail(&q, rep[r]);
                if (m.outcome[r] != 1 && !m.hinted[r]) {
                    m.hint_failed[r] = 1;
                }
                break;
            case 4:
                now += below(&seed, 400);
                s = quorum_write_timeout(&q, now);
                break;
            default:
                k = quorum_write_take_hints(&q, out, PROP_MAXN);
                for (i = 0; i < k; i++) {
                    int p = -1;
                    unsigned j;
                    for (j = 0; j < m.n; j++) {
                        if (rep[j] == out[i]) {
                            p = (int)j;
                        }
                    }
                    ck_assert_int_ge(p, 0);
                    /* Each once; only non-acked, non-hinted ones. */
                    ck_assert_int_eq(m.taken[p], 0);
                    ck_assert_int_ne(m.outcome[p], 1);
                    ck_assert_int_eq(m.hinted[p], 0);
                    m.taken[p] = 1;
                }
                s = (int)quorum_write_state(&q);
                break;
            }
            if (prev != QUORUM_PENDING) {
                ck_assert_int_eq(s, prev);
                ck_assert_uint_eq(quorum_write_count(&q), done_count);
            } else if (s == QUORUM_DONE_OK) {
                /* Never OK with fewer than W counted. */
                ck_assert_uint_ge(wm_counted(&m), m.w);
                done_count = wm_counted(&m);
                ck_assert_uint_eq(quorum_write_count(&q), done_count);
            } else if (s == QUORUM_DONE_FAIL) {
                /* Never FAIL while W is reachable before the deadline. */
                ck_assert(now >= DEADLINE || wm_reachable(&m) < m.w);
                ck_assert_uint_lt(wm_counted(&m), m.w);
                done_count = wm_counted(&m);
                ck_assert_uint_eq(quorum_write_count(&q), done_count);
            } else {
                /* PENDING exactly while undecided. */
                ck_assert_int_eq(s, QUORUM_PENDING);
                ck_assert_uint_lt(wm_counted(&m), m.w);
                ck_assert_uint_ge(wm_reachable(&m), m.w);
                ck_assert_int_lt(now, DEADLINE);
            }
            prev = s;
        }
        /* End: give up, take the rest of the hints; the union is exact. */
        quorum_write_timeout(&q, INT64_MAX);
        ck_assert_int_ne(quorum_write_state(&q), QUORUM_PENDING);
        ck_assert_int_eq(quorum_write_settled(&q), 1);
        k = quorum_write_take_hints(&q, out, PROP_MAXN);
        for (i = 0; i < k; i++) {
            unsigned j;
            for (j = 0; j < m.n; j++) {
                if (rep[j] == out[i]) {
                    ck_assert_int_eq(m.taken[j], 0);
                    m.taken[j] = 1;
                }
            }
        }
        for (i = 0; i < m.n; i++) {
            /* Every replica without ack, hint or failed hint was taken
             * (the taken ones were checked when they were taken). */
            if (m.outcome[i] != 1 && !m.hinted[i] && !m.hint_failed[i]) {
                ck_assert_msg(m.taken[i], "iter %u replica %u: no hint",
                              it, i);
            }
        }
    }
}
END_TEST

/* Reference model of one read: the version each replica answered. */
struct rmodel {
    unsigned n;
    unsigned r;
    int state[PROP_MAXN];       /* 0 open, 1 answered, 2 failed */
    uint64_t ver[PROP_MAXN];    /* 0: absent */
    int repair[PROP_MAXN];      /* 0 none, 1 sent, 2 acked, 3 failed */
};

START_TEST(read_property_random_interleavings)
{
    uint64_t seed = 0x5eed0002;
    unsigned it;

    for (it = 0; it < PROP_ITERS; it++) {
        struct rmodel m;
        struct quorum_read q;
        uint16_t rep[PROP_MAXN];
        uint16_t out[PROP_MAXN];
        int64_t now = 0;
        int prev = QUORUM_PENDING;
        uint64_t result = 0;
        int blocking;
        unsigned steps = 0;
        unsigned i;

        memset(&m, 0, sizeof(m));
        m.n = 1 + below(&seed, PROP_MAXN);
        m.r = 1 + below(&seed, m.n);
        blocking = 2 * m.r > m.n;
        for (i = 0; i < m.n; i++) {
            rep[i] = (uint16_t)(3 * i + 1);
        }
        ck_assert_int_eq(quorum_read_init(&q, rep, m.n, m.r, DEADLINE, NULL),
                         RK_OK);
        ck_assert_int_eq(quorum_read_blocking(&q), blocking);
        while (now < DEADLINE + 100 && steps++ < 8 * m.n + 4) {
            unsigned e = below(&seed, 7);
            unsigned x = below(&seed, m.n);
            unsigned answered = 0;
            unsigned open = 0;
            unsigned holders = 0;
            unsigned may = 0;
            int s;

            switch (e) {
            case 0:
            case 1: {
                /* Versions 1..4 (node 1), or absent. */
                uint64_t v = below(&seed, 5);
                int first = m.state[x] == 0;
                s = answer_v(&q, rep[x], v);
                if (first) {
                    m.state[x] = 1;
                    m.ver[x] = v;
                }
                break;
            }
            case 2:
                s = quorum_read_fail(&q, rep[x]);
                if (m.state[x] == 0) {
                    m.state[x] = 2;
                }
                break;
            case 3:
                s = quorum_read_repair_ack(&q, rep[x]);
                if (m.repair[x] == 1) {
                    m.repair[x] = 2;
                }
                break;
            case 4:
                s = quorum_read_repair_fail(&q, rep[x]);
                if (m.repair[x] == 1) {
                    m.repair[x] = 3;
                }
                break;
            case 5: {
                size_t k = quorum_read_take_repairs(&q, out, PROP_MAXN);
                for (i = 0; i < k; i++) {
                    unsigned p = (out[i] - 1u) / 3u;
                    /* Only stale replicas, each once. */
                    ck_assert_int_eq(m.repair[p], 0);
                    ck_assert_int_eq(m.state[p], 1);
                    ck_assert_uint_lt(m.ver[p], result);
                    m.repair[p] = 1;
                }
                s = (int)quorum_read_state(&q);
                break;
            }
            default:
                now += below(&seed, 400);
                s = quorum_read_timeout(&q, now);
                break;
            }
            for (i = 0; i < m.n; i++) {
                answered += m.state[i] == 1;
                open += m.state[i] == 0;
            }
            if (prev == QUORUM_PENDING && s != QUORUM_PENDING &&
                answered >= m.r) {
                /* Fixed now: the newest of the first R answers. */
                struct store_record rec;
                result = 0;
                for (i = 0; i < m.n; i++) {
                    if (m.state[i] == 1 && m.ver[i] > result) {
                        result = m.ver[i];
                    }
                }
                if (quorum_read_result(&q, &rec, NULL)) {
                    ck_assert_uint_eq(rec.version, result);
                } else {
                    ck_assert_uint_eq(result, 0);
                }
            }
            if (prev == QUORUM_PENDING && s != QUORUM_PENDING &&
                answered < m.r) {
                ck_assert_int_eq(s, QUORUM_DONE_FAIL);
                ck_assert(now >= DEADLINE || answered + open < m.r);
                /* The result is the newest answer seen. */
                result = 0;
                for (i = 0; i < m.n; i++) {
                    if (m.state[i] == 1 && m.ver[i] > result) {
                        result = m.ver[i];
                    }
                }
            }
            if (prev == QUORUM_PENDING && s == QUORUM_PENDING) {
                ck_assert_uint_lt(answered, m.r);
                ck_assert_uint_ge(answered + open, m.r);
                ck_assert_int_lt(now, DEADLINE);
            }
            if (s != QUORUM_PENDING) {
                for (i = 0; i < m.n; i++) {
                    int hold = (m.state[i] == 1 && m.ver[i] >= result) ||
                               m.repair[i] == 2;
                    holders += hold;
                    may += hold || m.state[i] == 0 ||
                           (m.state[i] == 1 && m.repair[i] != 3);
                }
                ck_assert_uint_eq(quorum_read_holders(&q), holders);
            }
            if (prev == QUORUM_DONE_OK || prev == QUORUM_DONE_FAIL) {
                ck_assert_int_eq(s, prev);
            } else if (s == QUORUM_DONE_OK) {
                /* Never OK before R answers; blocking: R holders. */
                ck_assert_uint_ge(answered, m.r);
                if (blocking) {
                    ck_assert_uint_ge(holders, m.r);
                }
            } else if (s == QUORUM_REPAIRING) {
                ck_assert(blocking);
                ck_assert_uint_lt(holders, m.r);
                ck_assert_uint_ge(may, m.r);
                ck_assert_int_lt(now, DEADLINE);
            } else if (s == QUORUM_DONE_FAIL && prev == QUORUM_REPAIRING) {
                ck_assert(now >= DEADLINE || may < m.r);
            }
            prev = s;
        }
        /* Stale list: exactly the answers older than the result. */
        if (quorum_read_state(&q) != QUORUM_PENDING) {
            size_t k = quorum_read_stale(&q, out, PROP_MAXN);
            size_t want = 0;
            for (i = 0; i < m.n; i++) {
                want += m.state[i] == 1 && m.ver[i] < result;
            }
            ck_assert_uint_eq(k, want);
            for (i = 0; i < k; i++) {
                unsigned p = (out[i] - 1u) / 3u;
                ck_assert_uint_lt(m.ver[p], result);
            }
        }
        quorum_read_deinit(&q);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("quorum");
    TCase *tw = tcase_create("write");
    TCase *tr = tcase_create("read");
    TCase *tm = tcase_create("misc");
    TCase *tp = tcase_create("property");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tw, write_ok_exactly_at_w, 0, NCFG);
    tcase_add_loop_test(tw, write_ok_then_hints_for_silent_replicas, 0,
                        NCFG);
    tcase_add_loop_test(tw, write_fails_as_soon_as_w_unreachable, 0, NCFG);
    tcase_add_loop_test(tw, write_fails_at_deadline, 0, NCFG);
    tcase_add_test(tw, write_hint_lists_exact);
    tcase_add_test(tw, write_sloppy_counts_hints);
    tcase_add_test(tw, write_duplicates_and_strangers_ignored);
    tcase_add_test(tw, write_events_after_done_change_nothing);
    tcase_add_test(tw, write_init_rejects_bad_arguments);
    suite_add_tcase(s, tw);

    tcase_add_loop_test(tr, read_picks_newest, 0, NNEWEST);
    tcase_add_loop_test(tr, read_ok_exactly_at_r_when_agreeing, 0, NCFG);
    tcase_add_loop_test(tr, read_fails_as_soon_as_r_unreachable, 0, NCFG);
    tcase_add_loop_test(tr, read_fails_at_deadline, 0, NCFG);
    tcase_add_loop_test(tr, read_blocks_until_repaired_on_r, 0, NBLOCKING);
    tcase_add_test(tr, read_repairing_outcomes);
    tcase_add_test(tr, read_all_fails_on_first_repair_failure);
    tcase_add_loop_test(tr, read_one_answers_at_once, 0, 3);
    tcase_add_test(tr, read_weak_count_repairs_in_background);
    tcase_add_test(tr, read_duplicates_and_strangers_ignored);
    tcase_add_test(tr, read_copies_the_record);
    tcase_add_test(tr, read_init_rejects_bad_arguments);
    suite_add_tcase(s, tr);

    tcase_add_test(tm, error_texts);
    tcase_add_test(tm, stats_add_sums_workers);
    suite_add_tcase(s, tm);

    tcase_set_timeout(tp, 60);
    tcase_add_test(tp, write_property_random_interleavings);
    tcase_add_test(tp, read_property_random_interleavings);
    suite_add_tcase(s, tp);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
