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

/* The same for a caller that holds every stripe lock already (FLUSHALL
 * inside EXEC, whose transaction locked them all). */
int store_flush_all_locked(struct store *s);

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

/*
 * ---- Hinted handoff (hints.c) -------------------------------------------
 *
 * A write that a replica did not acknowledge is kept by its coordinator as
 * a durable hint for that replica (the target, named by its node id) and
 * replayed, in write order, once the target is alive again. Hints live in
 * the "hints" column family, apart from the data: store_flush_all(), the
 * data iterator and the data cache never see them.
 *
 * Every hint gets a sequence number from one counter per store, so the
 * hints of a target come back in the order they were put. The counter is
 * kept in the meta column family with each hint, so it keeps increasing
 * across close/reopen (and a crash) even when every hint was delivered.
 * Replay is idempotent on the receiving side because records carry their
 * version (last write wins), so delivering a hint twice after a crash
 * between the ack and the delete is harmless.
 *
 * A hint put returns only once it is in the WAL under the store's fsync
 * policy (synced under STORE_FSYNC_ALWAYS), like a data commit. Puts,
 * deletes and expiry of hints are serialised by one mutex: hints are rare
 * (only writes a replica missed) and this keeps sequence order, disk order
 * and the counters exact. All functions are thread-safe.
 *
 * Target ids (node ids) are 1 to STORE_HINT_TARGET_MAX bytes; ids are
 * compared as bytes, but store_hint_targets() hands them back as C
 * strings, so an id should not contain a NUL byte.
 */

#define STORE_HINT_TARGET_MAX 255

/* One hint, as read back by store_hint_iter_next(). */
struct store_hint {
    uint64_t seq;            /* store-wide, increasing in put order */
    int64_t created_ms;      /* now_ms given to store_hint_put() */
    uint16_t slot;
    struct rk_slice key;     /* view, see store_hint_iter_next() */
    struct store_record rec; /* rec.value is a view as well */
};

struct store_hint_stats {
    uint64_t stored;     /* hints put since open */
    uint64_t delivered;  /* hints deleted after an ack since open */
    uint64_t expired;    /* hints dropped by store_hint_expire() since open */
    uint64_t pending;    /* hints held now, all targets (exact; counted at
                          * open, then kept up to date) */
};

/*
 * Keep a hint for target: the write of rec to (slot, key), which the
 * target did not acknowledge, created at now_ms (unix ms; the age that
 * store_hint_expire() compares). rec is encoded (store_record_encode())
 * and copied; nothing is borrowed after the call. Tombstones and records
 * with an expiry are kept as they are.
 * Returns RK_OK once the hint is in the WAL under the fsync policy,
 * RK_EPROTO for a target id of 0 or more than STORE_HINT_TARGET_MAX bytes
 * or a slot >= STORE_SLOTS, RK_ENOMEM, or RK_ERR when RocksDB failed
 * (store_last_error()); on any error no hint is kept.
 */
int store_hint_put(struct store *s, const char *target, size_t tlen,
                   uint16_t slot, const char *key, size_t klen,
                   const struct store_record *rec, int64_t now_ms);

/*
 * The same, but lazily: the hint joins the pending log of the group
 * commit (store_put()), so it reaches RocksDB with store_commit(*seq) or
 * any later commit, in that commit's WriteBatch, synced with it. For
 * hints that back up writes already acknowledged by a quorum: a crash
 * before that commit may lose such a hint, and read repair or a later
 * write then fixes the replica instead. While a replica is down this
 * costs one more record in each group commit instead of a RocksDB write
 * (and under STORE_FSYNC_ALWAYS a sync) per hint. It counts as
 * stored and pending at once; replay cursors see it once committed.
 */
int store_hint_put_lazy(struct store *s, const char *target, size_t tlen,
                        uint16_t slot, const char *key, size_t klen,
                        const struct store_record *rec, int64_t now_ms,
                        uint64_t *seq);

/*
 * Replay cursor over the hints of one target, in sequence order. It reads
 * the hints as they were when it was created (a RocksDB iterator's
 * implicit snapshot): hints put later are seen by the next cursor.
 * Deleting hints while a cursor is open is fine (the replay loop: next,
 * send, delete after the ack).
 *
 * store_hint_iter_create() returns a cursor to free with
 * store_hint_iter_destroy() before store_close(), or NULL when out of
 * memory or the target id is invalid (0 or > STORE_HINT_TARGET_MAX bytes).
 * target is copied.
 */
struct store_hint_iter;
struct store_hint_iter *store_hint_iter_create(struct store *s,
                                               const char *target,
                                               size_t tlen);

/*
 * Move to the next hint of the cursor. Returns 1 and fills *out, whose
 * key and rec.value point into RocksDB's buffers, read-only and valid
 * until the next call on the cursor or its destruction; 0 at the end;
 * RK_ERR on a RocksDB read error (store_last_error()); RK_EPROTO for a
 * stored hint that cannot be decoded: then out->seq alone is set, the
 * cursor has moved past it and the caller may delete it and go on.
 */
int store_hint_iter_next(struct store_hint_iter *it, struct store_hint *out);

/* Free a cursor; NULL is a no-op. */
void store_hint_iter_destroy(struct store_hint_iter *it);

/*
 * Forget the hint seq of target (the target acknowledged it). Idempotent:
 * RK_OK whether or not the hint was still there (only a hint that was
 * there counts as delivered), RK_EPROTO for an invalid target id, RK_ERR
 * when RocksDB failed.
 */
int store_hint_delete(struct store *s, const char *target, size_t tlen,
                      uint64_t seq);

/*
 * Forget every hint of target with a sequence <= seq (the target
 * acknowledged all of them), with one RocksDB range delete, so a replay
 * that starts at the front of the target does not step over the dead
 * keys. Each hint removed counts as delivered. Returns as
 * store_hint_delete().
 */
int store_hint_delete_upto(struct store *s, const char *target, size_t tlen,
                           uint64_t seq);

/*
 * Drop the hints of every target created more than window_ms before now_ms
 * (created_ms < now_ms - window_ms; window_ms >= 0). *expired, when not
 * NULL, is set to how many were dropped; they also count as expired in
 * store_hint_get_stats(). Hints are dropped in write order: the scan of a target
 * stops at its first hint within the window, so a hint put after a newer
 * one (the caller's clock stepped back) leaves no earlier than that newer
 * one - late, never early. RK_OK or RK_ERR (hints dropped before the
 * failure stay dropped and counted).
 */
int store_hint_expire(struct store *s, int64_t now_ms, int64_t window_ms,
                      uint64_t *expired);

/*
 * The targets that have hints, in key order (by id length, then bytes).
 * On RK_OK *ids is a malloc'd array of *n malloc'd NUL-terminated copies
 * of the ids (NULL and 0 when there is none); free it with
 * store_hint_targets_free(). RK_ENOMEM or RK_ERR otherwise, with *ids
 * NULL and *n 0.
 */
int store_hint_targets(struct store *s, char ***ids, size_t *n);
void store_hint_targets_free(char **ids, size_t n);

/*
 * Exact number of hints held, for all targets or for one, counted by
 * iteration over the keys. RK_OK, RK_EPROTO (invalid target id) or RK_ERR.
 * store_hint_get_stats() gives the total without a scan.
 */
int store_hint_count(struct store *s, uint64_t *n);
int store_hint_count_target(struct store *s, const char *target,
                            size_t tlen, uint64_t *n);

/* Hint counters (see struct store_hint_stats). */
void store_hint_get_stats(struct store *s, struct store_hint_stats *st);

#endif /* STORE_H */
