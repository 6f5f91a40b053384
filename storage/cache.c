/*
 * storage/cache.c - sharded, byte-bounded CLOCK cache of encoded records.
 *
 * Each shard is a chained hash table (power-of-two buckets, doubled when
 * the load passes 1) plus two lists threaded through the entries: the
 * CLOCK ring of unpinned entries and the list of pinned ones. A hit sets
 * the entry's reference bit; eviction sweeps the hand over the ring,
 * clearing set bits and removing entries whose bit is clear. Pinned
 * entries are outside the ring, so the hand never waits on them and they
 * cannot be evicted.
 *
 * Locking: every operation takes one shard mutex, and nothing else, except
 * that cache_unpin() reads each shard's atomic pin count first to skip
 * shards without pinned entries.
 */
#include "cache.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define CACHE_MIN_BUCKETS  16
#define CACHE_TICKETS      16            /* fill-ticket groups per shard */
#define CACHE_ENTRY_EXTRA  24            /* malloc header + bucket slot */
#define CACHE_PIN_PENDING  UINT64_MAX    /* pinned, sequence not known */

struct cache_entry {
    struct cache_entry *hnext;   /* bucket chain */
    struct cache_entry *prev;    /* CLOCK ring or pinned list */
    struct cache_entry *next;
    uint64_t hash;
    uint64_t pin_seq;            /* 0: unpinned, in the ring; else pinned */
    size_t vlen;                 /* encoded record length */
    size_t cap;                  /* bytes allocated for data[] */
    uint32_t rklen;              /* 2 + key length */
    uint8_t ref;                 /* CLOCK reference bit */
    char data[];                 /* RocksDB key, then encoded record */
};

struct cache_shard {
    _Alignas(64) pthread_mutex_t mu;
    struct cache_entry **buckets;
    size_t mask;                 /* bucket count - 1 */
    size_t count;
    size_t used;                 /* bytes charged */
    size_t limit;                /* this shard's share of the bound */
    struct cache_entry *hand;    /* CLOCK hand; NULL when the ring is empty */
    struct cache_entry *pinned;  /* NULL-terminated list of pinned entries */
    size_t npinned_locked;       /* entries on the pinned list */
    _Atomic size_t npinned;      /* copy readable without the lock */
    uint64_t hits;
    uint64_t misses;
    uint64_t evictions;
    uint32_t ticket[CACHE_TICKETS];
};

struct cache {
    struct cache_shard *shards;  /* CACHE_SHARDS of them */
};

#define H_P1 0x9e3779b185ebca87ULL
#define H_P2 0xc2b2ae3d27d4eb4fULL
#define H_P3 0x165667b19e3779f9ULL
#define H_P4 0x85ebca77c2b2ae63ULL
#define H_P5 0x27d4eb2f165667c5ULL

static inline uint64_t
rotl64(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static inline uint64_t
load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t
load32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/*
 * A 64-bit multiply-rotate hash in the style of XXH64's short-input path,
 * seeded with the slot. Values depend on host byte order; they never
 * leave the process.
 */
uint64_t
cache_hash(uint16_t slot, const char *key, size_t klen)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = H_P5 + (uint64_t)klen + (uint64_t)slot * H_P1;
    size_t n = klen;

    while (n >= 8) {
        uint64_t k = load64(p) * H_P2;

        k = rotl64(k, 31) * H_P1;
        h ^= k;
        h = rotl64(h, 27) * H_P1 + H_P4;
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        h ^= (uint64_t)load32(p) * H_P1;
        h = rotl64(h, 23) * H_P2 + H_P3;
        p += 4;
        n -= 4;
    }
    while (n > 0) {
        h ^= (uint64_t)*p * H_P5;
        h = rotl64(h, 11) * H_P1;
        p++;
        n--;
    }
    h ^= h >> 33;
    h *= H_P2;
    h ^= h >> 29;
    h *= H_P3;
    h ^= h >> 32;
    return h;
}

static inline struct cache_shard *
shard_of(struct cache *c, uint64_t h)
{
    return &c->shards[h >> 58];
}

static inline uint32_t *
ticket_of(struct cache_shard *sh, uint64_t h)
{
    return &sh->ticket[(h >> 32) & (CACHE_TICKETS - 1)];
}

static inline size_t
entry_charge(const struct cache_entry *e)
{
    return sizeof(*e) + e->cap + CACHE_ENTRY_EXTRA;
}

static inline int
entry_matches(const struct cache_entry *e, uint64_t h, uint16_t slot,
              const char *key, size_t klen)
{
    const unsigned char *d = (const unsigned char *)e->data;

    return e->hash == h && e->rklen == klen + 2 &&
           d[0] == (unsigned char)(slot >> 8) &&
           d[1] == (unsigned char)slot &&
           memcmp(e->data + 2, key, klen) == 0;
}

/* Link that points at (slot, key)'s entry, or the NULL link ending the
 * chain. */
static struct cache_entry **
shard_find(struct cache_shard *sh, uint64_t h, uint16_t slot,
           const char *key, size_t klen)
{
    struct cache_entry **link = &sh->buckets[h & sh->mask];

    while (*link != NULL && !entry_matches(*link, h, slot, key, klen)) {
        link = &(*link)->hnext;
    }
    return link;
}

/* Link that points at e (which must be in the table). */
static struct cache_entry **
shard_link_of(struct cache_shard *sh, const struct cache_entry *e)
{
    struct cache_entry **link = &sh->buckets[e->hash & sh->mask];

    while (*link != e) {
        link = &(*link)->hnext;
    }
    return link;
}

/* Double the bucket array; on allocation failure keep the longer chains. */
static void
shard_grow(struct cache_shard *sh)
{
    size_t n = (sh->mask + 1) * 2;
    struct cache_entry **nb = calloc(n, sizeof(*nb));
    size_t i;

    if (nb == NULL) {
        return;
    }
    for (i = 0; i <= sh->mask; i++) {
        struct cache_entry *e = sh->buckets[i];

        while (e != NULL) {
            struct cache_entry *next = e->hnext;
            size_t b = e->hash & (n - 1);

            e->hnext = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(sh->buckets);
    sh->buckets = nb;
    sh->mask = n - 1;
}

/* Put e on the CLOCK ring just behind the hand (examined last). */
static void
ring_insert(struct cache_shard *sh, struct cache_entry *e)
{
    struct cache_entry *h = sh->hand;

    if (h == NULL) {
        e->next = e;
        e->prev = e;
        sh->hand = e;
        return;
    }
    e->next = h;
    e->prev = h->prev;
    h->prev->next = e;
    h->prev = e;
}

static void
ring_remove(struct cache_shard *sh, struct cache_entry *e)
{
    if (e->next == e) {
        sh->hand = NULL;
        return;
    }
    if (sh->hand == e) {
        sh->hand = e->next;
    }
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void
pinned_insert(struct cache_shard *sh, struct cache_entry *e)
{
    e->prev = NULL;
    e->next = sh->pinned;
    if (sh->pinned != NULL) {
        sh->pinned->prev = e;
    }
    sh->pinned = e;
    sh->npinned_locked++;
    atomic_store_explicit(&sh->npinned, sh->npinned_locked,
                          memory_order_relaxed);
}

static void
pinned_remove(struct cache_shard *sh, struct cache_entry *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        sh->pinned = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    }
    sh->npinned_locked--;
    atomic_store_explicit(&sh->npinned, sh->npinned_locked,
                          memory_order_relaxed);
}

/* Take e off whichever list it is on. */
static void
list_remove(struct cache_shard *sh, struct cache_entry *e)
{
    if (e->pin_seq != 0) {
        pinned_remove(sh, e);
    } else {
        ring_remove(sh, e);
    }
}

/* Move a pinned entry onto the ring. */
static void
entry_unpin(struct cache_shard *sh, struct cache_entry *e)
{
    pinned_remove(sh, e);
    e->pin_seq = 0;
    e->ref = 1;
    ring_insert(sh, e);
}

/* Remove an unpinned entry from table and ring, invalidating fills of its
 * key, and free it. */
static void
entry_drop(struct cache_shard *sh, struct cache_entry *e)
{
    struct cache_entry **link = shard_link_of(sh, e);

    *link = e->hnext;
    ring_remove(sh, e);
    (*ticket_of(sh, e->hash))++;
    sh->used -= entry_charge(e);
    sh->count--;
    free(e);
}

/* CLOCK: evict unpinned entries until the shard fits its share. */
static void
shard_evict(struct cache_shard *sh)
{
    while (sh->used > sh->limit && sh->hand != NULL) {
        struct cache_entry *e = sh->hand;

        if (e->ref) {
            e->ref = 0;
            sh->hand = e->next;
            continue;
        }
        entry_drop(sh, e);
        sh->evictions++;
    }
}

/* Allocate an entry holding (slot, key) and room for vlen record bytes. */
static struct cache_entry *
entry_new(uint64_t h, uint16_t slot, const char *key, size_t klen,
          size_t vlen)
{
    size_t cap = 2 + klen + vlen;
    struct cache_entry *e = malloc(sizeof(*e) + cap);

    if (e == NULL) {
        return NULL;
    }
    e->hnext = NULL;
    e->prev = NULL;
    e->next = NULL;
    e->hash = h;
    e->pin_seq = 0;
    e->vlen = vlen;
    /* Charge and use the allocator's size class (a 4 KB value lands in a
     * 5 KB class): the bound is on memory, not on bytes asked for. */
    e->cap = malloc_usable_size(e) - sizeof(*e);
    e->rklen = (uint32_t)(klen + 2);
    e->ref = 0;
    e->data[0] = (char)(slot >> 8);
    e->data[1] = (char)slot;
    memcpy(e->data + 2, key, klen);
    return e;
}

/* Add a fresh entry to the table (not to a list). */
static void
table_add(struct cache_shard *sh, struct cache_entry **link,
          struct cache_entry *e)
{
    *link = e;
    e->hnext = NULL;
    sh->used += entry_charge(e);
    sh->count++;
    if (sh->count > sh->mask + 1) {
        shard_grow(sh);
    }
}

/* Cache bounded by bound bytes, split evenly over the shards. */
struct cache *
cache_create(size_t bound)
{
    struct cache *c = calloc(1, sizeof(*c));
    size_t i;

    if (c == NULL) {
        return NULL;
    }
    c->shards = aligned_alloc(64, sizeof(*c->shards) * CACHE_SHARDS);
    if (c->shards == NULL) {
        free(c);
        return NULL;
    }
    memset(c->shards, 0, sizeof(*c->shards) * CACHE_SHARDS);
    for (i = 0; i < CACHE_SHARDS; i++) {
        struct cache_shard *sh = &c->shards[i];

        sh->buckets = calloc(CACHE_MIN_BUCKETS, sizeof(*sh->buckets));
        if (sh->buckets == NULL) {
            while (i-- > 0) {
                free(c->shards[i].buckets);
                pthread_mutex_destroy(&c->shards[i].mu);
            }
            free(c->shards);
            free(c);
            return NULL;
        }
        pthread_mutex_init(&sh->mu, NULL);
        sh->mask = CACHE_MIN_BUCKETS - 1;
        sh->limit = bound / CACHE_SHARDS;
        atomic_init(&sh->npinned, 0);
    }
    return c;
}

/* Free all entries, pinned ones included. */
void
cache_destroy(struct cache *c)
{
    size_t i, b;

    if (c == NULL) {
        return;
    }
    for (i = 0; i < CACHE_SHARDS; i++) {
        struct cache_shard *sh = &c->shards[i];

        for (b = 0; b <= sh->mask; b++) {
            struct cache_entry *e = sh->buckets[b];

            while (e != NULL) {
                struct cache_entry *next = e->hnext;

                free(e);
                e = next;
            }
        }
        free(sh->buckets);
        pthread_mutex_destroy(&sh->mu);
    }
    free(c->shards);
    free(c);
}

/* New bound; each shard evicts down to its share now. */
void
cache_set_bound(struct cache *c, size_t bound)
{
    size_t i;

    for (i = 0; i < CACHE_SHARDS; i++) {
        struct cache_shard *sh = &c->shards[i];

        pthread_mutex_lock(&sh->mu);
        sh->limit = bound / CACHE_SHARDS;
        shard_evict(sh);
        pthread_mutex_unlock(&sh->mu);
    }
}

/* See cache.h. The hot path of GET: one lock, one chain walk, one copy. */
int
cache_get(struct cache *c, uint64_t h, uint16_t slot, const char *key,
          size_t klen, struct store_buf *buf, uint32_t *ticket)
{
    struct cache_shard *sh = shard_of(c, h);
    struct cache_entry *e;
    int rc;

    pthread_mutex_lock(&sh->mu);
    e = *shard_find(sh, h, slot, key, klen);
    if (e == NULL) {
        sh->misses++;
        *ticket = *ticket_of(sh, h);
        rc = 0;
        goto out;
    }
    if (buf->cap < e->vlen && store_buf_reserve(buf, e->vlen) != RK_OK) {
        rc = RK_ENOMEM;
        goto out;
    }
    memcpy(buf->ptr, e->data + e->rklen, e->vlen);
    buf->len = e->vlen;
    if (!e->ref) {
        e->ref = 1;
    }
    sh->hits++;
    rc = 1;
out:
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

/* See cache.h. */
void
cache_fill(struct cache *c, uint64_t h, uint16_t slot, const char *key,
           size_t klen, const char *enc, size_t enclen, uint32_t ticket)
{
    struct cache_shard *sh = shard_of(c, h);
    struct cache_entry **link;
    struct cache_entry *e = NULL;
    struct cache_entry *old;
    struct store_record nrec, orec;

    if (store_record_decode(enc, enclen, &nrec) != RK_OK) {
        return;
    }
    pthread_mutex_lock(&sh->mu);
    if (*ticket_of(sh, h) != ticket ||
        sizeof(*e) + 2 + klen + enclen + CACHE_ENTRY_EXTRA > sh->limit) {
        goto out;
    }
    link = shard_find(sh, h, slot, key, klen);
    old = *link;
    if (old != NULL) {
        if (old->pin_seq != 0 ||
            store_record_decode(old->data + old->rklen, old->vlen,
                                &orec) != RK_OK ||
            store_record_cmp(&orec, &nrec) >= 0) {
            goto out;
        }
        entry_drop(sh, old);
        link = shard_find(sh, h, slot, key, klen);
    }
    e = entry_new(h, slot, key, klen, enclen);
    if (e == NULL) {
        goto out;
    }
    memcpy(e->data + e->rklen, enc, enclen);
    table_add(sh, link, e);
    ring_insert(sh, e);
    shard_evict(sh);
out:
    pthread_mutex_unlock(&sh->mu);
}

/* See cache.h. */
int
cache_put_begin(struct cache *c, uint64_t h, uint16_t slot,
                const char *key, size_t klen,
                const struct store_record *rec, struct cache_entry **out,
                struct rk_slice *rkey, struct rk_slice *enc,
                uint64_t *newer_seq)
{
    struct cache_shard *sh = shard_of(c, h);
    size_t vlen = store_record_encoded_len(rec);
    struct cache_entry **link;
    struct cache_entry *e;
    struct cache_entry *ne;
    struct store_record orec;
    int rc;

    pthread_mutex_lock(&sh->mu);
    link = shard_find(sh, h, slot, key, klen);
    e = *link;
    if (e != NULL &&
        store_record_decode(e->data + e->rklen, e->vlen, &orec) == RK_OK &&
        store_record_cmp(&orec, rec) >= 0) {
        *newer_seq = e->pin_seq;
        rc = 0;
        goto out;
    }
    if (e != NULL && e->cap >= e->rklen + vlen) {
        /* overwrite in place; same allocation, same charge */
        if (e->pin_seq == 0) {
            ring_remove(sh, e);
            pinned_insert(sh, e);
        }
    } else {
        ne = entry_new(h, slot, key, klen, vlen);
        if (ne == NULL) {
            rc = RK_ENOMEM;
            goto out;
        }
        if (e != NULL) {
            /* replace: same table position, old entry leaves its list */
            ne->hnext = e->hnext;
            *link = ne;
            list_remove(sh, e);
            sh->used -= entry_charge(e);
            sh->used += entry_charge(ne);
            free(e);
        } else {
            table_add(sh, link, ne);
        }
        e = ne;
        pinned_insert(sh, e);
    }
    e->vlen = vlen;
    store_record_encode(rec, e->data + e->rklen);
    e->pin_seq = CACHE_PIN_PENDING;
    e->ref = 1;
    shard_evict(sh);
    *out = e;
    rkey->ptr = e->data;
    rkey->len = e->rklen;
    enc->ptr = e->data + e->rklen;
    enc->len = e->vlen;
    rc = 1;
out:
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

/* See cache.h. */
void
cache_put_end(struct cache *c, struct cache_entry *e, uint64_t seq,
              const uint64_t *committed)
{
    struct cache_shard *sh = shard_of(c, e->hash);

    pthread_mutex_lock(&sh->mu);
    e->pin_seq = seq;
    if (seq <= __atomic_load_n(committed, __ATOMIC_ACQUIRE)) {
        entry_unpin(sh, e);
        shard_evict(sh);
    }
    pthread_mutex_unlock(&sh->mu);
}

/* See cache.h. */
void
cache_put_abort(struct cache *c, struct cache_entry *e)
{
    struct cache_shard *sh = shard_of(c, e->hash);

    pthread_mutex_lock(&sh->mu);
    entry_unpin(sh, e);
    entry_drop(sh, e);
    pthread_mutex_unlock(&sh->mu);
}

/* See cache.h. Walks only the pinned lists of shards that have some. */
void
cache_unpin(struct cache *c, uint64_t committed)
{
    size_t i;

    for (i = 0; i < CACHE_SHARDS; i++) {
        struct cache_shard *sh = &c->shards[i];
        struct cache_entry *e;

        if (atomic_load_explicit(&sh->npinned, memory_order_relaxed) == 0) {
            continue;
        }
        pthread_mutex_lock(&sh->mu);
        e = sh->pinned;
        while (e != NULL) {
            struct cache_entry *next = e->next;

            if (e->pin_seq <= committed) {
                entry_unpin(sh, e);
            }
            e = next;
        }
        shard_evict(sh);
        pthread_mutex_unlock(&sh->mu);
    }
}

/* See cache.h. */
void
cache_clear(struct cache *c)
{
    size_t i, t;

    for (i = 0; i < CACHE_SHARDS; i++) {
        struct cache_shard *sh = &c->shards[i];

        pthread_mutex_lock(&sh->mu);
        while (sh->hand != NULL) {
            entry_drop(sh, sh->hand);
        }
        for (t = 0; t < CACHE_TICKETS; t++) {
            sh->ticket[t]++;
        }
        pthread_mutex_unlock(&sh->mu);
    }
}

/* See cache.h. */
void
cache_get_stats(struct cache *c, struct cache_stats *st)
{
    size_t i;

    memset(st, 0, sizeof(*st));
    for (i = 0; i < CACHE_SHARDS; i++) {
        struct cache_shard *sh = &c->shards[i];

        pthread_mutex_lock(&sh->mu);
        st->hits += sh->hits;
        st->misses += sh->misses;
        st->evictions += sh->evictions;
        st->bytes += sh->used;
        st->entries += sh->count;
        st->pinned += sh->npinned_locked;
        pthread_mutex_unlock(&sh->mu);
    }
}
