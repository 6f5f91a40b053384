/*
 * storage/rocks_internal.h - what the other files of storage/ may use of
 * rocks.c's private struct store: the RocksDB handle, column families, one
 * write under the fsync policy, and the hint store's state (hints.c).
 *
 * Private to storage/: never include it from outside this folder. The
 * returned RocksDB objects belong to the store and live until store_close().
 */
#ifndef ROCKS_INTERNAL_H
#define ROCKS_INTERNAL_H

#include <rocksdb/c.h>

struct store;
struct store_hint_state;

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
