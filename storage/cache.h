/*
 * storage/cache.h - the record cache in front of RocksDB (private to
 * storage/).
 *
 * A hash table from (slot, key) to an encoded store_record, split into
 * CACHE_SHARDS shards with one mutex each. Each shard holds at most
 * bound / CACHE_SHARDS bytes (key + record + per-entry overhead) of
 * unpinned entries and evicts cold ones with the CLOCK algorithm.
 *
 * Writes enter pinned: a pinned entry is never evicted, so readers see a
 * write from the moment store_put() appends it until long after RocksDB
 * has it. cache_unpin() releases the entries whose write has committed.
 * An older version never replaces a newer one.
 *
 * Miss fills are guarded by a ticket: cache_get() hands out a counter that
 * every removal of an entry hashing to the same group bumps, and
 * cache_fill() inserts only when the counter has not moved, so a value
 * read from RocksDB before a newer entry was evicted (or before
 * store_flush_all()) can never be cached after it.
 */
#ifndef STORE_CACHE_H
#define STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "rk.h"

#define CACHE_SHARDS 64

struct cache;
struct cache_entry;
struct store_buf;
struct store_record;

struct cache_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t evictions;
    uint64_t bytes;      /* bytes charged, pinned entries included */
    uint64_t entries;
    uint64_t pinned;
};

/* New empty cache bounded by bound bytes; NULL when out of memory. */
struct cache *cache_create(size_t bound);
/* Free every entry and the cache. NULL is a no-op. */
void cache_destroy(struct cache *c);
/* Change the bound; shards over their share evict at once. */
void cache_set_bound(struct cache *c, size_t bound);

/* The hash of (slot, key) used for shards, buckets and stripe locks. */
uint64_t cache_hash(uint16_t slot, const char *key, size_t klen);

/*
 * Look up (slot, key) with hash h. Returns 1 and copies the encoded record
 * into buf (buf->len set) on a hit; 0 on a miss, with *ticket set for
 * cache_fill(); RK_ENOMEM when buf cannot grow.
 */
int cache_get(struct cache *c, uint64_t h, uint16_t slot, const char *key,
              size_t klen, struct store_buf *buf, uint32_t *ticket);

/*
 * Cache enc (an encoded record of (slot, key), read from RocksDB after a
 * cache_get() miss that returned ticket). Does nothing when the ticket is
 * stale, when the cache already holds an equal or newer version or a
 * pinned entry, or when the entry would not fit the shard's share.
 */
void cache_fill(struct cache *c, uint64_t h, uint16_t slot, const char *key,
                size_t klen, const char *enc, size_t enclen, uint32_t ticket);

/*
 * First half of a write: insert rec for (slot, key), pinned with a
 * sequence not known yet. Returns 1 with *out set to the entry and *rkey /
 * *enc set to the RocksDB key (2-byte big-endian slot + key) and encoded
 * record inside it; they stay valid while the caller holds the key's
 * stripe lock. Returns 0 when the cache holds an equal or newer version
 * (nothing changed; *newer_seq is that entry's pending sequence, or 0 when
 * it is committed). RK_ENOMEM when out of memory.
 */
int cache_put_begin(struct cache *c, uint64_t h, uint16_t slot,
                    const char *key, size_t klen,
                    const struct store_record *rec, struct cache_entry **out,
                    struct rk_slice *rkey, struct rk_slice *enc,
                    uint64_t *newer_seq);

/*
 * Second half of a write: e's write was appended with sequence seq.
 * *committed is read under the shard lock; when it already covers seq the
 * entry is unpinned at once (the commit's cache_unpin() may have run).
 */
void cache_put_end(struct cache *c, struct cache_entry *e, uint64_t seq,
                   const uint64_t *committed);

/*
 * Undo cache_put_begin() when the write could not be appended (out of
 * memory): drop the entry, so readers go to RocksDB. The caller still holds
 * the key's stripe lock.
 */
void cache_put_abort(struct cache *c, struct cache_entry *e);

/* Unpin every entry whose write has a sequence <= committed. */
void cache_unpin(struct cache *c, uint64_t committed);

/*
 * Drop every unpinned entry and invalidate outstanding fill tickets.
 * Pinned entries (writes not committed yet) stay.
 */
void cache_clear(struct cache *c);

/* Sum the shards' counters into st. */
void cache_get_stats(struct cache *c, struct cache_stats *st);

#endif /* STORE_CACHE_H */
