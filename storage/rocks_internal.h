/*
 * storage/rocks_internal.h - the store's private state, shared by the
 * files of storage/: struct store (rocks.c opens and reads it, commit.c
 * runs its write path), the accessors hints.c uses, one write under the
 * fsync policy, and the hint store's state.
 *
 * Private to storage/: never include it from outside this folder. The
 * returned RocksDB objects belong to the store and live until store_close().
 */
#ifndef ROCKS_INTERNAL_H
#define ROCKS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <rocksdb/c.h>

struct cache;
struct store_hint_state;

enum store_cf {
    CF_DEFAULT,   /* required by RocksDB, unused */
    CF_DATA,      /* records */
    CF_HINTS,     /* hinted handoff (cluster/) */
    CF_META,      /* node metadata */
    CF_COUNT
};

/*
 * The writes appended since the last commit, in sequence order: each is
 * [u32 column family][u32 key length][u32 value length][key][value].
 */
struct pending {
    char *buf;
    size_t len;
    size_t cap;
    size_t count;
};

/* One write of a pending log, for sorting. */
struct pending_ref {
    const char *key;
    const char *val;
    uint32_t cf;                     /* CF_DATA, CF_HINTS, ... */
    uint32_t klen;
    uint32_t vlen;
    size_t order;                    /* position in the log */
};

struct store_stripe {
    _Alignas(64) pthread_mutex_t mu;
};

struct store {
    rocksdb_t *db;
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_cache_t *block_cache;
    rocksdb_writeoptions_t *wo_sync;
    rocksdb_writeoptions_t *wo_nosync;
    rocksdb_readoptions_t *ro_get;
    rocksdb_readoptions_t *ro_scan;
    struct cache *cache;
    struct store_stripe *stripes;
    struct store_hint_state *hints;  /* hints.c */

    /* each group on its own cache line: writers, committers, readers */
    _Alignas(64) pthread_mutex_t batch_mu; /* pending, last_seq writes */
    struct pending *pending;
    uint64_t last_seq;               /* __atomic loads outside batch_mu */

    _Alignas(64) pthread_mutex_t commit_mu; /* one RocksDB write at a time */
    struct pending *spare;           /* empty log swapped for pending */
    rocksdb_writebatch_t *wb;        /* reused for each commit */
    struct pending_ref *refs;        /* sort scratch, commit_mu */
    size_t nrefs;
    rocksdb_writebatch_t *failed;    /* batch whose write failed, or NULL */
    uint64_t failed_seq;             /* last sequence in failed */
    uint64_t committed_seq;          /* __atomic; written under commit_mu */

    _Alignas(64) atomic_int fsync;   /* enum store_fsync */
    atomic_int unsynced;             /* commits since the last WAL sync */
    atomic_int last_write_ok;
    _Atomic uint64_t commits;
    _Atomic uint64_t committed_puts;
    _Atomic uint64_t wal_syncs;
    _Atomic uint64_t last_sync_ms;

    _Alignas(64) pthread_mutex_t err_mu;
    char last_err[256];

    pthread_mutex_t sync_mu;         /* everysec thread */
    pthread_cond_t sync_cv;
    int sync_stop;
    int sync_started;
    pthread_t sync_thread;
};

/*
 * commit.c: allocate the pending logs and the reused WriteBatch (RK_OK or
 * RK_ENOMEM; rocks_commit_deinit() frees what was made), and free them
 * with a batch that failed and was never written.
 */
int rocks_commit_init(struct store *s);
void rocks_commit_deinit(struct store *s);

/*
 * commit.c: write everything appended so far (one sorted WriteBatch,
 * synced under STORE_FSYNC_ALWAYS). Caller holds commit_mu. RK_OK, or
 * RK_ERR with the batch kept for the next commit.
 */
int rocks_commit_locked(struct store *s);

/* The open database. */
rocksdb_t *rocks_db(struct store *s);

/* The "hints" and "meta" column families. */
rocksdb_column_family_handle_t *rocks_cf_hints(struct store *s);
rocksdb_column_family_handle_t *rocks_cf_meta(struct store *s);

/*
 * Write wb (any column families but the data one, whose writes go through
 * store_put()/store_commit()) with the WAL, synced under
 * STORE_FSYNC_ALWAYS, else left to the everysec thread or the OS, exactly
 * as a data commit. RK_OK, or RK_ERR after recording the error for
 * store_last_error() and clearing last_write_ok. wb stays the caller's.
 */
int rocks_write(struct store *s, rocksdb_writebatch_t *wb);

/*
 * Append a put to the hints (hints != 0) or the meta column family to the
 * pending log, as store_put() does for records: it reaches RocksDB with
 * the next group commit (store_commit(*seq) or any later one), in the
 * same WriteBatch as the records of that commit. RK_OK, or RK_ENOMEM.
 */
int rocks_put_lazy(struct store *s, int hints, const char *key, size_t klen,
                   const char *val, size_t vlen, uint64_t *seq);

/* Record a RocksDB error string for store_last_error() and free it. */
void rocks_take_error(struct store *s, char *rerr);

/* The hint store's state, created by store_open(). */
struct store_hint_state *rocks_hint_state(struct store *s);

/*
 * hints.c, called by store_open() once the database is open: recover the
 * hint sequence and the pending count. RK_OK and *out, RK_ENOMEM, or
 * RK_ERR with the error recorded (store_last_error()).
 */
int store_hint_state_create(struct store *s, struct store_hint_state **out);

/* Called by store_close(); NULL is a no-op. */
void store_hint_state_destroy(struct store_hint_state *h);

#endif /* ROCKS_INTERNAL_H */
