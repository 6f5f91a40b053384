/*
 * storage/store.h - versioned records in RocksDB behind a memory cache.
 *
 * One struct store per process, shared by every worker thread. Keys live in
 * RocksDB prefixed with their slot (2 bytes, big-endian), so a slot is one
 * contiguous range. Each value is an encoded struct store_record: version
 * (hybrid logical clock + writer node), expiry deadline, type, flags, bytes.
 *
 * Writes from all threads are appended to one pending WriteBatch (and to the
 * cache, where they are pinned until committed); store_commit() writes that
 * batch to RocksDB once, synced under STORE_FSYNC_ALWAYS (group commit). A
 * worker commits before it writes the replies of a loop iteration.
 *
 * Per-key order: a writer holds the key's stripe lock (store_lock_keys())
 * from the moment it reads the old record until its store_put() returns, and
 * store_put() appends in lock order, so the batch order matches the version
 * order of each key.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rk.h"

#define STORE_SLOTS 16384

enum store_fsync {
    STORE_FSYNC_NO,        /* leave WAL syncing to the OS */
    STORE_FSYNC_EVERYSEC,  /* a background thread syncs the WAL every second */
    STORE_FSYNC_ALWAYS,    /* every commit is synced before it returns */
};

enum store_type {
    STORE_TYPE_STRING = 0,
};

#define STORE_F_TOMBSTONE (1u << 0)  /* a delete; value is empty */
#define STORE_F_ABSENT    (1u << 1)  /* storage-internal: the cache's memo
                                      * that RocksDB has no record (version 0,
                                      * so any write replaces it); never
                                      * returned by store_get() */

/* A decoded record. value is a view into the buffer it was decoded from. */
struct store_record {
    uint64_t version;    /* hybrid logical clock, see store_clock_next() */
    uint32_t node;       /* writer's node id hash: tie break */
    int64_t expire_ms;   /* absolute unix time in ms; 0 = never */
    uint8_t type;        /* enum store_type */
    uint8_t flags;       /* STORE_F_* */
    struct rk_slice value;
};

/* Growable buffer that store_get() copies an encoded record into. */
struct store_buf {
    char *ptr;
    size_t len;
    size_t cap;
};

struct store_options {
    const char *dir;          /* data directory; created if missing */
    enum store_fsync fsync;
    size_t cache_bytes;       /* bound of the record cache */
    uint64_t tombstone_grace_ms; /* tombstones/expired records older than
                                  * this are purged by compaction */
};

struct store_stats {
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t cache_evictions;
    uint64_t cache_bytes;       /* bytes currently charged to the cache */
    uint64_t cache_entries;
    uint64_t commits;           /* RocksDB writes (batches) */
    uint64_t committed_puts;    /* records written by those batches */
    uint64_t wal_syncs;
    uint64_t last_sync_ms;      /* unix ms of the last successful WAL sync */
    uint64_t estimate_keys;     /* rocksdb.estimate-num-keys, data CF */
    uint64_t sst_bytes;         /* total SST size on disk */
    uint64_t memtable_bytes;
    int last_write_ok;          /* 0 after a failed write, as Redis's
                                 * aof_last_write_status */
};

struct store;
struct store_clock;

/*
 * Open (or create) the store at o->dir. On failure returns RK_ERR and sets
 * *err to a malloc'd one-line message "Can't open data dir DIR: reason"
 * (caller frees; NULL if even that allocation failed); *out is set only on
 * success. The directory is created with its parents when missing. A
 * cache_bytes of 0 caches nothing but writes not yet committed; a
 * tombstone_grace_ms of 0 means the default, 10 days.
 */
int store_open(const struct store_options *o, struct store **out, char **err);

/* Commit pending writes, sync the WAL and close. NULL is a no-op. */
void store_close(struct store *s);

/* Change the fsync policy at run time (CONFIG SET appendfsync). */
void store_set_fsync(struct store *s, enum store_fsync f);
/* Change the cache bound at run time; evicts at once when it shrinks. */
void store_set_cache_bytes(struct store *s, size_t bytes);

/*
 * Look up (slot, key). Returns 1 when a record exists (it may be a tombstone
 * or expired: see store_record_live()), 0 when none, RK_ERR on a RocksDB
 * error or an undecodable stored record, RK_ENOMEM when buf cannot grow.
 * On 1 the encoded record is copied into buf and *rec points into buf,
 * valid until buf is reused. The cache is consulted first and filled on a
 * miss. Writes are visible from the moment store_put() returns, before
 * they are committed (as in Redis, where a write is visible before the
 * AOF is flushed); their writers answer only after store_commit().
 */
int store_get(struct store *s, uint16_t slot, const char *key, size_t klen,
              struct store_buf *buf, struct store_record *rec);

/* 1 when rec is a live value at time now_ms (not a tombstone, not expired). */
int store_record_live(const struct store_record *rec, int64_t now_ms);

/*
 * Append a write of rec to (slot, key) to the pending batch and to the
 * cache. Returns RK_OK and sets *seq (pass it to store_commit()), or
 * RK_ENOMEM. The caller must hold the key's stripe lock.
 * When the cache already holds an equal or newer version of the key, the
 * write is dropped (last write wins): nothing is written and *seq is the
 * sequence of that newer write when it is not committed yet, else 0.
 * Without the record in the cache the store cannot tell: callers that
 * apply remote records compare versions themselves (store_get() under the
 * stripe lock) before they put.
 */
int store_put(struct store *s, uint16_t slot, const char *key, size_t klen,
              const struct store_record *rec, uint64_t *seq);

/*
 * Make every write with sequence <= seq durable under the fsync policy
 * (seq 0 or an already committed one returns at once). Returns RK_OK or
 * RK_ERR (the write failed; the store keeps the writes pending and retries
 * on the next commit).
 */
int store_commit(struct store *s, uint64_t seq);

/* Sequence number of the last store_put() so far (for "commit all"). */
uint64_t store_last_seq(struct store *s);

/*
 * Sync the WAL now (SHUTDOWN, the everysec thread). Only committed writes
 * are in the WAL: commit first to include pending ones. RK_OK or RK_ERR.
 */
int store_sync(struct store *s);

/*
 * Copy the last RocksDB error message (a failed commit, sync or read) into
 * out, NUL-terminated and truncated to outlen; "" when there was none.
 */
void store_last_error(struct store *s, char *out, size_t outlen);

/*
 * Stripe locks serialise read-modify-write of a key across threads. Lock
 * the keys of one command together (the function sorts and dedupes the
 * stripes, so there is no lock-order deadlock) and unlock with the same
 * arguments. At most STORE_LOCK_MAX keys; more locks every stripe.
 */
#define STORE_LOCK_MAX 64
struct store_lockset {
    unsigned n;
    unsigned all;                /* 1: every stripe is held */
    uint16_t stripe[STORE_LOCK_MAX];
};
void store_lock_keys(struct store *s, struct store_lockset *ls, size_t nkeys,
                     const uint16_t *slots, const struct rk_slice *keys);
void store_unlock_keys(struct store *s, struct store_lockset *ls);

/*
 * Delete every record (FLUSHALL). Takes every stripe lock (so the caller
 * must hold none; concurrent writers wait and land after the flush),
 * commits pending writes, drops the data range and clears the cache.
 * Hints and metadata are kept. RK_OK or RK_ERR.
 */
int store_flush_all(struct store *s);

/*
 * Compact the whole data column family now (blocking), which also purges
 * tombstones and expired records older than the grace period.
 */
void store_compact(struct store *s);

/* Counters and RocksDB properties. */
void store_get_stats(struct store *s, struct store_stats *st);

/*
 * Ordered iteration over committed records (call store_commit() first to
 * include your own pending writes). Records come back in (slot, key) order,
 * tombstones and expired ones included: filter with store_record_live().
 */
struct store_iter;
struct store_iter *store_iter_create(struct store *s);
void store_iter_destroy(struct store_iter *it);
/* Position at the first record >= (slot, key); key may be NULL/0. */
void store_iter_seek(struct store_iter *it, uint16_t slot, const char *key,
                     size_t klen);
int store_iter_valid(struct store_iter *it);
void store_iter_next(struct store_iter *it);
/* Current record's slot, key and decoded record; views valid until the
 * iterator moves. Returns RK_OK or RK_EPROTO for an undecodable value. */
int store_iter_get(struct store_iter *it, uint16_t *slot,
                   struct rk_slice *key, struct store_record *rec);

/* Buffers. */
void store_buf_init(struct store_buf *b);
void store_buf_deinit(struct store_buf *b);
/* Grow b->cap to at least cap, keeping the contents. RK_OK or RK_ENOMEM. */
int store_buf_reserve(struct store_buf *b, size_t cap);

/* Record encoding (exposed for tests and for peer messages). */
size_t store_record_encoded_len(const struct store_record *rec);
/* Encode into out (store_record_encoded_len() bytes); returns that length. */
size_t store_record_encode(const struct store_record *rec, char *out);
/* Decode; rec->value points into p. RK_OK or RK_EPROTO. */
int store_record_decode(const char *p, size_t len, struct store_record *rec);
/* -1, 0, 1: version order of a and b (version, then node). */
int store_record_cmp(const struct store_record *a,
                     const struct store_record *b);

/*
 * Hybrid logical clock: 64-bit versions = (microseconds since 2020-01-01
 * << 12) | logical counter. Thread-safe; one clock per process.
 */
struct store_clock {
    uint64_t last;   /* accessed atomically */
};
void store_clock_init(struct store_clock *c);
/* A version greater than every version this clock has issued or seen. */
uint64_t store_clock_next(struct store_clock *c);
/* Advance the clock past a version seen from a peer or on disk. */
void store_clock_observe(struct store_clock *c, uint64_t version);
/* Unix time in ms of a version's physical part. */
int64_t store_version_ms(uint64_t version);
/* Current unix time in ms and us (wall clock). */
int64_t store_now_ms(void);
int64_t store_now_us(void);

#endif /* STORE_H */
