/*
 * storage/rocks.c - the store: RocksDB options and column families, open
 * and close, the everysec thread, reads, stripe locks, maintenance,
 * iteration and statistics. Writes go through the pending log and the
 * group commit of commit.c; struct store is in rocks_internal.h.
 *
 * Lock order: stripe locks -> commit_mu -> batch_mu; cache shard locks are
 * innermost and never held while another lock is taken.
 *
 * Keys in the data column family are a 2-byte big-endian slot followed by
 * the key; values are encoded records (record.c). A compaction filter on
 * the data column family purges tombstones whose version, and expired
 * records whose deadline, is older than now - tombstone_grace_ms.
 *
 * The hints column family belongs to hints.c, which reaches the handles
 * through the accessors of rocks_internal.h at the end of this file.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <rocksdb/c.h>

#include "cache.h"
#include "rocks_internal.h"

#define STORE_STRIPES        1024                /* power of two */
#define STORE_GRACE_MS       (10ULL * 24 * 3600 * 1000)
#define STORE_BLOCK_CACHE    ((size_t)16 << 20)
#define STORE_DATA_WBUF      ((size_t)32 << 20)
#define STORE_HINTS_WBUF     ((size_t)8 << 20)
#define STORE_SMALL_WBUF     ((size_t)1 << 20)
#define STORE_MEMTABLE_BUCKETS 65536             /* >= slots: few collisions */
#define STORE_MAX_WAL        ((uint64_t)128 << 20)
#define STORE_KEY_STACK      256

static const char *const cf_names[CF_COUNT] = {
    "default", "data", "hints", "meta",
};

/*
 * The data column family's memtables are hashed by slot (cf_options()), so
 * RocksDB iterates them in order only within one slot: a store_iter walks
 * slot by slot, seeking the next slot when one ends (prefix_same_as_start).
 */
struct store_iter {
    rocksdb_iterator_t *it;
    unsigned slot;             /* the slot being walked; STORE_SLOTS: done */
};

/* Compaction filter state: the factory keeps the grace, each filter the
 * cutoff of its compaction. Both are freed by RocksDB's destructors. */
struct purge_factory {
    uint64_t grace_ms;
};

struct purge_filter {
    int64_t cutoff_ms;
};

/* ---- helpers ---------------------------------------------------------- */

/* malloc'd printf result with CR/LF turned into spaces (one line). */
static char *
fmt_line(const char *f, ...)
{
    va_list ap;
    char *p = NULL;
    char *q;
    int n;

    va_start(ap, f);
    n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    if (n < 0 || (p = malloc((size_t)n + 1)) == NULL) {
        return NULL;
    }
    va_start(ap, f);
    vsnprintf(p, (size_t)n + 1, f, ap);
    va_end(ap);
    for (q = p; *q != '\0'; q++) {
        if (*q == '\r' || *q == '\n') {
            *q = ' ';
        }
    }
    return p;
}

/* Remember a RocksDB error (store_last_error()) and free it. */
static void
take_error(struct store *s, char *rerr)
{
    pthread_mutex_lock(&s->err_mu);
    snprintf(s->last_err, sizeof(s->last_err), "%s", rerr);
    pthread_mutex_unlock(&s->err_mu);
    rocksdb_free(rerr);
}

/* mkdir -p. 0, or -1 with errno set. */
static int
mkdir_p(const char *dir)
{
    char *p = strdup(dir);
    struct stat st;
    char *q;
    int rc = -1;
    int saved;

    if (p == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (q = p + 1; *q != '\0'; q++) {
        if (*q != '/') {
            continue;
        }
        *q = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            goto out;
        }
        *q = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        goto out;
    }
    if (stat(p, &st) != 0) {
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        goto out;
    }
    rc = 0;
out:
    saved = errno;
    free(p);
    errno = saved;
    return rc;
}

/*
 * RocksDB key of (slot, key): into stack (STORE_KEY_STACK bytes) when it
 * fits, else malloc'd. NULL when out of memory. Free with key_free().
 */
static char *
key_make(char *stack, uint16_t slot, const char *key, size_t klen)
{
    char *p = stack;

    if (klen > STORE_KEY_STACK - 2) {
        p = malloc(klen + 2);
        if (p == NULL) {
            return NULL;
        }
    }
    p[0] = (char)(slot >> 8);
    p[1] = (char)slot;
    if (klen > 0) {
        memcpy(p + 2, key, klen);
    }
    return p;
}

static void
key_free(char *stack, char *p)
{
    if (p != stack) {
        free(p);
    }
}

/* ---- compaction filter ------------------------------------------------ */

static unsigned char
purge_filter_fn(void *arg, int level, const char *key, size_t klen,
                const char *val, size_t vlen, char **nval, size_t *nvlen,
                unsigned char *changed)
{
    const struct purge_filter *pf = arg;
    struct store_record rec;

    (void)level;
    (void)key;
    (void)klen;
    (void)nval;
    (void)nvlen;
    *changed = 0;
    if (store_record_decode(val, vlen, &rec) != RK_OK) {
        return 0;   /* never drop what we cannot read */
    }
    if (rec.flags & STORE_F_TOMBSTONE) {
        return store_version_ms(rec.version) < pf->cutoff_ms;
    }
    return rec.expire_ms != 0 && rec.expire_ms < pf->cutoff_ms;
}

static const char *
purge_filter_name(void *arg)
{
    (void)arg;
    return "ringkv.purge";
}

static rocksdb_compactionfilter_t *
purge_filter_create(void *arg, rocksdb_compactionfiltercontext_t *ctx)
{
    const struct purge_factory *pfac = arg;
    struct purge_filter *pf = malloc(sizeof(*pf));

    (void)ctx;
    if (pf == NULL) {
        return NULL;   /* RocksDB runs the compaction without a filter */
    }
    pf->cutoff_ms = store_now_ms() - (int64_t)pfac->grace_ms;
    return rocksdb_compactionfilter_create(pf, free, purge_filter_fn,
                                           purge_filter_name);
}

/* ---- options ---------------------------------------------------------- */

/* Column family options: level compaction, LZ4, the shared block cache. */
static rocksdb_options_t *
cf_options(rocksdb_cache_t *block_cache, size_t wbuf, int bloom)
{
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_block_based_table_options_t *t =
        rocksdb_block_based_options_create();

    rocksdb_block_based_options_set_block_cache(t, block_cache);
    /* Index and filter blocks stay in the table readers' memory (about
     * 1.25 bytes of filter per key): in a small block cache they are
     * evicted by data blocks and every lookup would read them again. */
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 0);
    rocksdb_block_based_options_set_format_version(t, 5);
    if (bloom) {
        /* the table options own the policy */
        rocksdb_block_based_options_set_filter_policy(
            t, rocksdb_filterpolicy_create_bloom_full(10));
        /* A bloom filter over the memtables' keys too: a GET of an absent
         * key (common: caches, redis-benchmark -r) otherwise searches both
         * skiplists before the SST filters answer. */
        rocksdb_options_set_memtable_whole_key_filtering(o, 1);
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, 0.05);
        /* Memtables hashed by slot (the 2-byte key prefix): a record goes
         * into its slot's short sorted list instead of one skiplist of the
         * whole memtable, whose search (a cache miss per level) was most
         * of the CPU of a write. The price: order only within a slot, so
         * iterators walk slot by slot (store_iter), and memtable writes
         * are not concurrent (the group commit has one writer anyway). */
        rocksdb_options_set_prefix_extractor(
            o, rocksdb_slicetransform_create_fixed_prefix(2));
        rocksdb_options_set_hash_link_list_rep(o, STORE_MEMTABLE_BUCKETS);
    }
    rocksdb_options_set_block_based_table_factory(o, t);
    rocksdb_block_based_options_destroy(t);
    rocksdb_options_set_write_buffer_size(o, wbuf);
    rocksdb_options_set_max_write_buffer_number(o, 2);
    rocksdb_options_set_compaction_style(o, rocksdb_level_compaction);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);
    rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    return o;
}

/* ---- everysec thread -------------------------------------------------- */

static void *
sync_main(void *arg)
{
    struct store *s = arg;
    struct timespec next;

    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->sync_mu);
    while (!s->sync_stop) {
        next.tv_sec += 1;
        while (!s->sync_stop &&
               pthread_cond_timedwait(&s->sync_cv, &s->sync_mu, &next) !=
                   ETIMEDOUT) {
            /* spurious wakeup or stop request */
        }
        if (s->sync_stop) {
            break;
        }
        if (atomic_load(&s->fsync) == STORE_FSYNC_EVERYSEC &&
            atomic_load(&s->unsynced)) {
            pthread_mutex_unlock(&s->sync_mu);
            (void)store_sync(s);
            pthread_mutex_lock(&s->sync_mu);
        }
        clock_gettime(CLOCK_MONOTONIC, &next);
    }
    pthread_mutex_unlock(&s->sync_mu);
    return NULL;
}

static int
sync_start(struct store *s)
{
    pthread_condattr_t ca;
    int rc;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->sync_cv, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&s->sync_thread, NULL, sync_main, s);
    if (rc != 0) {
        pthread_cond_destroy(&s->sync_cv);
        return rc;
    }
    s->sync_started = 1;
    return 0;
}

static void
sync_stop(struct store *s)
{
    if (!s->sync_started) {
        return;
    }
    pthread_mutex_lock(&s->sync_mu);
    s->sync_stop = 1;
    pthread_cond_signal(&s->sync_cv);
    pthread_mutex_unlock(&s->sync_mu);
    pthread_join(s->sync_thread, NULL);
    pthread_cond_destroy(&s->sync_cv);
    s->sync_started = 0;
}

/* ---- open / close ----------------------------------------------------- */

/* Release everything s holds; s may be partly opened. */
static void
store_free(struct store *s)
{
    int i;

    sync_stop(s);
    store_hint_state_destroy(s->hints);
    for (i = 0; i < CF_COUNT; i++) {
        if (s->cf[i] != NULL) {
            rocksdb_column_family_handle_destroy(s->cf[i]);
        }
    }
    if (s->db != NULL) {
        rocksdb_close(s->db);
    }
    if (s->block_cache != NULL) {
        rocksdb_cache_destroy(s->block_cache);
    }
    if (s->wo_sync != NULL) {
        rocksdb_writeoptions_destroy(s->wo_sync);
    }
    if (s->wo_nosync != NULL) {
        rocksdb_writeoptions_destroy(s->wo_nosync);
    }
    if (s->ro_get != NULL) {
        rocksdb_readoptions_destroy(s->ro_get);
    }
    if (s->ro_scan != NULL) {
        rocksdb_readoptions_destroy(s->ro_scan);
    }
    rocks_commit_deinit(s);
    cache_destroy(s->cache);
    if (s->stripes != NULL) {
        for (i = 0; i < STORE_STRIPES; i++) {
            pthread_mutex_destroy(&s->stripes[i].mu);
        }
        free(s->stripes);
    }
    pthread_mutex_destroy(&s->batch_mu);
    pthread_mutex_destroy(&s->commit_mu);
    pthread_mutex_destroy(&s->err_mu);
    pthread_mutex_destroy(&s->sync_mu);
    free(s);
}

/* See store.h. */
int
store_open(const struct store_options *o, struct store **out, char **err)
{
    struct store *s = NULL;
    rocksdb_options_t *dbo = NULL;
    rocksdb_options_t *cfo[CF_COUNT] = {NULL};
    struct purge_factory *pfac;
    char *rerr = NULL;
    int rc = RK_ERR;
    int i;

    *err = NULL;
    if (mkdir_p(o->dir) != 0) {
        *err = fmt_line("Can't open data dir %s: %s", o->dir,
                        strerror(errno));
        goto out;
    }
    s = aligned_alloc(64, sizeof(*s));
    if (s == NULL) {
        goto oom;
    }
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->batch_mu, NULL);
    pthread_mutex_init(&s->commit_mu, NULL);
    pthread_mutex_init(&s->err_mu, NULL);
    pthread_mutex_init(&s->sync_mu, NULL);
    atomic_init(&s->fsync, (int)o->fsync);
    atomic_init(&s->unsynced, 0);
    atomic_init(&s->last_write_ok, 1);
    atomic_init(&s->commits, 0);
    atomic_init(&s->committed_puts, 0);
    atomic_init(&s->wal_syncs, 0);
    atomic_init(&s->last_sync_ms, 0);

    s->cache = cache_create(o->cache_bytes);
    s->stripes = aligned_alloc(64, sizeof(*s->stripes) * STORE_STRIPES);
    pfac = malloc(sizeof(*pfac));
    if (s->cache == NULL || s->stripes == NULL || pfac == NULL) {
        free(s->stripes);
        s->stripes = NULL;
        free(pfac);
        goto oom;
    }
    for (i = 0; i < STORE_STRIPES; i++) {
        pthread_mutex_init(&s->stripes[i].mu, NULL);
    }
    pfac->grace_ms = o->tombstone_grace_ms != 0 ? o->tombstone_grace_ms
                                                : STORE_GRACE_MS;

    s->block_cache = rocksdb_cache_create_lru(STORE_BLOCK_CACHE);
    dbo = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(dbo, 1);
    rocksdb_options_set_create_missing_column_families(dbo, 1);
    rocksdb_options_set_max_background_jobs(dbo, 2);
    rocksdb_options_set_allow_concurrent_memtable_write(dbo, 0);
    rocksdb_options_set_max_total_wal_size(dbo, STORE_MAX_WAL);
    rocksdb_options_set_keep_log_file_num(dbo, 4);
    rocksdb_options_set_max_log_file_size(dbo, (size_t)4 << 20);
    rocksdb_options_set_bytes_per_sync(dbo, (uint64_t)1 << 20);
    cfo[CF_DEFAULT] = cf_options(s->block_cache, STORE_SMALL_WBUF, 0);
    cfo[CF_DATA] = cf_options(s->block_cache, STORE_DATA_WBUF, 1);
    cfo[CF_HINTS] = cf_options(s->block_cache, STORE_HINTS_WBUF, 0);
    cfo[CF_META] = cf_options(s->block_cache, STORE_SMALL_WBUF, 0);
    /* the options own the factory; RocksDB frees pfac with it */
    rocksdb_options_set_compaction_filter_factory(
        cfo[CF_DATA],
        rocksdb_compactionfilterfactory_create(pfac, free,
                                               purge_filter_create,
                                               purge_filter_name));

    s->db = rocksdb_open_column_families(
        dbo, o->dir, CF_COUNT, (const char *const *)cf_names,
        (const rocksdb_options_t *const *)cfo, s->cf, &rerr);
    if (rerr != NULL) {
        *err = fmt_line("Can't open data dir %s: %s", o->dir, rerr);
        rocksdb_free(rerr);
        s->db = NULL;
        for (i = 0; i < CF_COUNT; i++) {
            s->cf[i] = NULL;
        }
        goto out;
    }

    s->wo_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wo_sync, 1);
    s->wo_nosync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wo_nosync, 0);
    s->ro_get = rocksdb_readoptions_create();
    s->ro_scan = rocksdb_readoptions_create();
    rocksdb_readoptions_set_fill_cache(s->ro_scan, 0);
    rocksdb_readoptions_set_prefix_same_as_start(s->ro_scan, 1);
    if (rocks_commit_init(s) != RK_OK) {
        goto oom;
    }
    switch (store_hint_state_create(s, &s->hints)) {
    case RK_OK:
        break;
    case RK_ENOMEM:
        goto oom;
    default:
        *err = fmt_line("Can't open data dir %s: can't read hints: %s",
                        o->dir, s->last_err);
        goto out;
    }

    if (sync_start(s) != 0) {
        *err = fmt_line("Can't open data dir %s: can't start sync thread",
                        o->dir);
        goto out;
    }
    *out = s;
    s = NULL;
    rc = RK_OK;
    goto out;
oom:
    *err = fmt_line("Can't open data dir %s: out of memory", o->dir);
out:
    for (i = 0; i < CF_COUNT; i++) {
        if (cfo[i] != NULL) {
            rocksdb_options_destroy(cfo[i]);
        }
    }
    if (dbo != NULL) {
        rocksdb_options_destroy(dbo);
    }
    if (s != NULL) {
        store_free(s);
    }
    return rc;
}

/* See store.h. */
void
store_close(struct store *s)
{
    if (s == NULL) {
        return;
    }
    sync_stop(s);
    pthread_mutex_lock(&s->commit_mu);
    (void)rocks_commit_locked(s);
    pthread_mutex_unlock(&s->commit_mu);
    (void)store_sync(s);
    store_free(s);
}

/* See store.h. */
void
store_set_fsync(struct store *s, enum store_fsync f)
{
    atomic_store(&s->fsync, (int)f);
}

/* See store.h. */
void
store_set_cache_bytes(struct store *s, size_t bytes)
{
    cache_set_bound(s->cache, bytes);
}

/* See store.h. */
void
store_last_error(struct store *s, char *out, size_t outlen)
{
    if (outlen == 0) {
        return;
    }
    pthread_mutex_lock(&s->err_mu);
    snprintf(out, outlen, "%s", s->last_err);
    pthread_mutex_unlock(&s->err_mu);
}

/* ---- reads and writes ------------------------------------------------- */

/* See store.h. */
int
store_get(struct store *s, uint16_t slot, const char *key, size_t klen,
          struct store_buf *buf, struct store_record *rec)
{
    uint64_t h = cache_hash(slot, key, klen);
    char stack[STORE_KEY_STACK];
    char *rkey = NULL;
    char *rerr = NULL;
    rocksdb_pinnableslice_t *ps = NULL;
    const char *v;
    uint32_t ticket;
    size_t vlen;
    int rc;

    rc = cache_get(s->cache, h, slot, key, klen, buf, &ticket);
    if (rc == 1) {
        if (store_record_decode(buf->ptr, buf->len, rec) != RK_OK) {
            return RK_ERR;
        }
        return (rec->flags & STORE_F_ABSENT) ? 0 : 1;
    }
    if (rc < 0) {
        return rc;
    }
    rkey = key_make(stack, slot, key, klen);
    if (rkey == NULL) {
        return RK_ENOMEM;
    }
    ps = rocksdb_get_pinned_cf(s->db, s->ro_get, s->cf[CF_DATA], rkey,
                               klen + 2, &rerr);
    if (rerr != NULL) {
        take_error(s, rerr);
        rc = RK_ERR;
        goto out;
    }
    if (ps == NULL) {
        /* Remember the miss: GETs of absent keys are common (caches in
         * front of databases, redis-benchmark -r) and a RocksDB miss walks
         * the memtables and the filters of every level. */
        struct store_record absent;
        char enc[64];
        memset(&absent, 0, sizeof(absent));
        absent.flags = STORE_F_ABSENT;
        cache_fill(s->cache, h, slot, key, klen, enc,
                   store_record_encode(&absent, enc), ticket);
        rc = 0;
        goto out;
    }
    v = rocksdb_pinnableslice_value(ps, &vlen);
    if (store_buf_reserve(buf, vlen) != RK_OK) {
        rc = RK_ENOMEM;
        goto out;
    }
    memcpy(buf->ptr, v, vlen);
    buf->len = vlen;
    if (store_record_decode(buf->ptr, buf->len, rec) != RK_OK) {
        rc = RK_ERR;
        goto out;
    }
    cache_fill(s->cache, h, slot, key, klen, buf->ptr, buf->len, ticket);
    rc = 1;
out:
    if (ps != NULL) {
        rocksdb_pinnableslice_destroy(ps);
    }
    key_free(stack, rkey);
    return rc;
}

/* ---- stripe locks ----------------------------------------------------- */

/* See store.h. */
void
store_lock_keys(struct store *s, struct store_lockset *ls, size_t nkeys,
                const uint16_t *slots, const struct rk_slice *keys)
{
    unsigned n = 0;
    unsigned i, j;
    size_t k;

    ls->n = 0;
    ls->all = 0;
    if (nkeys > STORE_LOCK_MAX) {
        for (i = 0; i < STORE_STRIPES; i++) {
            pthread_mutex_lock(&s->stripes[i].mu);
        }
        ls->all = 1;
        return;
    }
    for (k = 0; k < nkeys; k++) {
        uint16_t st = (uint16_t)(cache_hash(slots[k], keys[k].ptr,
                                            keys[k].len) &
                                 (STORE_STRIPES - 1));

        /* insertion sort, dropping duplicates */
        for (j = n; j > 0 && ls->stripe[j - 1] > st; j--) {
            /* find the place */
        }
        if (j > 0 && ls->stripe[j - 1] == st) {
            continue;
        }
        memmove(&ls->stripe[j + 1], &ls->stripe[j],
                (n - j) * sizeof(ls->stripe[0]));
        ls->stripe[j] = st;
        n++;
    }
    ls->n = n;
    for (i = 0; i < n; i++) {
        pthread_mutex_lock(&s->stripes[ls->stripe[i]].mu);
    }
}

/* See store.h. */
void
store_unlock_keys(struct store *s, struct store_lockset *ls)
{
    unsigned i;

    if (ls->all) {
        for (i = STORE_STRIPES; i-- > 0;) {
            pthread_mutex_unlock(&s->stripes[i].mu);
        }
    } else {
        for (i = ls->n; i-- > 0;) {
            pthread_mutex_unlock(&s->stripes[ls->stripe[i]].mu);
        }
    }
    ls->n = 0;
    ls->all = 0;
}

/* ---- maintenance ------------------------------------------------------ */

/* See store.h. */
int
store_flush_all(struct store *s)
{
    struct store_lockset ls;
    int rc;

    store_lock_keys(s, &ls, STORE_LOCK_MAX + 1, NULL, NULL);
    rc = store_flush_all_locked(s);
    store_unlock_keys(s, &ls);
    return rc;
}

/* See store.h. */
int
store_flush_all_locked(struct store *s)
{
    static const char lo[2] = {0x00, 0x00};
    static const char hi[2] = {(char)(STORE_SLOTS >> 8), 0x00};
    char *rerr = NULL;
    int sync;
    int rc;

    pthread_mutex_lock(&s->commit_mu);
    rc = rocks_commit_locked(s);
    if (rc != RK_OK) {
        goto out;
    }
    sync = atomic_load(&s->fsync) == STORE_FSYNC_ALWAYS;
    /* every key starts with a slot < STORE_SLOTS: [00 00, 40 00) */
    rocksdb_delete_range_cf(s->db, sync ? s->wo_sync : s->wo_nosync,
                            s->cf[CF_DATA], lo, sizeof(lo), hi, sizeof(hi),
                            &rerr);
    if (rerr != NULL) {
        take_error(s, rerr);
        atomic_store(&s->last_write_ok, 0);
        rc = RK_ERR;
        goto out;
    }
    if (!sync) {
        atomic_store(&s->unsynced, 1);
    }
    cache_clear(s->cache);
    rocksdb_suggest_compact_range_cf(s->db, s->cf[CF_DATA], lo, sizeof(lo),
                                     hi, sizeof(hi), &rerr);
    if (rerr != NULL) {
        rocksdb_free(rerr);   /* only a hint; the data is gone anyway */
    }
out:
    pthread_mutex_unlock(&s->commit_mu);
    return rc;
}

/* See store.h. */
void
store_compact(struct store *s)
{
    rocksdb_compact_range_cf(s->db, s->cf[CF_DATA], NULL, 0, NULL, 0);
}

/* Sum of an integer property over the given column families. */
static uint64_t
prop_sum(struct store *s, const char *name, int from, int to)
{
    uint64_t sum = 0;
    uint64_t v;
    int i;

    for (i = from; i <= to; i++) {
        if (rocksdb_property_int_cf(s->db, s->cf[i], name, &v) == 0) {
            sum += v;
        }
    }
    return sum;
}

/* See store.h. */
void
store_get_stats(struct store *s, struct store_stats *st)
{
    struct cache_stats cs;

    memset(st, 0, sizeof(*st));
    cache_get_stats(s->cache, &cs);
    st->cache_hits = cs.hits;
    st->cache_misses = cs.misses;
    st->cache_evictions = cs.evictions;
    st->cache_bytes = cs.bytes;
    st->cache_entries = cs.entries;
    st->commits = atomic_load(&s->commits);
    st->committed_puts = atomic_load(&s->committed_puts);
    st->wal_syncs = atomic_load(&s->wal_syncs);
    st->last_sync_ms = atomic_load(&s->last_sync_ms);
    st->estimate_keys = prop_sum(s, "rocksdb.estimate-num-keys", CF_DATA,
                                 CF_DATA);
    st->sst_bytes = prop_sum(s, "rocksdb.total-sst-files-size", 0,
                             CF_COUNT - 1);
    st->memtable_bytes = prop_sum(s, "rocksdb.cur-size-all-mem-tables", 0,
                                  CF_COUNT - 1);
    st->last_write_ok = atomic_load(&s->last_write_ok);
}

/* ---- iteration -------------------------------------------------------- */

/* See store.h. NULL when out of memory; destroy before store_close(). */
struct store_iter *
store_iter_create(struct store *s)
{
    struct store_iter *it = malloc(sizeof(*it));

    if (it == NULL) {
        return NULL;
    }
    it->it = rocksdb_create_iterator_cf(s->db, s->ro_scan, s->cf[CF_DATA]);
    it->slot = STORE_SLOTS;    /* not positioned yet */
    return it;
}

/* See store.h. */
void
store_iter_destroy(struct store_iter *it)
{
    if (it == NULL) {
        return;
    }
    rocksdb_iter_destroy(it->it);
    free(it);
}

/* Past the end of it->slot: seek the following slots until one has a
 * record or none is left. */
static void
iter_settle(struct store_iter *it)
{
    while (!rocksdb_iter_valid(it->it) && it->slot + 1 < STORE_SLOTS) {
        char first[2];

        it->slot++;
        first[0] = (char)(it->slot >> 8);
        first[1] = (char)it->slot;
        rocksdb_iter_seek(it->it, first, 2);
    }
    if (!rocksdb_iter_valid(it->it)) {
        it->slot = STORE_SLOTS;
    }
}

/* See store.h. Out of memory for a huge key leaves the iterator invalid. */
void
store_iter_seek(struct store_iter *it, uint16_t slot, const char *key,
                size_t klen)
{
    char stack[STORE_KEY_STACK];
    char *rkey;

    it->slot = slot < STORE_SLOTS ? slot : STORE_SLOTS;
    if (it->slot == STORE_SLOTS) {
        return;
    }
    rkey = key_make(stack, slot, key, klen);
    if (rkey == NULL) {
        it->slot = STORE_SLOTS;
        return;
    }
    rocksdb_iter_seek(it->it, rkey, klen + 2);
    key_free(stack, rkey);
    iter_settle(it);
}

/* See store.h. */
int
store_iter_valid(struct store_iter *it)
{
    return it->slot < STORE_SLOTS && rocksdb_iter_valid(it->it) ? 1 : 0;
}

/* See store.h. */
void
store_iter_next(struct store_iter *it)
{
    rocksdb_iter_next(it->it);
    iter_settle(it);
}

/* See store.h. */
int
store_iter_get(struct store_iter *it, uint16_t *slot, struct rk_slice *key,
               struct store_record *rec)
{
    const unsigned char *k;
    const char *v;
    size_t klen, vlen;

    k = (const unsigned char *)rocksdb_iter_key(it->it, &klen);
    if (klen < 2) {
        return RK_EPROTO;
    }
    *slot = (uint16_t)(k[0] << 8 | k[1]);
    key->ptr = (const char *)k + 2;
    key->len = klen - 2;
    v = rocksdb_iter_value(it->it, &vlen);
    return store_record_decode(v, vlen, rec);
}

/* ---- for the rest of storage/ (rocks_internal.h) ---------------------- */

/* See rocks_internal.h. */
rocksdb_t *
rocks_db(struct store *s)
{
    return s->db;
}

/* See rocks_internal.h. */
rocksdb_column_family_handle_t *
rocks_cf_hints(struct store *s)
{
    return s->cf[CF_HINTS];
}

/* See rocks_internal.h. */
rocksdb_column_family_handle_t *
rocks_cf_meta(struct store *s)
{
    return s->cf[CF_META];
}

/* See rocks_internal.h. */
void
rocks_take_error(struct store *s, char *rerr)
{
    take_error(s, rerr);
}

/* See rocks_internal.h. */
struct store_hint_state *
rocks_hint_state(struct store *s)
{
    return s->hints;
}
