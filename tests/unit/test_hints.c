/*
 * tests/unit/test_hints.c - Check suite for the durable hint store of
 * storage/ (hints.c): per-target order with interleaved targets, delete
 * and delete_upto, expiry by window, restart and crash recovery with
 * increasing sequences, tombstone round trips, 10k hints, the target list
 * and the counters.
 *
 * Every test that opens a store works in its own mkdtemp() directory under
 * /tmp and removes it at the end.
 */
#include "store.h"

#include <check.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmpdir.h"

/* ---- helpers ---------------------------------------------------------- */

static char *
tmp_dir(void)
{
    return tmp_dir_named("hints");
}

static struct store *
open_store(const char *dir, enum store_fsync f)
{
    struct store_options o;
    struct store *s = NULL;
    char *err = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.fsync = f;
    o.cache_bytes = 1 << 20;
    rc = store_open(&o, &s, &err);
    if (rc != RK_OK) {
        ck_abort_msg("store_open: %s", err ? err : "?");
    }
    return s;
}

static struct store_record
mkrec(uint64_t version, const char *value)
{
    struct store_record r;

    memset(&r, 0, sizeof(r));
    r.version = version;
    r.node = 42;
    r.type = STORE_TYPE_STRING;
    r.value.ptr = value;
    r.value.len = strlen(value);
    return r;
}

/*
 * Put a hint for target whose key is "k<i>", value "v<i>", version i + 1,
 * slot i % STORE_SLOTS, created at created_ms. Helpers check with one if
 * and ck_abort_msg(): Check logs every passing ck_assert.
 */
static void
put_i(struct store *s, const char *target, int i, int64_t created_ms)
{
    char key[32], val[32];
    struct store_record r;
    int rc;

    snprintf(key, sizeof(key), "k%d", i);
    snprintf(val, sizeof(val), "v%d", i);
    r = mkrec((uint64_t)i + 1, val);
    rc = store_hint_put(s, target, strlen(target),
                        (uint16_t)(i % STORE_SLOTS), key, strlen(key), &r,
                        created_ms);
    if (rc != RK_OK) {
        ck_abort_msg("store_hint_put %s/%d: %d", target, i, rc);
    }
}

/*
 * Read every hint of target; check each is one put_i() hint, sequences
 * increase, and the i's are those of want[0..nwant). Stores the
 * sequences in seqs when not NULL. Returns the number read.
 */
static size_t
check_target(struct store *s, const char *target, const int *want,
             size_t nwant, uint64_t *seqs)
{
    struct store_hint_iter *it;
    struct store_hint h;
    uint64_t prev = 0;
    size_t n = 0;
    char key[32], val[32];
    int rc;

    it = store_hint_iter_create(s, target, strlen(target));
    if (it == NULL) {
        ck_abort_msg("store_hint_iter_create %s", target);
    }
    while ((rc = store_hint_iter_next(it, &h)) == 1) {
        if (n >= nwant) {
            ck_abort_msg("%s: more than %zu hints", target, nwant);
        }
        snprintf(key, sizeof(key), "k%d", want[n]);
        snprintf(val, sizeof(val), "v%d", want[n]);
        if (h.seq <= prev || h.key.len != strlen(key) ||
            memcmp(h.key.ptr, key, h.key.len) != 0 ||
            h.rec.value.len != strlen(val) ||
            memcmp(h.rec.value.ptr, val, h.rec.value.len) != 0 ||
            h.rec.version != (uint64_t)want[n] + 1 || h.rec.node != 42 ||
            h.slot != (uint16_t)(want[n] % STORE_SLOTS)) {
            ck_abort_msg("%s: hint %zu (seq %llu, key %.*s) is not k%d",
                         target, n, (unsigned long long)h.seq,
                         (int)h.key.len, h.key.ptr, want[n]);
        }
        if (seqs != NULL) {
            seqs[n] = h.seq;
        }
        prev = h.seq;
        n++;
    }
    if (rc != 0) {
        ck_abort_msg("%s: store_hint_iter_next %d", target, rc);
    }
    store_hint_iter_destroy(it);
    if (n != nwant) {
        ck_abort_msg("%s: %zu hints, want %zu", target, n, nwant);
    }
    return n;
}

/* want[] = from, from + step, ... (n values). */
static void
fill_range(int *want, size_t n, int from, int step)
{
    size_t i;

    for (i = 0; i < n; i++) {
        want[i] = from + (int)i * step;
    }
}

static uint64_t
count_all(struct store *s)
{
    uint64_t n = 0;

    ck_assert_int_eq(store_hint_count(s, &n), RK_OK);
    return n;
}

static uint64_t
count_target(struct store *s, const char *target)
{
    uint64_t n = 0;

    ck_assert_int_eq(store_hint_count_target(s, target, strlen(target), &n),
                     RK_OK);
    return n;
}

/* ---- order ------------------------------------------------------------ */

START_TEST(put_iterate_interleaved_targets)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    /* ids of different lengths and a common prefix */
    static const char *const t[3] = {"node-b", "node-a1", "n"};
    int want[3][20];
    size_t cnt[3] = {0, 0, 0};
    struct store_hint_iter *it;
    struct store_hint h;
    int i;

    for (i = 0; i < 60; i++) {
        int j = (i * 7) % 3;
        put_i(s, t[j], i, 1000 + i);
        want[j][cnt[j]++] = i;
    }
    for (i = 0; i < 3; i++) {
        check_target(s, t[i], want[i], cnt[i], NULL);
        ck_assert_uint_eq(count_target(s, t[i]), cnt[i]);
    }
    ck_assert_uint_eq(count_all(s), 60);

    /* a target without hints, or a prefix of one, has none */
    it = store_hint_iter_create(s, "node-", 5);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(store_hint_iter_next(it, &h), 0);
    ck_assert_int_eq(store_hint_iter_next(it, &h), 0);
    store_hint_iter_destroy(it);
    ck_assert_uint_eq(count_target(s, "node-"), 0);

    /* created_ms comes back */
    it = store_hint_iter_create(s, "n", 1);
    ck_assert_int_eq(store_hint_iter_next(it, &h), 1);
    ck_assert_int_eq(h.created_ms, 1000 + want[2][0]);
    store_hint_iter_destroy(it);
    store_hint_iter_destroy(NULL);

    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

START_TEST(cursor_is_a_snapshot)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    struct store_hint_iter *it;
    struct store_hint h;
    int want[4];
    int n = 0;

    put_i(s, "a", 0, 1);
    put_i(s, "a", 1, 1);
    it = store_hint_iter_create(s, "a", 1);
    put_i(s, "a", 2, 1);
    /* the replay loop: read, deliver, delete */
    while (store_hint_iter_next(it, &h) == 1) {
        ck_assert_int_eq(store_hint_delete(s, "a", 1, h.seq), RK_OK);
        n++;
    }
    store_hint_iter_destroy(it);
    ck_assert_int_eq(n, 2);
    fill_range(want, 1, 2, 1);
    check_target(s, "a", want, 1, NULL);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

START_TEST(bad_target_ids)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    struct store_record r = mkrec(1, "x");
    char big[STORE_HINT_TARGET_MAX + 1];
    uint64_t n = 1;

    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(store_hint_put(s, "", 0, 1, "k", 1, &r, 1), RK_EPROTO);
    ck_assert_int_eq(store_hint_put(s, big, sizeof(big), 1, "k", 1, &r, 1),
                     RK_EPROTO);
    ck_assert_int_eq(store_hint_put(s, "a", 1, STORE_SLOTS, "k", 1, &r, 1),
                     RK_EPROTO);
    ck_assert_ptr_null(store_hint_iter_create(s, "", 0));
    ck_assert_int_eq(store_hint_delete(s, "", 0, 1), RK_EPROTO);
    ck_assert_int_eq(store_hint_delete_upto(s, big, sizeof(big), 1),
                     RK_EPROTO);
    ck_assert_int_eq(store_hint_count_target(s, "", 0, &n), RK_EPROTO);
    ck_assert_uint_eq(n, 0);
    /* the longest id works */
    ck_assert_int_eq(store_hint_put(s, big, sizeof(big) - 1, 1, "k", 1, &r,
                                    1), RK_OK);
    ck_assert_uint_eq(count_all(s), 1);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- delete ----------------------------------------------------------- */

START_TEST(delete_one_and_upto)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    struct store_hint_stats st;
    uint64_t seqs[10];
    int want[10];
    int i;

    for (i = 0; i < 10; i++) {
        put_i(s, "a", i, 100);
        if (i < 3) {
            put_i(s, "b", 100 + i, 100);
        }
    }
    fill_range(want, 10, 0, 1);
    check_target(s, "a", want, 10, seqs);

    /* one: hint 3 */
    ck_assert_int_eq(store_hint_delete(s, "a", 1, seqs[3]), RK_OK);
    want[0] = 0; want[1] = 1; want[2] = 2;
    fill_range(want + 3, 6, 4, 1);
    check_target(s, "a", want, 9, NULL);
    /* again, and a sequence of another target: no-ops */
    ck_assert_int_eq(store_hint_delete(s, "a", 1, seqs[3]), RK_OK);
    ck_assert_int_eq(store_hint_delete(s, "b", 1, seqs[4]), RK_OK);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.stored, 13);
    ck_assert_uint_eq(st.delivered, 1);
    ck_assert_uint_eq(st.pending, 12);

    /* up to hint 6: 0, 1, 2, 4, 5, 6 go; "b" keeps its interleaved ones */
    ck_assert_int_eq(store_hint_delete_upto(s, "a", 1, seqs[6]), RK_OK);
    fill_range(want, 3, 7, 1);
    check_target(s, "a", want, 3, NULL);
    fill_range(want, 3, 100, 1);
    check_target(s, "b", want, 3, NULL);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.delivered, 7);
    ck_assert_uint_eq(st.pending, 6);

    /* again: nothing more; then past the end: all of "a" */
    ck_assert_int_eq(store_hint_delete_upto(s, "a", 1, seqs[6]), RK_OK);
    ck_assert_int_eq(store_hint_delete_upto(s, "a", 1, UINT64_MAX), RK_OK);
    check_target(s, "a", want, 0, NULL);
    ck_assert_uint_eq(count_target(s, "a"), 0);
    ck_assert_uint_eq(count_target(s, "b"), 3);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.delivered, 10);
    ck_assert_uint_eq(st.pending, 3);
    ck_assert_uint_eq(st.expired, 0);

    /* new hints of "a" after the range delete are kept */
    put_i(s, "a", 50, 100);
    fill_range(want, 1, 50, 1);
    check_target(s, "a", want, 1, NULL);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- expiry ----------------------------------------------------------- */

START_TEST(expire_by_window)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    struct store_hint_stats st;
    uint64_t n = 99;
    int want[4];

    put_i(s, "a", 0, 1000);
    put_i(s, "b", 1, 1500);
    put_i(s, "a", 2, 2000);
    put_i(s, "a", 3, 3000);
    put_i(s, "c", 4, 1900);

    /* cutoff 1900: older than it goes, exactly the window stays */
    ck_assert_int_eq(store_hint_expire(s, 3500, 1600, &n), RK_OK);
    ck_assert_uint_eq(n, 2);
    fill_range(want, 2, 2, 1);
    check_target(s, "a", want, 2, NULL);
    check_target(s, "b", want, 0, NULL);
    want[0] = 4;
    check_target(s, "c", want, 1, NULL);
    ck_assert_int_eq(store_hint_expire(s, 3500, 1600, &n), RK_OK);
    ck_assert_uint_eq(n, 0);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.expired, 2);
    ck_assert_uint_eq(st.pending, 3);
    ck_assert_uint_eq(st.delivered, 0);

    /* a later time drops the rest; NULL count is fine */
    ck_assert_int_eq(store_hint_expire(s, 10000, 1000, NULL), RK_OK);
    ck_assert_uint_eq(count_all(s), 0);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.expired, 5);
    ck_assert_uint_eq(st.pending, 0);

    /* nothing held: nothing to do */
    ck_assert_int_eq(store_hint_expire(s, 10000, 1000, &n), RK_OK);
    ck_assert_uint_eq(n, 0);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

START_TEST(expire_stops_at_first_young_hint)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    uint64_t n = 0;
    int want[3];

    /* the clock stepped back between hints 1 and 2 */
    put_i(s, "a", 0, 1000);
    put_i(s, "a", 1, 5000);
    put_i(s, "a", 2, 1000);
    ck_assert_int_eq(store_hint_expire(s, 4000, 1000, &n), RK_OK);
    ck_assert_uint_eq(n, 1);
    fill_range(want, 2, 1, 1);
    check_target(s, "a", want, 2, NULL);   /* late, never early */
    ck_assert_int_eq(store_hint_expire(s, 7000, 1000, &n), RK_OK);
    ck_assert_uint_eq(n, 2);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- records ---------------------------------------------------------- */

START_TEST(tombstone_and_binary_round_trip)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    static const char bkey[5] = {'a', '\0', '\r', '\n', (char)0xff};
    static const char bval[4] = {'\0', 'x', '\0', (char)0x80};
    struct store_record r;
    struct store_hint_iter *it;
    struct store_hint h;

    memset(&r, 0, sizeof(r));
    r.version = 0x123456789abcULL;
    r.node = 0xdeadbeef;
    r.flags = STORE_F_TOMBSTONE;
    ck_assert_int_eq(store_hint_put(s, "t", 1, STORE_SLOTS - 1, bkey,
                                    sizeof(bkey), &r, -5), RK_OK);
    r.flags = 0;
    r.version++;
    r.expire_ms = 1700000000123LL;
    r.value.ptr = bval;
    r.value.len = sizeof(bval);
    ck_assert_int_eq(store_hint_put(s, "t", 1, 0, "", 0, &r, 7), RK_OK);

    it = store_hint_iter_create(s, "t", 1);
    ck_assert_int_eq(store_hint_iter_next(it, &h), 1);
    ck_assert_uint_eq(h.slot, STORE_SLOTS - 1);
    ck_assert_int_eq(h.created_ms, -5);
    ck_assert_uint_eq(h.key.len, sizeof(bkey));
    ck_assert_int_eq(memcmp(h.key.ptr, bkey, sizeof(bkey)), 0);
    ck_assert_uint_eq(h.rec.flags, STORE_F_TOMBSTONE);
    ck_assert_uint_eq(h.rec.version, 0x123456789abcULL);
    ck_assert_uint_eq(h.rec.node, 0xdeadbeef);
    ck_assert_int_eq(h.rec.expire_ms, 0);
    ck_assert_uint_eq(h.rec.value.len, 0);
    ck_assert_int_eq(store_record_live(&h.rec, 0), 0);

    ck_assert_int_eq(store_hint_iter_next(it, &h), 1);
    ck_assert_uint_eq(h.slot, 0);
    ck_assert_int_eq(h.created_ms, 7);
    ck_assert_uint_eq(h.key.len, 0);
    ck_assert_uint_eq(h.rec.flags, 0);
    ck_assert_uint_eq(h.rec.version, 0x123456789abdULL);
    ck_assert_int_eq(h.rec.expire_ms, 1700000000123LL);
    ck_assert_uint_eq(h.rec.value.len, sizeof(bval));
    ck_assert_int_eq(memcmp(h.rec.value.ptr, bval, sizeof(bval)), 0);
    ck_assert_int_eq(store_hint_iter_next(it, &h), 0);
    store_hint_iter_destroy(it);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

START_TEST(hints_apart_from_data)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    struct store_iter *di;
    int want[1] = {0};

    put_i(s, "a", 0, 1);
    ck_assert_int_eq(store_flush_all(s), RK_OK);
    check_target(s, "a", want, 1, NULL);
    di = store_iter_create(s);
    store_iter_seek(di, 0, NULL, 0);
    ck_assert_int_eq(store_iter_valid(di), 0);
    store_iter_destroy(di);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- volume ----------------------------------------------------------- */

START_TEST(many_hints_in_order)
{
    enum { N = 10000 };
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    static int want[N];
    static uint64_t seqs[N];
    struct store_hint_stats st;
    uint64_t n = 0;
    int i;

    for (i = 0; i < N; i++) {
        put_i(s, "bulk", i, 1000 + i / 10);
        if (i % 1000 == 0) {
            put_i(s, "other", i, 0);
        }
    }
    fill_range(want, N, 0, 1);
    check_target(s, "bulk", want, N, seqs);
    ck_assert_uint_eq(count_all(s), N + 10);

    /* deliver the first half, then expire most of the rest: both span
     * more than one chunk of the drop */
    ck_assert_int_eq(store_hint_delete_upto(s, "bulk", 4, seqs[N / 2 - 1]),
                     RK_OK);
    check_target(s, "bulk", want + N / 2, N / 2, NULL);
    /* bulk hint i was created at 1000 + i / 10: cutoff 1900 keeps
     * i >= 9000; the "other" hints (created 0) all go */
    ck_assert_int_eq(store_hint_expire(s, 2000, 100, &n), RK_OK);
    ck_assert_uint_eq(n, 4000 + 10);
    check_target(s, "bulk", want + 9000, 1000, NULL);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.stored, N + 10);
    ck_assert_uint_eq(st.delivered, N / 2);
    ck_assert_uint_eq(st.expired, 4010);
    ck_assert_uint_eq(st.pending, 1000);
    ck_assert_uint_eq(count_all(s), 1000);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- targets ---------------------------------------------------------- */

START_TEST(targets_list)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO);
    char **ids = (char **)1;
    size_t n = 9;
    uint64_t seqs[2];
    int want[2] = {1, 5};

    ck_assert_int_eq(store_hint_targets(s, &ids, &n), RK_OK);
    ck_assert_ptr_null(ids);
    ck_assert_uint_eq(n, 0);
    store_hint_targets_free(ids, n);

    put_i(s, "zeta", 0, 1);
    put_i(s, "b", 1, 1);
    put_i(s, "alpha", 2, 1);
    put_i(s, "zeta", 3, 1);
    put_i(s, "alphb", 4, 1);
    put_i(s, "b", 5, 1);
    ck_assert_int_eq(store_hint_targets(s, &ids, &n), RK_OK);
    /* key order: id length, then bytes */
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(ids[0], "b");
    ck_assert_str_eq(ids[1], "zeta");
    ck_assert_str_eq(ids[2], "alpha");
    ck_assert_str_eq(ids[3], "alphb");
    store_hint_targets_free(ids, n);

    /* a target whose hints are all gone leaves the list */
    check_target(s, "b", want, 2, seqs);
    ck_assert_int_eq(store_hint_delete(s, "b", 1, seqs[0]), RK_OK);
    ck_assert_int_eq(store_hint_delete(s, "b", 1, seqs[1]), RK_OK);
    ck_assert_int_eq(store_hint_delete_upto(s, "zeta", 4, UINT64_MAX),
                     RK_OK);
    ck_assert_int_eq(store_hint_targets(s, &ids, &n), RK_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ids[0], "alpha");
    ck_assert_str_eq(ids[1], "alphb");
    store_hint_targets_free(ids, n);
    store_hint_targets_free(NULL, 0);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- restart ---------------------------------------------------------- */

START_TEST(reopen_keeps_hints_and_sequence)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_EVERYSEC);
    struct store_hint_stats st;
    uint64_t seqs[8];
    uint64_t last;
    int want[8];

    put_i(s, "a", 0, 1);
    put_i(s, "b", 1, 1);
    put_i(s, "a", 2, 1);
    put_i(s, "a", 3, 1);
    store_close(s);

    s = open_store(dir, STORE_FSYNC_EVERYSEC);
    want[0] = 0; want[1] = 2; want[2] = 3;
    check_target(s, "a", want, 3, seqs);
    last = seqs[2];
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.pending, 4);
    ck_assert_uint_eq(st.stored, 0);   /* since open */
    put_i(s, "a", 4, 1);
    want[3] = 4;
    check_target(s, "a", want, 4, seqs);
    ck_assert_uint_gt(seqs[3], last);
    last = seqs[3];

    /* deliver everything: the counter alone carries the sequence */
    ck_assert_int_eq(store_hint_delete_upto(s, "a", 1, UINT64_MAX), RK_OK);
    ck_assert_int_eq(store_hint_delete_upto(s, "b", 1, UINT64_MAX), RK_OK);
    store_close(s);

    s = open_store(dir, STORE_FSYNC_NO);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_eq(count_all(s), 0);
    put_i(s, "a", 5, 1);
    want[0] = 5;
    check_target(s, "a", want, 1, seqs);
    ck_assert_uint_gt(seqs[0], last);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* A lazy hint joins the group commit: unseen until that commit, then a
 * hint like any other, in order with synced ones, and on disk after a
 * clean close even when never committed explicitly. */
START_TEST(lazy_hints_in_order_and_kept)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_ALWAYS);
    struct store_record r = mkrec(2, "v1");
    struct store_record r3 = mkrec(4, "v3");
    struct store_hint_stats st;
    uint64_t seqs[4];
    uint64_t seq = 0;
    int want[4] = { 0, 1, 2, 3 };

    put_i(s, "a", 0, 1);
    ck_assert_int_eq(store_hint_put_lazy(s, "a", 1, 1, "k1", 2, &r, 1,
                                         &seq), RK_OK);
    ck_assert_uint_gt(seq, 0);
    store_hint_get_stats(s, &st);
    ck_assert_uint_eq(st.pending, 2);
    ck_assert_uint_eq(check_target(s, "a", want, 1, seqs), 1);
    ck_assert_int_eq(store_commit(s, seq), RK_OK);
    put_i(s, "a", 2, 1);
    ck_assert_uint_eq(check_target(s, "a", want, 3, seqs), 3);
    ck_assert_uint_lt(seqs[0], seqs[1]);
    ck_assert_uint_lt(seqs[1], seqs[2]);
    ck_assert_int_eq(store_hint_put_lazy(s, "a", 1, 3, "k3", 2, &r3, 1,
                                         &seq), RK_OK);
    store_close(s);
    s = open_store(dir, STORE_FSYNC_ALWAYS);
    ck_assert_uint_eq(check_target(s, "a", want, 4, seqs), 4);
    ck_assert_uint_lt(seqs[2], seqs[3]);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/*
 * Child of crash_sigkill_keeps_hints: put hints (every fifth a tombstone)
 * alternately for "even" and "odd" under FSYNC_ALWAYS and report each
 * returned put on the pipe until killed.
 */
static void
crash_child(const char *dir, int wfd)
{
    struct store_options o;
    struct store *s = NULL;
    char *err = NULL;
    int i;

    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.fsync = STORE_FSYNC_ALWAYS;
    if (store_open(&o, &s, &err) != RK_OK) {
        _exit(2);
    }
    for (i = 0;; i++) {
        const char *t = i % 2 ? "odd" : "even";
        struct store_record r;
        char key[32], val[32];

        snprintf(key, sizeof(key), "k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        r = mkrec((uint64_t)i + 1, i % 5 == 0 ? "" : val);
        if (i % 5 == 0) {
            r.flags = STORE_F_TOMBSTONE;
        }
        if (store_hint_put(s, t, strlen(t), (uint16_t)i, key, strlen(key),
                           &r, i) != RK_OK) {
            _exit(3);
        }
        if (write(wfd, &i, sizeof(i)) != sizeof(i)) {
            _exit(4);
        }
    }
}

/*
 * Read the hints of t, which must be k<first>, k<first + 2>, ... in
 * increasing sequence order; returns the i after the last one read and
 * raises *maxseq to the largest sequence.
 */
static int
crash_read(struct store *s, const char *t, int first, uint64_t *maxseq)
{
    struct store_hint_iter *it = store_hint_iter_create(s, t, strlen(t));
    struct store_hint h;
    uint64_t prev = 0;
    char key[32];
    int i = first;
    int rc;

    while ((rc = store_hint_iter_next(it, &h)) == 1) {
        snprintf(key, sizeof(key), "k%d", i);
        if (h.seq <= prev || h.key.len != strlen(key) ||
            memcmp(h.key.ptr, key, h.key.len) != 0 || h.created_ms != i ||
            h.rec.version != (uint64_t)i + 1 ||
            (i % 5 == 0) != ((h.rec.flags & STORE_F_TOMBSTONE) != 0)) {
            ck_abort_msg("%s: hint of k%d is wrong", t, i);
        }
        prev = h.seq;
        i += 2;
    }
    if (rc != 0) {
        ck_abort_msg("%s: store_hint_iter_next %d", t, rc);
    }
    store_hint_iter_destroy(it);
    if (prev > *maxseq) {
        *maxseq = prev;
    }
    return i;
}

/*
 * Fork a child that puts hints under FSYNC_ALWAYS and SIGKILL it
 * mid-stream; every put it reported must be there after reopen, in
 * order, and a new hint is numbered after all of them. The fork happens
 * before this process opens a store, so the child has no RocksDB threads.
 */
START_TEST(crash_sigkill_keeps_hints)
{
    char *dir = tmp_dir();
    int fds[2], st, v, last = -1;
    struct store_hint_iter *it;
    struct store_hint h;
    struct store *s;
    uint64_t maxseq = 0;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(dir, fds[1]);
        _exit(1);
    }
    close(fds[1]);
    while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
        last = v;
        if (last >= 80) {
            kill(pid, SIGKILL);   /* mid-stream, between puts */
            break;
        }
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    close(fds[0]);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ck_assert_int_ge(last, 80);

    s = open_store(dir, STORE_FSYNC_NO);
    /* each reported put is there (later unreported ones may be too) */
    ck_assert_int_gt(crash_read(s, "even", 0, &maxseq), last);
    ck_assert_int_gt(crash_read(s, "odd", 1, &maxseq), last);
    put_i(s, "new", 0, 0);
    it = store_hint_iter_create(s, "new", 3);
    ck_assert_int_eq(store_hint_iter_next(it, &h), 1);
    ck_assert_uint_gt(h.seq, maxseq);
    store_hint_iter_destroy(it);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- suite ------------------------------------------------------------ */

static Suite *
hints_suite(void)
{
    Suite *su = suite_create("hints");
    TCase *tc;

    tc = tcase_create("order");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, put_iterate_interleaved_targets);
    tcase_add_test(tc, cursor_is_a_snapshot);
    tcase_add_test(tc, bad_target_ids);
    tcase_add_test(tc, tombstone_and_binary_round_trip);
    tcase_add_test(tc, hints_apart_from_data);
    tcase_add_test(tc, targets_list);
    suite_add_tcase(su, tc);

    tc = tcase_create("delete");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, delete_one_and_upto);
    tcase_add_test(tc, expire_by_window);
    tcase_add_test(tc, expire_stops_at_first_young_hint);
    tcase_add_test(tc, many_hints_in_order);
    suite_add_tcase(su, tc);

    tc = tcase_create("restart");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, reopen_keeps_hints_and_sequence);
    tcase_add_test(tc, lazy_hints_in_order_and_kept);
    tcase_add_test(tc, crash_sigkill_keeps_hints);
    suite_add_tcase(su, tc);
    return su;
}

int
main(void)
{
    SRunner *sr = srunner_create(hints_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
