/*
 * tests/unit/test_storage.c - Check suite for storage/: record encoding,
 * the hybrid logical clock, the record cache, RocksDB persistence under
 * each fsync policy, group commit, tombstones and expiry, iteration,
 * FLUSHALL, the compaction filter, stripe locks and crash recovery.
 *
 * Every test that opens a store works in its own mkdtemp() directory under
 * /tmp and removes it at the end.
 */
#include "store.h"

#include <check.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"

#include "tmpdir.h"

/* ---- helpers ---------------------------------------------------------- */

static char *
tmp_dir(void)
{
    return tmp_dir_named("storage");
}

static struct store *
open_store(const char *dir, enum store_fsync f, size_t cache_bytes,
           uint64_t grace_ms)
{
    struct store_options o;
    struct store *s = NULL;
    char *err = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.fsync = f;
    o.cache_bytes = cache_bytes;
    o.tombstone_grace_ms = grace_ms;
    rc = store_open(&o, &s, &err);
    if (rc != RK_OK) {
        ck_abort_msg("store_open: %s", err ? err : "?");
    }
    ck_assert_ptr_null(err);
    return s;
}

static struct store_record
mkrec(uint64_t version, const char *value, size_t vlen)
{
    struct store_record r;

    memset(&r, 0, sizeof(r));
    r.version = version;
    r.node = 7;
    r.type = STORE_TYPE_STRING;
    r.value.ptr = value;
    r.value.len = vlen;
    return r;
}

/*
 * Put one record under its stripe lock; returns the sequence, or
 * UINT64_MAX on failure (safe to call from any thread). Helpers check
 * with one if and ck_abort_msg(): Check logs every passing ck_assert.
 */
static uint64_t
try_put(struct store *s, uint16_t slot, const char *key,
        const struct store_record *r)
{
    struct store_lockset ls;
    struct rk_slice k = {key, strlen(key)};
    uint64_t seq = 0;
    int rc;

    store_lock_keys(s, &ls, 1, &slot, &k);
    rc = store_put(s, slot, key, strlen(key), r, &seq);
    store_unlock_keys(s, &ls);
    return rc == RK_OK ? seq : UINT64_MAX;
}

static uint64_t
put_locked(struct store *s, uint16_t slot, const char *key,
           const struct store_record *r)
{
    uint64_t seq = try_put(s, slot, key, r);

    if (seq == UINT64_MAX) {
        ck_abort_msg("store_put %u/%s failed", slot, key);
    }
    return seq;
}

static void
put_str(struct store *s, uint16_t slot, const char *key, uint64_t version,
        const char *value)
{
    struct store_record r = mkrec(version, value, strlen(value));

    put_locked(s, slot, key, &r);
}

/* Expect (slot, key) to hold value at version. */
static void
expect_value(struct store *s, uint16_t slot, const char *key,
             uint64_t version, const char *value)
{
    struct store_buf b;
    struct store_record r;
    int rc;

    store_buf_init(&b);
    rc = store_get(s, slot, key, strlen(key), &b, &r);
    if (rc != 1 || r.version != version || r.value.len != strlen(value) ||
        memcmp(r.value.ptr, value, r.value.len) != 0) {
        ck_abort_msg("get %u/%s: rc %d version %llu", slot, key, rc,
                     rc == 1 ? (unsigned long long)r.version : 0ULL);
    }
    store_buf_deinit(&b);
}

static void
expect_absent(struct store *s, uint16_t slot, const char *key)
{
    struct store_buf b;
    struct store_record r;

    store_buf_init(&b);
    ck_assert_int_eq(store_get(s, slot, key, strlen(key), &b, &r), 0);
    store_buf_deinit(&b);
}

static void
expect_present(struct store *s, uint16_t slot, const char *key)
{
    struct store_buf b;
    struct store_record r;

    store_buf_init(&b);
    ck_assert_int_eq(store_get(s, slot, key, strlen(key), &b, &r), 1);
    ck_assert_int_eq(store_record_live(&r, store_now_ms()), 1);
    store_buf_deinit(&b);
}

static uint64_t
rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* ---- records ---------------------------------------------------------- */

START_TEST(record_round_trip)
{
    static const char bin[] = {'a', 0, '\r', '\n', (char)0xff};
    struct store_record in[4], out;
    char buf[64];
    size_t n, i;

    in[0] = mkrec(1, "hello", 5);
    in[1] = mkrec(UINT64_MAX, bin, sizeof(bin));
    in[1].node = UINT32_MAX;
    in[1].expire_ms = INT64_MAX;
    in[2] = mkrec(42, "", 0);
    in[2].flags = STORE_F_TOMBSTONE;
    in[3] = mkrec(43, "x", 1);
    in[3].expire_ms = 1700000000123LL;
    in[3].type = 3;
    ck_assert_uint_eq(store_record_encoded_len(&in[0]), 14 + 5);
    ck_assert_uint_eq(store_record_encoded_len(&in[1]), 22 + sizeof(bin));
    for (i = 0; i < 4; i++) {
        n = store_record_encode(&in[i], buf);
        ck_assert_uint_eq(n, store_record_encoded_len(&in[i]));
        ck_assert_int_eq(store_record_decode(buf, n, &out), RK_OK);
        ck_assert_uint_eq(out.version, in[i].version);
        ck_assert_uint_eq(out.node, in[i].node);
        ck_assert_int_eq(out.expire_ms, in[i].expire_ms);
        ck_assert_uint_eq(out.type, in[i].type);
        ck_assert_uint_eq(out.flags, in[i].flags);
        ck_assert_uint_eq(out.value.len, in[i].value.len);
        ck_assert(out.value.len == 0 ||
                  memcmp(out.value.ptr, in[i].value.ptr, out.value.len) == 0);
        ck_assert_ptr_eq(out.value.ptr, buf + n - out.value.len);
    }
    /* pinned vector: little-endian header */
    n = store_record_encode(&in[0], buf);
    ck_assert(memcmp(buf, "\x10\x00\x01\x00\x00\x00\x00\x00\x00\x00"
                          "\x07\x00\x00\x00hello", 19) == 0);
}
END_TEST

START_TEST(record_garbage_rejected)
{
    struct store_record r = mkrec(9, "abc", 3), out;
    char buf[64], junk[64];
    uint64_t x = 88172645463325252ULL;
    size_t n, i, len;

    r.expire_ms = 5;
    n = store_record_encode(&r, buf);
    for (len = 0; len < 22; len++) {
        ck_assert_int_eq(store_record_decode(buf, len, &out), RK_EPROTO);
    }
    ck_assert_int_eq(store_record_decode(buf, n, &out), RK_OK);
    buf[0] = 0x20;  /* unknown format */
    ck_assert_int_eq(store_record_decode(buf, n, &out), RK_EPROTO);
    buf[0] = 0x08;  /* format 0 */
    ck_assert_int_eq(store_record_decode(buf, n, &out), RK_EPROTO);
    memset(buf, 0, sizeof(buf));
    buf[0] = 0x18;  /* has-expiry with expire_ms 0 */
    ck_assert_int_eq(store_record_decode(buf, 30, &out), RK_EPROTO);
    /* random bytes: any answer, but never a read past the end (ASan) */
    for (i = 0; i < 20000; i++) {
        char *p;

        len = rng_next(&x) % sizeof(junk);
        for (n = 0; n < len; n++) {
            junk[n] = (char)rng_next(&x);
        }
        p = malloc(len ? len : 1);
        memcpy(p, junk, len);
        if (store_record_decode(p, len, &out) == RK_OK &&
            out.value.ptr + out.value.len != p + len) {
            ck_abort_msg("decoded value does not end the input");
        }
        free(p);
    }
}
END_TEST

START_TEST(record_order_and_liveness)
{
    struct store_record a = mkrec(10, "", 0), b = mkrec(11, "", 0);

    ck_assert_int_eq(store_record_cmp(&a, &b), -1);
    ck_assert_int_eq(store_record_cmp(&b, &a), 1);
    b.version = 10;
    b.node = 8;
    ck_assert_int_eq(store_record_cmp(&a, &b), -1);
    b.node = 7;
    ck_assert_int_eq(store_record_cmp(&a, &b), 0);

    ck_assert_int_eq(store_record_live(&a, 1000), 1);
    a.expire_ms = 1000;
    ck_assert_int_eq(store_record_live(&a, 999), 1);
    ck_assert_int_eq(store_record_live(&a, 1000), 0);
    a.expire_ms = 0;
    a.flags = STORE_F_TOMBSTONE;
    ck_assert_int_eq(store_record_live(&a, 0), 0);
}
END_TEST

/* ---- clock ------------------------------------------------------------ */

#define CLOCK_N 200000

struct clock_arg {
    struct store_clock *c;
    uint64_t *out;
};

static void *
clock_thread(void *arg)
{
    struct clock_arg *a = arg;
    int i;

    for (i = 0; i < CLOCK_N; i++) {
        a->out[i] = store_clock_next(a->c);
    }
    return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

START_TEST(clock_monotonic_across_threads)
{
    struct store_clock c;
    struct clock_arg a[2];
    pthread_t t[2];
    uint64_t *all = malloc(sizeof(*all) * CLOCK_N * 2);
    uint64_t v, far;
    int64_t now;
    int i, k, bad = 0;

    store_clock_init(&c);
    for (k = 0; k < 2; k++) {
        a[k].c = &c;
        a[k].out = all + (size_t)k * CLOCK_N;
        pthread_create(&t[k], NULL, clock_thread, &a[k]);
    }
    for (k = 0; k < 2; k++) {
        pthread_join(t[k], NULL);
    }
    /* count instead of asserting per item: Check logs every assertion */
    for (k = 0; k < 2; k++) {
        for (i = 1; i < CLOCK_N; i++) {
            bad += a[k].out[i] <= a[k].out[i - 1];
        }
    }
    qsort(all, (size_t)CLOCK_N * 2, sizeof(*all), cmp_u64);
    for (i = 1; i < CLOCK_N * 2; i++) {
        bad += all[i] == all[i - 1];
    }
    free(all);
    ck_assert_int_eq(bad, 0);

    /* the physical part is wall-clock time */
    now = store_now_ms();
    v = store_clock_next(&c);
    ck_assert(store_version_ms(v) >= now - 1000);
    ck_assert(store_version_ms(v) <= now + 1000);

    /* observe moves past a version from the future, never back */
    far = v + ((uint64_t)3600 * 1000000 << 12);
    store_clock_observe(&c, far);
    ck_assert(store_clock_next(&c) > far);
    store_clock_observe(&c, 1);
    ck_assert(store_clock_next(&c) > far);
}
END_TEST

/* ---- cache (private API) ---------------------------------------------- */

START_TEST(cache_older_never_replaces_newer)
{
    struct cache *c = cache_create(1 << 20);
    struct store_record r2 = mkrec(200, "new", 3), r1 = mkrec(100, "old", 3);
    struct store_record out;
    struct cache_entry *e;
    struct rk_slice rk, enc;
    struct store_buf b;
    uint64_t h = cache_hash(3, "k", 1);
    uint64_t h2 = cache_hash(3, "other", 5);
    uint64_t newer = 99;
    uint64_t committed = 0;
    uint32_t ticket;
    char ebuf[64];
    size_t n;

    store_buf_init(&b);
    ck_assert_int_eq(cache_get(c, h, 3, "k", 1, &b, &ticket), 0);
    ck_assert_int_eq(cache_put_begin(c, h, 3, "k", 1, &r2, &e, &rk, &enc,
                                     &newer), 1);
    ck_assert_uint_eq(rk.len, 3);
    ck_assert(memcmp(rk.ptr, "\x00\x03k", 3) == 0);
    cache_put_end(c, e, 5, &committed);

    /* an older write is refused and names the pending newer one */
    ck_assert_int_eq(cache_put_begin(c, h, 3, "k", 1, &r1, &e, &rk, &enc,
                                     &newer), 0);
    ck_assert_uint_eq(newer, 5);
    /* a fill of an older record changes nothing */
    n = store_record_encode(&r1, ebuf);
    cache_fill(c, h, 3, "k", 1, ebuf, n, ticket);
    ck_assert_int_eq(cache_get(c, h, 3, "k", 1, &b, &ticket), 1);
    ck_assert_int_eq(store_record_decode(b.ptr, b.len, &out), RK_OK);
    ck_assert_uint_eq(out.version, 200);

    cache_unpin(c, 5);
    ck_assert_int_eq(cache_put_begin(c, h, 3, "k", 1, &r1, &e, &rk, &enc,
                                     &newer), 0);
    ck_assert_uint_eq(newer, 0);   /* the newer one is committed */

    /* a stale ticket: the entry was dropped after the miss */
    ck_assert_int_eq(cache_get(c, h2, 3, "other", 5, &b, &ticket), 0);
    cache_clear(c);
    cache_fill(c, h2, 3, "other", 5, ebuf, n, ticket);
    ck_assert_int_eq(cache_get(c, h2, 3, "other", 5, &b, &ticket), 0);
    /* a fresh ticket fills */
    cache_fill(c, h2, 3, "other", 5, ebuf, n, ticket);
    ck_assert_int_eq(cache_get(c, h2, 3, "other", 5, &b, &ticket), 1);
    store_buf_deinit(&b);
    cache_destroy(c);
}
END_TEST

START_TEST(cache_bound_holds_and_evicts)
{
    char *dir = tmp_dir();
    size_t bound = 256 * 1024;
    struct store *s = open_store(dir, STORE_FSYNC_NO, bound, 0);
    struct store_stats st;
    char key[32], val[128];
    uint64_t seq = 0;
    int i;

    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    for (i = 0; i < 20000; i++) {
        struct store_record r = mkrec((uint64_t)i + 1, val, 100);

        snprintf(key, sizeof(key), "key:%d", i);
        seq = put_locked(s, (uint16_t)(i % STORE_SLOTS), key, &r);
        if (i % 100 == 99 && store_commit(s, seq) != RK_OK) {
            ck_abort_msg("commit failed");
        }
    }
    ck_assert_int_eq(store_commit(s, seq), RK_OK);
    store_get_stats(s, &st);
    ck_assert_uint_le(st.cache_bytes, bound);
    ck_assert_uint_gt(st.cache_evictions, 0);
    ck_assert_uint_gt(st.cache_entries, 100);
    ck_assert_uint_lt(st.cache_entries, 20000);
    /* every record still reads back, through RocksDB on a miss */
    for (i = 0; i < 20000; i += 7) {
        snprintf(key, sizeof(key), "key:%d", i);
        val[100] = '\0';
        expect_value(s, (uint16_t)(i % STORE_SLOTS), key, (uint64_t)i + 1,
                     val);
    }
    store_get_stats(s, &st);
    ck_assert_uint_le(st.cache_bytes, bound);
    ck_assert_uint_gt(st.cache_misses, 0);

    /* shrinking evicts at once; 0 caches nothing committed */
    store_set_cache_bytes(s, 64 * 1024);
    store_get_stats(s, &st);
    ck_assert_uint_le(st.cache_bytes, 64 * 1024);
    store_set_cache_bytes(s, 0);
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.cache_bytes, 0);
    ck_assert_uint_eq(st.cache_entries, 0);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

START_TEST(cache_pinned_until_commit)
{
    char *dir = tmp_dir();
    size_t bound = 64 * 1024;
    struct store *s = open_store(dir, STORE_FSYNC_NO, bound, 0);
    struct store_stats st0, st;
    char key[32], val[256];
    uint64_t seq = 0;
    int i;

    memset(val, 'p', 200);
    val[200] = '\0';
    for (i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "pin:%d", i);
        put_str(s, 1, key, (uint64_t)i + 1, val);
    }
    seq = store_last_seq(s);
    store_get_stats(s, &st0);
    ck_assert_uint_eq(st0.cache_entries, 2000);
    ck_assert_uint_gt(st0.cache_bytes, bound);
    ck_assert_uint_eq(st0.commits, 0);
    /* uncommitted writes are all readable from the cache */
    for (i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "pin:%d", i);
        expect_value(s, 1, key, (uint64_t)i + 1, val);
    }
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.cache_misses, st0.cache_misses);
    ck_assert_uint_eq(st.cache_hits, st0.cache_hits + 2000);

    ck_assert_int_eq(store_commit(s, seq), RK_OK);
    store_get_stats(s, &st);
    ck_assert_uint_le(st.cache_bytes, bound);
    ck_assert_uint_gt(st.cache_evictions, 0);
    for (i = 0; i < 2000; i += 3) {
        snprintf(key, sizeof(key), "pin:%d", i);
        expect_value(s, 1, key, (uint64_t)i + 1, val);
    }
    store_close(s);

    /* a zero-byte cache still holds writes until they commit */
    s = open_store(dir, STORE_FSYNC_NO, 0, 0);
    put_str(s, 2, "zero", 5, "z");
    expect_value(s, 2, "zero", 5, "z");
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.cache_entries, 1);
    ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.cache_entries, 0);
    expect_value(s, 2, "zero", 5, "z");
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.cache_entries, 0);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

START_TEST(store_older_put_dropped)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    struct store_record r = mkrec(100, "old", 3);
    uint64_t seq;

    put_str(s, 9, "lww", 200, "new");
    seq = put_locked(s, 9, "lww", &r);
    ck_assert_uint_eq(seq, store_last_seq(s));   /* waits for "new" */
    ck_assert_int_eq(store_commit(s, seq), RK_OK);
    seq = put_locked(s, 9, "lww", &r);
    ck_assert_uint_eq(seq, 0);
    expect_value(s, 9, "lww", 200, "new");
    store_close(s);
    s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    expect_value(s, 9, "lww", 200, "new");
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- persistence ------------------------------------------------------ */

START_TEST(persist_under_each_policy)
{
    static const enum store_fsync pol[] = {
        STORE_FSYNC_NO, STORE_FSYNC_EVERYSEC, STORE_FSYNC_ALWAYS,
    };
    struct store_stats st;
    char key[32], val[32];
    size_t p;
    int i;

    for (p = 0; p < 3; p++) {
        char *dir = tmp_dir();
        struct store *s = open_store(dir, pol[p], 1 << 20, 0);
        uint64_t seq = 0;

        for (i = 0; i < 300; i++) {
            struct store_record r;

            snprintf(key, sizeof(key), "k%d", i);
            snprintf(val, sizeof(val), "v%d.%zu", i, p);
            r = mkrec((uint64_t)i + 10, val, strlen(val));
            if (i % 3 == 0) {
                r.expire_ms = INT64_MAX / 2;
            }
            seq = put_locked(s, (uint16_t)(i * 37 % STORE_SLOTS), key, &r);
            if (i % 50 == 49) {
                ck_assert_int_eq(store_commit(s, seq), RK_OK);
            }
        }
        ck_assert_int_eq(store_commit(s, seq), RK_OK);
        store_get_stats(s, &st);
        ck_assert_int_eq(st.last_write_ok, 1);
        ck_assert_uint_eq(st.committed_puts, 300);
        if (pol[p] == STORE_FSYNC_ALWAYS) {
            ck_assert_uint_ge(st.wal_syncs, st.commits);
            ck_assert_uint_gt(st.last_sync_ms, 0);
        }
        if (pol[p] == STORE_FSYNC_EVERYSEC) {
            /* the background thread syncs within about a second */
            sleep(2);
            store_get_stats(s, &st);
            ck_assert_uint_ge(st.wal_syncs, 1);
        }
        store_close(s);

        s = open_store(dir, pol[p], 1 << 20, 0);
        for (i = 0; i < 300; i++) {
            struct store_buf b;
            struct store_record r;

            snprintf(key, sizeof(key), "k%d", i);
            snprintf(val, sizeof(val), "v%d.%zu", i, p);
            expect_value(s, (uint16_t)(i * 37 % STORE_SLOTS), key,
                         (uint64_t)i + 10, val);
            store_buf_init(&b);
            ck_assert_int_eq(store_get(s, (uint16_t)(i * 37 % STORE_SLOTS),
                                       key, strlen(key), &b, &r), 1);
            ck_assert_int_eq(r.expire_ms, i % 3 == 0 ? INT64_MAX / 2 : 0);
            ck_assert_uint_eq(r.node, 7);
            store_buf_deinit(&b);
        }
        store_get_stats(s, &st);
        ck_assert_uint_gt(st.estimate_keys, 0);
        store_close(s);
        tmp_dir_remove(dir);
    }
}
END_TEST

START_TEST(open_errors_are_one_line)
{
    struct store_options o;
    struct store *s = NULL;
    char *err = NULL;
    char *dir = tmp_dir();
    char path[512], msg[64];
    FILE *f;

    /* a file where the directory should be */
    snprintf(path, sizeof(path), "%s/file", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    memset(&o, 0, sizeof(o));
    o.dir = path;
    ck_assert_int_eq(store_open(&o, &s, &err), RK_ERR);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(err);
    ck_assert(strncmp(err, "Can't open data dir ", 20) == 0);
    ck_assert_ptr_null(strchr(err, '\n'));
    free(err);

    /* nested directories are created */
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    s = open_store(path, STORE_FSYNC_NO, 0, 0);
    store_last_error(s, msg, sizeof(msg));
    ck_assert_str_eq(msg, "");
    /* a second open of the same directory fails (RocksDB's lock) */
    o.dir = path;
    err = NULL;
    ck_assert_int_eq(store_open(&o, &s, &err), RK_ERR);
    ck_assert_ptr_nonnull(err);
    ck_assert(strncmp(err, "Can't open data dir ", 20) == 0);
    free(err);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- group commit ----------------------------------------------------- */

#define GC_PER_THREAD 500

struct gc_arg {
    struct store *s;
    int id;
};

static void *
gc_thread(void *arg)
{
    struct gc_arg *a = arg;
    char key[32];
    int i;

    for (i = 0; i < GC_PER_THREAD; i++) {
        struct store_record r = mkrec((uint64_t)i + 1, "x", 1);
        uint64_t seq;

        snprintf(key, sizeof(key), "t%d:%d", a->id, i);
        seq = try_put(a->s, (uint16_t)i, key, &r);
        if (seq == UINT64_MAX || store_commit(a->s, seq) != RK_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

START_TEST(group_commit_one_write)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_ALWAYS, 1 << 20, 0);
    struct store_stats st0, st;
    struct gc_arg a[4];
    pthread_t t[4];
    uint64_t first = 0, seq = 0;
    char key[32];
    void *ret;
    int i;

    store_get_stats(s, &st0);
    for (i = 0; i < 1000; i++) {
        struct store_record r = mkrec((uint64_t)i + 1, "g", 1);

        snprintf(key, sizeof(key), "g%d", i);
        seq = put_locked(s, (uint16_t)(i % 16), key, &r);
        if (first == 0) {
            first = seq;
        }
    }
    ck_assert_uint_eq(seq, store_last_seq(s));
    ck_assert_int_eq(store_commit(s, first), RK_OK);
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.commits, st0.commits + 1);
    ck_assert_uint_eq(st.committed_puts, st0.committed_puts + 1000);
    ck_assert_uint_eq(st.wal_syncs, st0.wal_syncs + 1);
    /* the rest was in the same batch: no further write */
    ck_assert_int_eq(store_commit(s, seq), RK_OK);
    ck_assert_int_eq(store_commit(s, 0), RK_OK);
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.commits, st0.commits + 1);

    /* four threads, put + commit each: all durable, fewer writes */
    for (i = 0; i < 4; i++) {
        a[i].s = s;
        a[i].id = i;
        pthread_create(&t[i], NULL, gc_thread, &a[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], &ret);
        ck_assert_ptr_null(ret);
    }
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.committed_puts,
                      st0.committed_puts + 1000 + 4 * GC_PER_THREAD);
    ck_assert_uint_le(st.commits, st0.commits + 1 + 4 * GC_PER_THREAD);
    store_close(s);
    s = open_store(dir, STORE_FSYNC_NO, 0, 0);
    for (i = 0; i < GC_PER_THREAD; i += 9) {
        snprintf(key, sizeof(key), "t3:%d", i);
        expect_value(s, (uint16_t)i, key, (uint64_t)i + 1, "x");
    }
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- tombstones and expiry -------------------------------------------- */

START_TEST(tombstone_and_expiry)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    struct store_record r, out;
    struct store_buf b;
    int64_t now = store_now_ms();
    int pass;

    put_str(s, 4, "del", 10, "alive");
    r = mkrec(11, "", 0);
    r.flags = STORE_F_TOMBSTONE;
    put_locked(s, 4, "del", &r);
    r = mkrec(12, "short", 5);
    r.expire_ms = now - 1;
    put_locked(s, 4, "gone", &r);
    r = mkrec(13, "long", 4);
    r.expire_ms = now + 3600 * 1000;
    put_locked(s, 4, "later", &r);
    ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);

    /* once from the cache, once from RocksDB after a reopen */
    for (pass = 0; pass < 2; pass++) {
        store_buf_init(&b);
        ck_assert_int_eq(store_get(s, 4, "del", 3, &b, &out), 1);
        ck_assert(out.flags & STORE_F_TOMBSTONE);
        ck_assert_uint_eq(out.version, 11);
        ck_assert_int_eq(store_record_live(&out, now), 0);
        ck_assert_int_eq(store_get(s, 4, "gone", 4, &b, &out), 1);
        ck_assert_int_eq(store_record_live(&out, store_now_ms()), 0);
        ck_assert_int_eq(store_get(s, 4, "later", 5, &b, &out), 1);
        ck_assert_int_eq(store_record_live(&out, store_now_ms()), 1);
        ck_assert_int_eq(out.expire_ms, now + 3600 * 1000);
        store_buf_deinit(&b);
        store_close(s);
        s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    }
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- iteration -------------------------------------------------------- */

START_TEST(iterator_orders_by_slot_then_key)
{
    static const struct {
        uint16_t slot;
        const char *key;
    } order[] = {
        {0, "a"}, {1, ""}, {1, "a"}, {1, "ab"}, {1, "b"}, {255, "z"},
        {256, "a"}, {5000, "m"}, {16383, "last"},
    };
    static const int put_order[] = {5, 8, 2, 0, 7, 4, 1, 6, 3};
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    struct store_iter *it;
    struct store_record r;
    struct rk_slice k;
    uint16_t slot;
    size_t i, n = sizeof(order) / sizeof(order[0]);

    for (i = 0; i < n; i++) {
        int j = put_order[i];

        put_str(s, order[j].slot, order[j].key, 100 + (uint64_t)j, "v");
    }
    ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
    it = store_iter_create(s);
    ck_assert_ptr_nonnull(it);
    store_iter_seek(it, 0, NULL, 0);
    for (i = 0; i < n; i++) {
        ck_assert(store_iter_valid(it));
        ck_assert_int_eq(store_iter_get(it, &slot, &k, &r), RK_OK);
        ck_assert_uint_eq(slot, order[i].slot);
        ck_assert_uint_eq(k.len, strlen(order[i].key));
        ck_assert(memcmp(k.ptr, order[i].key, k.len) == 0);
        ck_assert_uint_eq(r.version, 100 + i);
        store_iter_next(it);
    }
    ck_assert(!store_iter_valid(it));

    store_iter_seek(it, 1, "aa", 2);
    ck_assert(store_iter_valid(it));
    ck_assert_int_eq(store_iter_get(it, &slot, &k, &r), RK_OK);
    ck_assert_uint_eq(slot, 1);
    ck_assert(k.len == 2 && memcmp(k.ptr, "ab", 2) == 0);
    store_iter_seek(it, 2, NULL, 0);
    ck_assert_int_eq(store_iter_get(it, &slot, &k, &r), RK_OK);
    ck_assert_uint_eq(slot, 255);
    store_iter_destroy(it);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/*
 * Records half in SST files (store_compact() flushes the memtable first)
 * and half in the memtable, across empty slots: the iterator, which walks
 * the slot-hashed memtable slot by slot, still returns them all in (slot,
 * key) order, skipping deleted slots' gaps.
 */
START_TEST(iterator_merges_memtable_and_files)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    struct store_iter *it;
    struct store_record r;
    struct rk_slice k;
    uint16_t slot, prev_slot = 0;
    char key[16], prev[16] = "";
    int n = 0;

    for (int i = 0; i < 400; i++) {
        snprintf(key, sizeof(key), "k%03d", i);
        if (i == 200) {
            ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
            store_compact(s);
        }
        /* slots 0, 41, 82, ... (every key twice: once per half) */
        put_str(s, (uint16_t)((i % 200) * 41 % STORE_SLOTS), key,
                1 + (uint64_t)i, "v");
    }
    ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
    it = store_iter_create(s);
    ck_assert_ptr_nonnull(it);
    for (store_iter_seek(it, 0, NULL, 0); store_iter_valid(it);
         store_iter_next(it)) {
        ck_assert_int_eq(store_iter_get(it, &slot, &k, &r), RK_OK);
        ck_assert_uint_lt(k.len, sizeof(key));
        memcpy(key, k.ptr, k.len);
        key[k.len] = 0;
        ck_assert_msg(n == 0 || slot > prev_slot ||
                      (slot == prev_slot && strcmp(key, prev) > 0),
                      "%u/%s after %u/%s", slot, key, prev_slot, prev);
        ck_assert_uint_eq(slot % 41, 0);
        prev_slot = slot;
        memcpy(prev, key, k.len + 1);
        n++;
    }
    ck_assert_int_eq(n, 400);
    /* A seek into an empty slot lands on the next one with records. */
    store_iter_seek(it, 42, NULL, 0);
    ck_assert(store_iter_valid(it));
    ck_assert_int_eq(store_iter_get(it, &slot, &k, &r), RK_OK);
    ck_assert_uint_eq(slot, 82);
    store_iter_seek(it, 199 * 41 + 1, NULL, 0);
    ck_assert(!store_iter_valid(it));
    store_iter_destroy(it);
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- FLUSHALL --------------------------------------------------------- */

START_TEST(flush_all_drops_everything)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_ALWAYS, 1 << 20, 0);
    struct store_stats st;
    struct store_iter *it;
    char key[32];
    int i;

    for (i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "f%d", i);
        put_str(s, (uint16_t)(i * 31 % STORE_SLOTS), key, 1, "x");
        if (i == 250) {
            ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
        }
    }
    /* half committed, half pending: both go */
    ck_assert_int_eq(store_flush_all(s), RK_OK);
    store_get_stats(s, &st);
    ck_assert_uint_eq(st.cache_entries, 0);
    for (i = 0; i < 500; i += 13) {
        snprintf(key, sizeof(key), "f%d", i);
        expect_absent(s, (uint16_t)(i * 31 % STORE_SLOTS), key);
    }
    it = store_iter_create(s);
    store_iter_seek(it, 0, NULL, 0);
    ck_assert(!store_iter_valid(it));
    store_iter_destroy(it);

    /* writes after the flush stay */
    put_str(s, 3, "after", 2, "y");
    ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
    store_close(s);
    s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    expect_absent(s, 0, "f0");
    expect_value(s, 3, "after", 2, "y");
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- compaction filter ------------------------------------------------ */

static int
count_records(struct store *s)
{
    struct store_iter *it = store_iter_create(s);
    int n = 0;

    for (store_iter_seek(it, 0, NULL, 0); store_iter_valid(it);
         store_iter_next(it)) {
        n++;
    }
    store_iter_destroy(it);
    return n;
}

static void
put_purge_set(struct store *s, struct store_clock *c)
{
    struct store_record r;

    r = mkrec(store_clock_next(c), "", 0);
    r.flags = STORE_F_TOMBSTONE;
    put_locked(s, 1, "tomb", &r);
    r = mkrec(store_clock_next(c), "e", 1);
    r.expire_ms = store_now_ms() - 5000;
    put_locked(s, 1, "expired", &r);
    r = mkrec(store_clock_next(c), "l", 1);
    put_locked(s, 1, "live", &r);
    r = mkrec(store_clock_next(c), "f", 1);
    r.expire_ms = store_now_ms() + 3600 * 1000;
    put_locked(s, 1, "future", &r);
    ck_assert_int_eq(store_commit(s, store_last_seq(s)), RK_OK);
}

START_TEST(compaction_purges_after_grace)
{
    char *dir = tmp_dir();
    struct store_clock c;
    struct store *s;

    store_clock_init(&c);
    /* default grace (10 days): compaction keeps everything */
    s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    put_purge_set(s, &c);
    ck_assert_int_eq(count_records(s), 4);
    store_compact(s);
    ck_assert_int_eq(count_records(s), 4);
    store_close(s);

    /* grace 1 ms: tombstone and expired record go, live ones stay */
    s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 1);
    put_purge_set(s, &c);
    usleep(20 * 1000);
    store_compact(s);
    ck_assert_int_eq(count_records(s), 2);
    store_close(s);
    s = open_store(dir, STORE_FSYNC_NO, 1 << 20, 0);
    expect_absent(s, 1, "tomb");
    expect_absent(s, 1, "expired");
    expect_present(s, 1, "live");
    expect_present(s, 1, "future");
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- stripe locks ----------------------------------------------------- */

#define LOCK_POOL 40
#define LOCK_ITERS 20000

struct lock_arg {
    struct store *s;
    int *counter;
    uint64_t seed;
    long expected[LOCK_POOL];
};

static void *
lock_thread(void *arg)
{
    struct lock_arg *a = arg;
    struct rk_slice keys[STORE_LOCK_MAX + 8];
    uint16_t slots[STORE_LOCK_MAX + 8];
    static const char *names[LOCK_POOL] = {
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
        "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "aa",
        "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii", "jj", "kk", "ll",
        "mm", "nn",
    };
    int idx[STORE_LOCK_MAX + 8];
    int it, i, j, n;

    for (it = 0; it < LOCK_ITERS; it++) {
        struct store_lockset ls;
        int seen[LOCK_POOL] = {0};

        n = it % 500 == 0 ? STORE_LOCK_MAX + 3
                          : 1 + (int)(rng_next(&a->seed) % 8);
        for (i = 0; i < n; i++) {
            idx[i] = (int)(rng_next(&a->seed) % LOCK_POOL);
            keys[i].ptr = names[idx[i]];
            keys[i].len = strlen(names[idx[i]]);
            slots[i] = (uint16_t)(idx[i] * 997 % STORE_SLOTS);
        }
        store_lock_keys(a->s, &ls, (size_t)n, slots, keys);
        for (i = 0; i < n; i++) {
            j = idx[i];
            if (!seen[j]) {
                seen[j] = 1;
                a->counter[j]++;   /* protected by the stripe lock only */
                a->expected[j]++;
            }
        }
        store_unlock_keys(a->s, &ls);
    }
    return NULL;
}

START_TEST(stripe_locks_no_deadlock)
{
    char *dir = tmp_dir();
    struct store *s = open_store(dir, STORE_FSYNC_NO, 0, 0);
    int counter[LOCK_POOL] = {0};
    struct lock_arg a[2];
    pthread_t t[2];
    int i, k;

    for (k = 0; k < 2; k++) {
        memset(&a[k], 0, sizeof(a[k]));
        a[k].s = s;
        a[k].counter = counter;
        a[k].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
        pthread_create(&t[k], NULL, lock_thread, &a[k]);
    }
    for (k = 0; k < 2; k++) {
        pthread_join(t[k], NULL);
    }
    for (i = 0; i < LOCK_POOL; i++) {
        ck_assert_int_eq(counter[i], a[0].expected[i] + a[1].expected[i]);
    }
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- concurrent readers see monotonic versions ------------------------ */

#define MONO_KEYS 64
#define MONO_WRITES 20000

struct mono_arg {
    struct store *s;
    atomic_int *stop;
    int bad;
};

static void *
mono_reader(void *arg)
{
    struct mono_arg *a = arg;
    uint64_t last[MONO_KEYS] = {0};
    struct store_buf b;
    struct store_record r;
    char key[16];
    uint64_t x = 12345;

    store_buf_init(&b);
    while (!atomic_load(a->stop)) {
        int k = (int)(rng_next(&x) % MONO_KEYS);
        int rc;

        snprintf(key, sizeof(key), "m%d", k);
        rc = store_get(a->s, 7, key, strlen(key), &b, &r);
        if (rc < 0) {
            a->bad++;
            continue;
        }
        if (rc == 1) {
            if (r.version < last[k]) {
                a->bad++;
            }
            last[k] = r.version;
        }
    }
    store_buf_deinit(&b);
    return NULL;
}

START_TEST(readers_never_go_back)
{
    char *dir = tmp_dir();
    /* tiny cache: constant eviction and miss fills race the writer */
    struct store *s = open_store(dir, STORE_FSYNC_NO, 16 * 1024, 0);
    atomic_int stop;
    struct mono_arg a[2];
    pthread_t t[2];
    char key[16];
    uint64_t x = 777;
    int i, k;

    atomic_init(&stop, 0);
    for (k = 0; k < 2; k++) {
        a[k].s = s;
        a[k].stop = &stop;
        a[k].bad = 0;
        pthread_create(&t[k], NULL, mono_reader, &a[k]);
    }
    for (i = 1; i <= MONO_WRITES; i++) {
        struct store_record r = mkrec((uint64_t)i, "value-bytes", 11);

        k = (int)(rng_next(&x) % MONO_KEYS);
        snprintf(key, sizeof(key), "m%d", k);
        if (store_commit(s, put_locked(s, 7, key, &r)) != RK_OK) {
            ck_abort_msg("commit failed");
        }
    }
    atomic_store(&stop, 1);
    for (k = 0; k < 2; k++) {
        pthread_join(t[k], NULL);
        ck_assert_int_eq(a[k].bad, 0);
    }
    store_close(s);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- crash recovery --------------------------------------------------- */

static void
crash_child(const char *dir, int wfd, int exit_early)
{
    struct store_options o;
    struct store *s = NULL;
    char *err = NULL;
    char key[32];
    int i;

    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.fsync = STORE_FSYNC_ALWAYS;
    o.cache_bytes = 1 << 20;
    if (store_open(&o, &s, &err) != RK_OK) {
        _exit(2);
    }
    for (i = 0;; i++) {
        struct store_record r = mkrec((uint64_t)i + 1, "durable", 7);
        struct store_lockset ls;
        struct rk_slice k;
        uint16_t slot = (uint16_t)(i % STORE_SLOTS);
        uint64_t seq;

        snprintf(key, sizeof(key), "c%d", i);
        k.ptr = key;
        k.len = strlen(key);
        store_lock_keys(s, &ls, 1, &slot, &k);
        if (store_put(s, slot, key, k.len, &r, &seq) != RK_OK) {
            _exit(3);
        }
        store_unlock_keys(s, &ls);
        if (store_commit(s, seq) != RK_OK) {
            _exit(4);
        }
        /* report i committed; the parent relies on nothing else */
        if (write(wfd, &i, sizeof(i)) != sizeof(i)) {
            _exit(5);
        }
        if (exit_early && i == 99) {
            _exit(0);   /* no store_close(): no flush, no final sync */
        }
    }
}

static void
crash_check(const char *dir, int last)
{
    struct store *s = open_store(dir, STORE_FSYNC_NO, 0, 0);
    char key[32];
    int i;

    for (i = 0; i <= last; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        expect_value(s, (uint16_t)(i % STORE_SLOTS), key, (uint64_t)i + 1,
                     "durable");
    }
    store_close(s);
}

/*
 * Fork a writer that commits records under FSYNC_ALWAYS and reports each
 * commit on a pipe; it either _exit()s without store_close() (exit_early)
 * or is killed with SIGKILL mid-stream. Then reopen and find every
 * reported record. The fork happens before this process opens a store,
 * so the child starts with no RocksDB threads.
 */
static void
crash_run(int exit_early)
{
    char *dir = tmp_dir();
    int fds[2], st, v, last = -1;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(dir, fds[1], exit_early);
        _exit(1);
    }
    close(fds[1]);
    while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
        last = v;
        if (!exit_early && last >= 60) {
            kill(pid, SIGKILL);   /* mid-stream, between commits */
            break;
        }
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    close(fds[0]);
    if (exit_early) {
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        ck_assert_int_eq(last, 99);
    } else {
        ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        ck_assert_int_ge(last, 60);
    }
    crash_check(dir, last);
    tmp_dir_remove(dir);
}

START_TEST(crash_exit_without_close)
{
    crash_run(1);
}
END_TEST

START_TEST(crash_sigkill_mid_stream)
{
    crash_run(0);
}
END_TEST

/* ---- suite ------------------------------------------------------------ */

static Suite *
storage_suite(void)
{
    Suite *su = suite_create("storage");
    TCase *tc;

    tc = tcase_create("record");
    tcase_add_test(tc, record_round_trip);
    tcase_add_test(tc, record_garbage_rejected);
    tcase_add_test(tc, record_order_and_liveness);
    suite_add_tcase(su, tc);

    tc = tcase_create("clock");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, clock_monotonic_across_threads);
    suite_add_tcase(su, tc);

    tc = tcase_create("cache");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cache_older_never_replaces_newer);
    tcase_add_test(tc, cache_bound_holds_and_evicts);
    tcase_add_test(tc, cache_pinned_until_commit);
    tcase_add_test(tc, store_older_put_dropped);
    tcase_add_test(tc, readers_never_go_back);
    suite_add_tcase(su, tc);

    tc = tcase_create("rocks");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, persist_under_each_policy);
    tcase_add_test(tc, open_errors_are_one_line);
    tcase_add_test(tc, group_commit_one_write);
    tcase_add_test(tc, tombstone_and_expiry);
    tcase_add_test(tc, iterator_orders_by_slot_then_key);
    tcase_add_test(tc, iterator_merges_memtable_and_files);
    tcase_add_test(tc, flush_all_drops_everything);
    tcase_add_test(tc, compaction_purges_after_grace);
    tcase_add_test(tc, stripe_locks_no_deadlock);
    tcase_add_test(tc, crash_exit_without_close);
    tcase_add_test(tc, crash_sigkill_mid_stream);
    suite_add_tcase(su, tc);
    return su;
}

int
main(void)
{
    SRunner *sr = srunner_create(storage_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
