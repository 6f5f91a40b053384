/*
 * storage/commit.c - the store's write path: the pending log that every
 * store_put() (and every lazy hint) appends to, and the group commit that
 * turns it into one RocksDB write under the fsync policy.
 *
 * Write path. store_put() inserts the record into the cache pinned, then
 * appends it to the one shared pending log (struct pending) and takes the
 * next sequence number (both under batch_mu, so log order = sequence
 * order). store_commit(seq) returns at once when committed_seq >= seq;
 * otherwise it takes commit_mu, swaps the pending log for an empty one
 * (under batch_mu, briefly), turns it into one WriteBatch sorted by key
 * with only the last write of each key, and writes that with one
 * rocksdb_write(), synced under STORE_FSYNC_ALWAYS. Threads that append
 * while a write is in flight are all committed by the next one: group
 * commit. A failed batch is kept and written first by the next commit, so
 * nothing is lost or reordered.
 *
 * Why sort: a key-ordered batch inserts each slot's records together (the
 * data memtables are hashed by slot, rocks.c) and shows the duplicates of
 * a key side by side, so only the last one is written. Dropping
 * overwritten records of the same batch is safe because only the newest
 * version of a key is ever read.
 */
#include "store.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "cache.h"
#include "rocks_internal.h"

#define STORE_KEEP_BATCH     ((size_t)1 << 20)   /* bigger spares are freed */

/* ---- pending log ------------------------------------------------------ */

static void
pending_destroy(struct pending *p)
{
    if (p != NULL) {
        free(p->buf);
        free(p);
    }
}

/* Forget the writes; a buffer grown by a burst is given back. */
static void
pending_reset(struct pending *p)
{
    p->len = 0;
    p->count = 0;
    if (p->cap > STORE_KEEP_BATCH) {
        free(p->buf);
        p->buf = NULL;
        p->cap = 0;
    }
}

/* Each write in a log: cf, klen, vlen (uint32_t each), key, value. */
#define PENDING_HEAD 12

/* Append one write to column family cf. RK_OK or RK_ENOMEM. */
static int
pending_add(struct pending *p, uint32_t cf, const char *key, size_t klen,
            const char *val, size_t vlen)
{
    size_t need = PENDING_HEAD + klen + vlen;
    uint32_t k32 = (uint32_t)klen;
    uint32_t v32 = (uint32_t)vlen;

    if (p->len + need > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64 * 1024;
        char *nb;
        while (cap < p->len + need) {
            cap *= 2;
        }
        nb = realloc(p->buf, cap);
        if (nb == NULL) {
            return RK_ENOMEM;
        }
        p->buf = nb;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, &cf, 4);
    memcpy(p->buf + p->len + 4, &k32, 4);
    memcpy(p->buf + p->len + 8, &v32, 4);
    memcpy(p->buf + p->len + PENDING_HEAD, key, klen);
    memcpy(p->buf + p->len + PENDING_HEAD + klen, val, vlen);
    p->len += need;
    p->count++;
    return RK_OK;
}

/* Append every write of src to dst (src's are newer). Best effort: only
 * used to put a log back after an allocation failure. */
static void
pending_append_log(struct pending *dst, struct pending *src)
{
    size_t off = 0;

    while (off < src->len) {
        const char *key = src->buf + off + PENDING_HEAD;
        uint32_t cf, klen, vlen;

        memcpy(&cf, src->buf + off, 4);
        memcpy(&klen, src->buf + off + 4, 4);
        memcpy(&vlen, src->buf + off + 8, 4);
        (void)pending_add(dst, cf, key, klen, key + klen, vlen);
        off += PENDING_HEAD + klen + vlen;
    }
    pending_reset(src);
}

static int
ref_cmp(const void *a, const void *b)
{
    const struct pending_ref *x = a;
    const struct pending_ref *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c;

    if (x->cf != y->cf) {
        return x->cf < y->cf ? -1 : 1;
    }
    c = memcmp(x->key, y->key, n);
    if (c != 0) {
        return c;
    }
    if (x->klen != y->klen) {
        return x->klen < y->klen ? -1 : 1;
    }
    /* the same key: log order, so the last one is the newest */
    return x->order < y->order ? -1 : (x->order > y->order ? 1 : 0);
}

/*
 * Fill s->wb with the writes of log sorted by column family and key,
 * keeping only the last write of each key. RK_OK or RK_ENOMEM. Caller
 * holds commit_mu.
 */
static int
build_batch(struct store *s, struct pending *log)
{
    size_t off = 0;
    size_t n = 0;

    if (log->count > s->nrefs) {
        struct pending_ref *r = realloc(s->refs, log->count * sizeof(*r));
        if (r == NULL) {
            return RK_ENOMEM;
        }
        s->refs = r;
        s->nrefs = log->count;
    }
    while (off < log->len) {
        struct pending_ref *r = &s->refs[n];
        memcpy(&r->cf, log->buf + off, 4);
        memcpy(&r->klen, log->buf + off + 4, 4);
        memcpy(&r->vlen, log->buf + off + 8, 4);
        r->key = log->buf + off + PENDING_HEAD;
        r->val = r->key + r->klen;
        r->order = n++;
        off += PENDING_HEAD + (size_t)r->klen + r->vlen;
    }
    qsort(s->refs, n, sizeof(s->refs[0]), ref_cmp);
    for (size_t i = 0; i < n; i++) {
        const struct pending_ref *r = &s->refs[i];
        if (i + 1 < n && r->cf == s->refs[i + 1].cf &&
            r->klen == s->refs[i + 1].klen &&
            memcmp(r->key, s->refs[i + 1].key, r->klen) == 0) {
            continue;   /* overwritten later in this batch */
        }
        rocksdb_writebatch_put_cf(s->wb, s->cf[r->cf], r->key, r->klen,
                                  r->val, r->vlen);
    }
    return RK_OK;
}

/* Bookkeeping after a batch up to seq (n records) reached RocksDB. */
static void
commit_done(struct store *s, uint64_t seq, int n, int synced)
{
    __atomic_store_n(&s->committed_seq, seq, __ATOMIC_RELEASE);
    cache_unpin(s->cache, seq);
    atomic_fetch_add(&s->commits, 1);
    atomic_fetch_add(&s->committed_puts, (uint64_t)n);
    if (synced) {
        atomic_fetch_add(&s->wal_syncs, 1);
        atomic_store(&s->last_sync_ms, (uint64_t)store_now_ms());
    } else {
        atomic_store(&s->unsynced, 1);
    }
    atomic_store(&s->last_write_ok, 1);
}

static int
write_batch(struct store *s, rocksdb_writebatch_t *wb, int sync)
{
    char *rerr = NULL;

    rocksdb_write(s->db, sync ? s->wo_sync : s->wo_nosync, wb, &rerr);
    if (rerr != NULL) {
        rocks_take_error(s, rerr);
        atomic_store(&s->last_write_ok, 0);
        return RK_ERR;
    }
    return RK_OK;
}

/* See rocks_internal.h. */
int
rocks_commit_locked(struct store *s)
{
    int sync = atomic_load(&s->fsync) == STORE_FSYNC_ALWAYS;
    struct pending *log;
    uint64_t max;
    int n;

    if (s->failed != NULL) {
        n = rocksdb_writebatch_count(s->failed);
        if (write_batch(s, s->failed, sync) != RK_OK) {
            return RK_ERR;
        }
        rocksdb_writebatch_destroy(s->failed);
        s->failed = NULL;
        commit_done(s, s->failed_seq, n, sync);
    }
    pthread_mutex_lock(&s->batch_mu);
    log = s->pending;
    s->pending = s->spare;
    max = s->last_seq;
    pthread_mutex_unlock(&s->batch_mu);
    s->spare = log;
    if (log->count == 0) {
        return RK_OK;
    }
    n = (int)log->count;
    if (build_batch(s, log) != RK_OK) {
        /* Out of memory sorting: keep the log for the next commit. */
        pthread_mutex_lock(&s->batch_mu);
        s->spare = s->pending;
        s->pending = log;
        pending_append_log(s->pending, s->spare);
        pthread_mutex_unlock(&s->batch_mu);
        return RK_ERR;
    }
    pending_reset(log);
    if (write_batch(s, s->wb, sync) != RK_OK) {
        s->failed = s->wb;
        s->failed_seq = max;
        s->wb = rocksdb_writebatch_create();
        return RK_ERR;
    }
    rocksdb_writebatch_clear(s->wb);
    commit_done(s, max, n, sync);
    return RK_OK;
}

/* See store.h. */
int
store_commit(struct store *s, uint64_t seq)
{
    int rc = RK_OK;

    if (seq <= __atomic_load_n(&s->committed_seq, __ATOMIC_ACQUIRE)) {
        return RK_OK;
    }
    pthread_mutex_lock(&s->commit_mu);
    if (seq > __atomic_load_n(&s->committed_seq, __ATOMIC_ACQUIRE)) {
        rc = rocks_commit_locked(s);
    }
    pthread_mutex_unlock(&s->commit_mu);
    return rc;
}

/* See store.h. */
uint64_t
store_last_seq(struct store *s)
{
    return __atomic_load_n(&s->last_seq, __ATOMIC_ACQUIRE);
}

/* See store.h. */
int
store_sync(struct store *s)
{
    char *rerr = NULL;

    atomic_store(&s->unsynced, 0);
    rocksdb_flush_wal(s->db, 1, &rerr);
    if (rerr != NULL) {
        rocks_take_error(s, rerr);
        atomic_store(&s->unsynced, 1);
        atomic_store(&s->last_write_ok, 0);
        return RK_ERR;
    }
    atomic_fetch_add(&s->wal_syncs, 1);
    atomic_store(&s->last_sync_ms, (uint64_t)store_now_ms());
    return RK_OK;
}

/* See rocks_internal.h. */
int
rocks_commit_init(struct store *s)
{
    s->pending = calloc(1, sizeof(*s->pending));
    s->spare = calloc(1, sizeof(*s->spare));
    s->wb = rocksdb_writebatch_create();
    return s->pending == NULL || s->spare == NULL ? RK_ENOMEM : RK_OK;
}

/* See rocks_internal.h. */
void
rocks_commit_deinit(struct store *s)
{
    pending_destroy(s->pending);
    pending_destroy(s->spare);
    if (s->wb != NULL) {
        rocksdb_writebatch_destroy(s->wb);
    }
    free(s->refs);
    if (s->failed != NULL) {
        rocksdb_writebatch_destroy(s->failed);
    }
}

/* ---- writes ------------------------------------------------------------ */

/* See store.h. */
int
store_put(struct store *s, uint16_t slot, const char *key, size_t klen,
          const struct store_record *rec, uint64_t *seq)
{
    uint64_t h = cache_hash(slot, key, klen);
    struct cache_entry *e;
    struct rk_slice rkey, enc;
    uint64_t newer;
    uint64_t my;
    int rc;

    assert(klen <= UINT32_MAX - 2);
    rc = cache_put_begin(s->cache, h, slot, key, klen, rec, &e, &rkey, &enc,
                         &newer);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        /* an equal or newer version is cached: last write wins */
        *seq = newer == UINT64_MAX ? store_last_seq(s) : newer;
        return RK_OK;
    }
    pthread_mutex_lock(&s->batch_mu);
    if (pending_add(s->pending, CF_DATA, rkey.ptr, rkey.len, enc.ptr,
                    enc.len) != RK_OK) {
        pthread_mutex_unlock(&s->batch_mu);
        cache_put_abort(s->cache, e);
        return RK_ENOMEM;
    }
    my = s->last_seq + 1;
    __atomic_store_n(&s->last_seq, my, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->batch_mu);
    cache_put_end(s->cache, e, my, &s->committed_seq);
    *seq = my;
    return RK_OK;
}

/* See rocks_internal.h. */
int
rocks_write(struct store *s, rocksdb_writebatch_t *wb)
{
    int sync = atomic_load(&s->fsync) == STORE_FSYNC_ALWAYS;

    if (write_batch(s, wb, sync) != RK_OK) {
        return RK_ERR;
    }
    if (sync) {
        atomic_fetch_add(&s->wal_syncs, 1);
        atomic_store(&s->last_sync_ms, (uint64_t)store_now_ms());
    } else {
        atomic_store(&s->unsynced, 1);
    }
    return RK_OK;
}

/* See rocks_internal.h. */
int
rocks_put_lazy(struct store *s, int hints, const char *key, size_t klen,
               const char *val, size_t vlen, uint64_t *seq)
{
    uint64_t my;

    pthread_mutex_lock(&s->batch_mu);
    if (pending_add(s->pending, hints ? CF_HINTS : CF_META, key, klen, val,
                    vlen) != RK_OK) {
        pthread_mutex_unlock(&s->batch_mu);
        return RK_ENOMEM;
    }
    my = s->last_seq + 1;
    __atomic_store_n(&s->last_seq, my, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->batch_mu);
    *seq = my;
    return RK_OK;
}
