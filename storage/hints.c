/*
 * storage/hints.c - the durable hint store of hinted handoff: hints kept
 * in the "hints" column family per target replica, replayed in write
 * order, deleted after the target's ack, dropped when older than the hint
 * window.
 *
 * Keys (so the hints of one target are one contiguous range, in put
 * order):
 *
 *   [u8 target id length][target id][u64 sequence, big-endian]
 *
 * Targets of different id lengths never interleave (the length byte comes
 * first), and every key of a target is below the target's end key, its
 * prefix followed by eight 0xff bytes and one 0x00 byte.
 *
 * Values (integers big-endian):
 *
 *   offset size field
 *   0      8    created_ms (i64)
 *   8      2    slot
 *   10     4    key length
 *   14     ...  key, then the encoded record (record.c) to the end
 *
 * The sequence is one counter per store. Each put writes the hint and the
 * counter (meta column family, key "hints/last-seq") in one WriteBatch;
 * open takes the larger of that counter and the largest sequence on disk,
 * so sequences keep increasing across restarts even when every hint was
 * delivered. A sequence is consumed even when its write fails, so a write
 * that reached the WAL despite an error is never overwritten by another
 * hint.
 *
 * Deleting the front of a target (delivery up to an ack, expiry) uses one
 * range delete from the target's first possible key, so a replay that
 * seeks to the front skips the dead range at once instead of stepping over
 * one tombstone per delivered hint (the queue-in-an-LSM problem).
 *
 * Every change to the hints column family happens under h->mu, and every
 * scan that decides what a change removes is made under it too, so the
 * counters stay exact even when delivery and expiry race. Long drops
 * release the mutex every HINT_CHUNK hints so puts are not held up.
 */
#include "store.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "rocks_internal.h"

#define HINT_SEQ_LEN   8
#define HINT_PFX_MAX   (1 + STORE_HINT_TARGET_MAX)
#define HINT_KEY_MAX   (HINT_PFX_MAX + HINT_SEQ_LEN)
#define HINT_END_MAX   (HINT_KEY_MAX + 1)      /* a target's end key */
#define HINT_HEAD_LEN  14                      /* created_ms, slot, klen */
#define HINT_CHUNK     4096                    /* hints dropped per lock */

static const char hint_meta_key[] = "hints/last-seq";

struct store_hint_state {
    pthread_mutex_t mu;          /* every write to the hints CF */
    uint64_t last_seq;           /* last sequence handed out; under mu */
    _Atomic uint64_t stored;
    _Atomic uint64_t delivered;
    _Atomic uint64_t expired;
    _Atomic uint64_t pending;    /* changed under mu, read lock-free */
};

struct store_hint_iter {
    struct store *s;
    rocksdb_readoptions_t *ro;   /* holds a pointer to end */
    rocksdb_iterator_t *it;
    size_t plen;
    size_t elen;
    int started;
    char prefix[HINT_PFX_MAX];
    char end[HINT_END_MAX];      /* the iterator's upper bound */
};

/* Prefixes (length byte + id) of the targets that have hints. */
struct prefix_list {
    char **p;
    size_t n;
    size_t cap;
};

/* ---- helpers ---------------------------------------------------------- */

static void
put_be64(char *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t
get_be64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = v << 8 | u[i];
    }
    return v;
}

static void
put_be32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

static uint32_t
get_be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
           (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

/* 1 when a target id of tlen bytes fits the key layout. */
static int
target_ok(size_t tlen)
{
    return tlen >= 1 && tlen <= STORE_HINT_TARGET_MAX;
}

/* Write the key prefix of target into p (HINT_PFX_MAX); returns its
 * length. tlen must be target_ok(). */
static size_t
make_prefix(char *p, const char *target, size_t tlen)
{
    p[0] = (char)(unsigned char)tlen;
    memcpy(p + 1, target, tlen);
    return 1 + tlen;
}

/* Write prefix + seq into k (HINT_KEY_MAX); returns the key length. */
static size_t
make_key(char *k, const char *prefix, size_t plen, uint64_t seq)
{
    memcpy(k, prefix, plen);
    put_be64(k + plen, seq);
    return plen + HINT_SEQ_LEN;
}

/* Write the end key of a target into e (HINT_END_MAX): greater than every
 * key of the target, not greater than any key of a later target. Returns
 * its length. */
static size_t
make_end(char *e, const char *prefix, size_t plen)
{
    memcpy(e, prefix, plen);
    memset(e + plen, 0xff, HINT_SEQ_LEN);
    e[plen + HINT_SEQ_LEN] = 0x00;
    return plen + HINT_SEQ_LEN + 1;
}

/* 1 and *seq when k is a well-formed hint key, else 0. */
static int
parse_key(const char *k, size_t klen, uint64_t *seq)
{
    if (klen < 1 + HINT_SEQ_LEN ||
        klen != 1 + (size_t)(unsigned char)k[0] + HINT_SEQ_LEN ||
        k[0] == 0) {
        return 0;
    }
    *seq = get_be64(k + klen - HINT_SEQ_LEN);
    return 1;
}

/* Decode a hint value into out (all but seq). RK_OK or RK_EPROTO. */
static int
decode_value(const char *v, size_t vlen, struct store_hint *out)
{
    uint32_t klen;

    if (vlen < HINT_HEAD_LEN) {
        return RK_EPROTO;
    }
    out->created_ms = (int64_t)get_be64(v);
    out->slot = (uint16_t)((unsigned char)v[8] << 8 | (unsigned char)v[9]);
    klen = get_be32(v + 10);
    if (klen > vlen - HINT_HEAD_LEN || out->slot >= STORE_SLOTS) {
        return RK_EPROTO;
    }
    out->key.ptr = v + HINT_HEAD_LEN;
    out->key.len = klen;
    return store_record_decode(v + HINT_HEAD_LEN + klen,
                               vlen - HINT_HEAD_LEN - klen, &out->rec);
}

/*
 * Read options for one scan: no block cache fill (hints are read once),
 * upper bound end (NULL for the whole family), which must outlive the
 * options and their iterators.
 */
static rocksdb_readoptions_t *
scan_options(const char *end, size_t elen)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();

    rocksdb_readoptions_set_fill_cache(ro, 0);
    if (end != NULL) {
        rocksdb_readoptions_set_iterate_upper_bound(ro, end, elen);
    }
    return ro;
}

/* RK_OK, or RK_ERR after recording the iterator's error. */
static int
iter_status(struct store *s, rocksdb_iterator_t *it)
{
    char *rerr = NULL;

    rocksdb_iter_get_error(it, &rerr);
    if (rerr != NULL) {
        rocks_take_error(s, rerr);
        return RK_ERR;
    }
    return RK_OK;
}

static void
prefix_list_free(struct prefix_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->p[i]);
    }
    free(l->p);
    l->p = NULL;
    l->n = 0;
    l->cap = 0;
}

/*
 * List the prefixes of the targets that have hints, in key order: one
 * seek per target. RK_OK, RK_ENOMEM or RK_ERR; l is empty on error.
 */
static int
list_prefixes(struct store *s, struct prefix_list *l)
{
    rocksdb_readoptions_t *ro = scan_options(NULL, 0);
    rocksdb_iterator_t *it;
    char end[HINT_END_MAX];
    int rc = RK_OK;

    memset(l, 0, sizeof(*l));
    it = rocksdb_create_iterator_cf(rocks_db(s), ro, rocks_cf_hints(s));
    rocksdb_iter_seek_to_first(it);
    while (rocksdb_iter_valid(it)) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);
        size_t plen;
        uint64_t seq;
        char *p;

        if (!parse_key(k, klen, &seq)) {
            rocksdb_iter_next(it);
            continue;
        }
        plen = klen - HINT_SEQ_LEN;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 8;
            char **np = realloc(l->p, cap * sizeof(*np));
            if (np == NULL) {
                rc = RK_ENOMEM;
                goto out;
            }
            l->p = np;
            l->cap = cap;
        }
        p = malloc(plen);
        if (p == NULL) {
            rc = RK_ENOMEM;
            goto out;
        }
        memcpy(p, k, plen);
        l->p[l->n++] = p;
        /* k is invalid once the iterator moves: use the copy */
        rocksdb_iter_seek(it, end, make_end(end, p, plen));
    }
    rc = iter_status(s, it);
out:
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (rc != RK_OK) {
        prefix_list_free(l);
    }
    return rc;
}

/* Count the well-formed hint keys of the target with this prefix (NULL:
 * of every target). RK_OK or RK_ERR. */
static int
count_keys(struct store *s, const char *prefix, size_t plen,
           uint64_t *n)
{
    char end[HINT_END_MAX];
    size_t elen = prefix != NULL ? make_end(end, prefix, plen) : 0;
    rocksdb_readoptions_t *ro = scan_options(prefix != NULL ? end : NULL,
                                             elen);
    rocksdb_iterator_t *it;
    uint64_t seq;
    int rc;

    *n = 0;
    it = rocksdb_create_iterator_cf(rocks_db(s), ro, rocks_cf_hints(s));
    if (prefix != NULL) {
        rocksdb_iter_seek(it, prefix, plen);
    } else {
        rocksdb_iter_seek_to_first(it);
    }
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);

        if (parse_key(k, klen, &seq)) {
            (*n)++;
        }
    }
    rc = iter_status(s, it);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    return rc;
}

/*
 * One chunk of drop_front(): under h->mu, find the hints at the front of
 * the target with seq <= max_seq (and, when expire, created before
 * cutoff), at most HINT_CHUNK of them, and remove them with one range
 * delete. *n is how many were removed, *more 1 when the chunk was full.
 * RK_OK or RK_ERR (nothing removed).
 */
static int
drop_chunk(struct store *s, const char *prefix, size_t plen,
           uint64_t max_seq, int expire, int64_t cutoff, uint64_t *n,
           int *more)
{
    struct store_hint_state *h = rocks_hint_state(s);
    char end[HINT_END_MAX];
    char lo[HINT_KEY_MAX];
    char hi[HINT_END_MAX];
    size_t elen = make_end(end, prefix, plen);
    size_t hilen;
    rocksdb_readoptions_t *ro = scan_options(end, elen);
    rocksdb_iterator_t *it = NULL;
    rocksdb_writebatch_t *wb = NULL;
    uint64_t last = 0;
    uint64_t seq;
    int rc;

    *n = 0;
    *more = 0;
    pthread_mutex_lock(&h->mu);
    /* created under the lock: sees every change made before it */
    it = rocksdb_create_iterator_cf(rocks_db(s), ro, rocks_cf_hints(s));
    for (rocksdb_iter_seek(it, prefix, plen); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);

        if (!parse_key(k, klen, &seq)) {
            continue;   /* never counted; the range delete takes it */
        }
        if (seq > max_seq) {
            break;
        }
        if (expire) {
            const char *v = rocksdb_iter_value(it, &vlen);
            /* a value too short to tell its age is garbage: drop it */
            if (vlen >= 8 && (int64_t)get_be64(v) >= cutoff) {
                break;
            }
        }
        last = seq;
        if (++*n == HINT_CHUNK) {
            *more = 1;
            break;
        }
    }
    rc = iter_status(s, it);
    if (rc != RK_OK || *n == 0) {
        *n = 0;
        *more = 0;
        goto out;
    }
    if (last == UINT64_MAX) {
        hilen = make_end(hi, prefix, plen);
    } else {
        hilen = make_key(hi, prefix, plen, last + 1);
    }
    wb = rocksdb_writebatch_create();
    rocksdb_writebatch_delete_range_cf(wb, rocks_cf_hints(s), lo,
                                       make_key(lo, prefix, plen, 0), hi,
                                       hilen);
    rc = rocks_write(s, wb);
    if (rc != RK_OK) {
        *n = 0;
        *more = 0;
        goto out;
    }
    atomic_fetch_sub(&h->pending, *n);
    atomic_fetch_add(expire ? &h->expired : &h->delivered, *n);
out:
    pthread_mutex_unlock(&h->mu);
    if (wb != NULL) {
        rocksdb_writebatch_destroy(wb);
    }
    if (it != NULL) {
        rocksdb_iter_destroy(it);
    }
    rocksdb_readoptions_destroy(ro);
    return rc;
}

/*
 * Remove the front of a target (see drop_chunk()) chunk by chunk, adding
 * the number removed to *dropped. RK_OK or RK_ERR.
 */
static int
drop_front(struct store *s, const char *prefix, size_t plen,
           uint64_t max_seq, int expire, int64_t cutoff, uint64_t *dropped)
{
    uint64_t n;
    int more = 1;
    int rc = RK_OK;

    while (more) {
        rc = drop_chunk(s, prefix, plen, max_seq, expire, cutoff, &n,
                        &more);
        if (rc != RK_OK) {
            break;
        }
        *dropped += n;
    }
    return rc;
}

/* ---- state (rocks_internal.h) ----------------------------------------- */

/* See rocks_internal.h. Scans every hint key once to count them. */
int
store_hint_state_create(struct store *s, struct store_hint_state **out)
{
    struct store_hint_state *h = calloc(1, sizeof(*h));
    rocksdb_readoptions_t *ro = NULL;
    rocksdb_iterator_t *it = NULL;
    char *rerr = NULL;
    char *v = NULL;
    uint64_t last = 0;
    uint64_t pending = 0;
    uint64_t seq;
    size_t vlen;
    int rc = RK_ERR;

    if (h == NULL) {
        return RK_ENOMEM;
    }
    pthread_mutex_init(&h->mu, NULL);
    ro = scan_options(NULL, 0);
    v = rocksdb_get_cf(rocks_db(s), ro, rocks_cf_meta(s), hint_meta_key,
                       sizeof(hint_meta_key) - 1, &vlen, &rerr);
    if (rerr != NULL) {
        rocks_take_error(s, rerr);
        goto out;
    }
    if (v != NULL && vlen == 8) {
        last = get_be64(v);
    }
    it = rocksdb_create_iterator_cf(rocks_db(s), ro, rocks_cf_hints(s));
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t klen;
        const char *k = rocksdb_iter_key(it, &klen);

        if (parse_key(k, klen, &seq)) {
            pending++;
            if (seq > last) {
                last = seq;
            }
        }
    }
    rc = iter_status(s, it);
    if (rc != RK_OK) {
        goto out;
    }
    h->last_seq = last;
    atomic_init(&h->stored, 0);
    atomic_init(&h->delivered, 0);
    atomic_init(&h->expired, 0);
    atomic_init(&h->pending, pending);
    *out = h;
    h = NULL;
out:
    if (it != NULL) {
        rocksdb_iter_destroy(it);
    }
    rocksdb_readoptions_destroy(ro);
    if (v != NULL) {
        rocksdb_free(v);
    }
    store_hint_state_destroy(h);
    return rc;
}

/* See rocks_internal.h. */
void
store_hint_state_destroy(struct store_hint_state *h)
{
    if (h == NULL) {
        return;
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- public API (store.h) --------------------------------------------- */

/*
 * store_hint_put() writes the hint and the sequence at once with
 * rocks_write(); store_hint_put_lazy() (lazy_seq != NULL) appends both to
 * the group commit's pending log and sets *lazy_seq to commit.
 */
static int
hint_put(struct store *s, const char *target, size_t tlen, uint16_t slot,
         const char *key, size_t klen, const struct store_record *rec,
         int64_t now_ms, uint64_t *lazy_seq)
{
    struct store_hint_state *h = rocks_hint_state(s);
    char prefix[HINT_PFX_MAX];
    char hkey[HINT_KEY_MAX];
    char meta[8];
    size_t plen, hklen, vlen;
    rocksdb_writebatch_t *wb = NULL;
    char *val = NULL;
    uint64_t seq;
    int rc;

    if (!target_ok(tlen) || slot >= STORE_SLOTS || klen > UINT32_MAX) {
        return RK_EPROTO;
    }
    vlen = HINT_HEAD_LEN + klen + store_record_encoded_len(rec);
    val = malloc(vlen);
    if (val == NULL) {
        rc = RK_ENOMEM;
        goto out;
    }
    put_be64(val, (uint64_t)now_ms);
    val[8] = (char)(slot >> 8);
    val[9] = (char)slot;
    put_be32(val + 10, (uint32_t)klen);
    if (klen > 0) {
        memcpy(val + HINT_HEAD_LEN, key, klen);
    }
    store_record_encode(rec, val + HINT_HEAD_LEN + klen);
    plen = make_prefix(prefix, target, tlen);

    pthread_mutex_lock(&h->mu);
    seq = ++h->last_seq;   /* consumed even if the write fails */
    hklen = make_key(hkey, prefix, plen, seq);
    put_be64(meta, seq);
    if (lazy_seq != NULL) {
        /* The sequence may land in a later commit than the hint:
         * store_hint_state_create() takes the larger of both anyway. */
        rc = rocks_put_lazy(s, 1, hkey, hklen, val, vlen, lazy_seq);
        if (rc == RK_OK) {
            /* Out of memory here loses only the sequence, which
             * store_hint_state_create() rebuilds from the hints. */
            (void)rocks_put_lazy(s, 0, hint_meta_key,
                                 sizeof(hint_meta_key) - 1, meta,
                                 sizeof(meta), lazy_seq);
        }
    } else {
        wb = rocksdb_writebatch_create();
        rocksdb_writebatch_put_cf(wb, rocks_cf_hints(s), hkey, hklen, val,
                                  vlen);
        rocksdb_writebatch_put_cf(wb, rocks_cf_meta(s), hint_meta_key,
                                  sizeof(hint_meta_key) - 1, meta,
                                  sizeof(meta));
        rc = rocks_write(s, wb);
    }
    if (rc == RK_OK) {
        atomic_fetch_add(&h->stored, 1);
        atomic_fetch_add(&h->pending, 1);
    }
    pthread_mutex_unlock(&h->mu);
out:
    if (wb != NULL) {
        rocksdb_writebatch_destroy(wb);
    }
    free(val);
    return rc;
}

/* See store.h. */
int
store_hint_put(struct store *s, const char *target, size_t tlen,
               uint16_t slot, const char *key, size_t klen,
               const struct store_record *rec, int64_t now_ms)
{
    return hint_put(s, target, tlen, slot, key, klen, rec, now_ms, NULL);
}

/* See store.h. */
int
store_hint_put_lazy(struct store *s, const char *target, size_t tlen,
                    uint16_t slot, const char *key, size_t klen,
                    const struct store_record *rec, int64_t now_ms,
                    uint64_t *seq)
{
    return hint_put(s, target, tlen, slot, key, klen, rec, now_ms, seq);
}

/* See store.h. */
struct store_hint_iter *
store_hint_iter_create(struct store *s, const char *target, size_t tlen)
{
    struct store_hint_iter *it;

    if (!target_ok(tlen)) {
        return NULL;
    }
    it = calloc(1, sizeof(*it));
    if (it == NULL) {
        return NULL;
    }
    it->s = s;
    it->plen = make_prefix(it->prefix, target, tlen);
    it->elen = make_end(it->end, it->prefix, it->plen);
    it->ro = scan_options(it->end, it->elen);
    it->it = rocksdb_create_iterator_cf(rocks_db(s), it->ro,
                                        rocks_cf_hints(s));
    return it;
}

/* See store.h. */
int
store_hint_iter_next(struct store_hint_iter *it, struct store_hint *out)
{
    if (!it->started) {
        rocksdb_iter_seek(it->it, it->prefix, it->plen);
        it->started = 1;
    } else if (rocksdb_iter_valid(it->it)) {
        rocksdb_iter_next(it->it);
    }
    for (; rocksdb_iter_valid(it->it); rocksdb_iter_next(it->it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it->it, &klen);
        const char *v;

        if (klen != it->plen + HINT_SEQ_LEN ||
            memcmp(k, it->prefix, it->plen) != 0) {
            continue;   /* not a key of ours; the bound makes it rare */
        }
        memset(out, 0, sizeof(*out));
        out->seq = get_be64(k + it->plen);
        v = rocksdb_iter_value(it->it, &vlen);
        if (decode_value(v, vlen, out) != RK_OK) {
            return RK_EPROTO;
        }
        return 1;
    }
    return iter_status(it->s, it->it) == RK_OK ? 0 : RK_ERR;
}

/* See store.h. */
void
store_hint_iter_destroy(struct store_hint_iter *it)
{
    if (it == NULL) {
        return;
    }
    rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ro);
    free(it);
}

/* See store.h. */
int
store_hint_delete(struct store *s, const char *target, size_t tlen,
                  uint64_t seq)
{
    struct store_hint_state *h = rocks_hint_state(s);
    char prefix[HINT_PFX_MAX];
    char hkey[HINT_KEY_MAX];
    size_t hklen;
    rocksdb_readoptions_t *ro = NULL;
    rocksdb_pinnableslice_t *ps = NULL;
    rocksdb_writebatch_t *wb = NULL;
    char *rerr = NULL;
    int rc = RK_OK;

    if (!target_ok(tlen)) {
        return RK_EPROTO;
    }
    hklen = make_key(hkey, prefix, make_prefix(prefix, target, tlen), seq);
    ro = scan_options(NULL, 0);
    pthread_mutex_lock(&h->mu);
    ps = rocksdb_get_pinned_cf(rocks_db(s), ro, rocks_cf_hints(s), hkey,
                               hklen, &rerr);
    if (rerr != NULL) {
        rocks_take_error(s, rerr);
        rc = RK_ERR;
        goto out;
    }
    if (ps == NULL) {
        goto out;   /* delivered or expired already */
    }
    wb = rocksdb_writebatch_create();
    rocksdb_writebatch_delete_cf(wb, rocks_cf_hints(s), hkey, hklen);
    rc = rocks_write(s, wb);
    if (rc == RK_OK) {
        atomic_fetch_sub(&h->pending, 1);
        atomic_fetch_add(&h->delivered, 1);
    }
out:
    pthread_mutex_unlock(&h->mu);
    if (wb != NULL) {
        rocksdb_writebatch_destroy(wb);
    }
    if (ps != NULL) {
        rocksdb_pinnableslice_destroy(ps);
    }
    rocksdb_readoptions_destroy(ro);
    return rc;
}

/* See store.h. */
int
store_hint_delete_upto(struct store *s, const char *target, size_t tlen,
                       uint64_t seq)
{
    char prefix[HINT_PFX_MAX];
    uint64_t n = 0;

    if (!target_ok(tlen)) {
        return RK_EPROTO;
    }
    return drop_front(s, prefix, make_prefix(prefix, target, tlen), seq, 0,
                      0, &n);
}

/* See store.h. */
int
store_hint_expire(struct store *s, int64_t now_ms, int64_t window_ms,
                  uint64_t *expired)
{
    struct prefix_list l;
    uint64_t n = 0;
    size_t i;
    int rc;

    assert(window_ms >= 0);
    rc = list_prefixes(s, &l);
    for (i = 0; rc == RK_OK && i < l.n; i++) {
        size_t plen = 1 + (size_t)(unsigned char)l.p[i][0];
        rc = drop_front(s, l.p[i], plen, UINT64_MAX, 1, now_ms - window_ms,
                        &n);
    }
    prefix_list_free(&l);
    if (expired != NULL) {
        *expired = n;
    }
    return rc;
}

/* See store.h. */
int
store_hint_targets(struct store *s, char ***ids, size_t *n)
{
    struct prefix_list l;
    char **out = NULL;
    size_t i = 0;
    int rc;

    *ids = NULL;
    *n = 0;
    rc = list_prefixes(s, &l);
    if (rc != RK_OK || l.n == 0) {
        goto out;
    }
    out = calloc(l.n, sizeof(*out));
    if (out == NULL) {
        rc = RK_ENOMEM;
        goto out;
    }
    for (i = 0; i < l.n; i++) {
        size_t tlen = (size_t)(unsigned char)l.p[i][0];
        out[i] = malloc(tlen + 1);
        if (out[i] == NULL) {
            rc = RK_ENOMEM;
            goto out;
        }
        memcpy(out[i], l.p[i] + 1, tlen);
        out[i][tlen] = '\0';
    }
    *ids = out;
    *n = l.n;
    out = NULL;
out:
    store_hint_targets_free(out, i);
    prefix_list_free(&l);
    return rc;
}

/* See store.h. */
void
store_hint_targets_free(char **ids, size_t n)
{
    size_t i;

    if (ids == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
}

/* See store.h. */
int
store_hint_count(struct store *s, uint64_t *n)
{
    return count_keys(s, NULL, 0, n);
}

/* See store.h. */
int
store_hint_count_target(struct store *s, const char *target, size_t tlen,
                        uint64_t *n)
{
    char prefix[HINT_PFX_MAX];

    *n = 0;
    if (!target_ok(tlen)) {
        return RK_EPROTO;
    }
    return count_keys(s, prefix, make_prefix(prefix, target, tlen), n);
}

/* See store.h. */
void
store_hint_get_stats(struct store *s, struct store_hint_stats *st)
{
    struct store_hint_state *h = rocks_hint_state(s);

    st->stored = atomic_load(&h->stored);
    st->delivered = atomic_load(&h->delivered);
    st->expired = atomic_load(&h->expired);
    st->pending = atomic_load(&h->pending);
}
