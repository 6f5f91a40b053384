/*
 * server/scan.c - SCAN cursors: the table of resume keys and the walk.
 *
 * The store hands out records in (slot, key) order, so a SCAN call is a
 * range walk: seek to (slot, resume key), examine about COUNT records and
 * stop. Stopping between two slots needs no state (the cursor is the next
 * slot); stopping inside a slot saves the next key in a small ring of
 * entries, each tagged with a generation that the cursor carries. Entries
 * are overwritten in generation order, so an old cursor may find its entry
 * gone: it then restarts its slot, which repeats keys but never skips one.
 */
#include "scan.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "glob.h"
#include "ring.h"
#include "rk.h"
#include "resp.h"
#include "store.h"

/* Generations fill the cursor bits above the slot. */
#define GEN_BITS  (64 - SRV_SCAN_SLOT_BITS)
#define GEN_MAX   ((UINT64_C(1) << GEN_BITS) - 1)

/* Where one SCAN call stopped inside a slot. */
struct scan_entry {
    uint64_t gen;          /* 0: empty */
    uint16_t slot;
    char *key;             /* malloc'd copy; NULL when klen is 0 */
    size_t klen;
};

struct srv_scan {
    pthread_mutex_t lock;  /* guards next_gen and every entry */
    uint64_t next_gen;     /* last generation handed out */
    struct scan_entry *e;  /* SRV_SCAN_ENTRIES entries, by gen % size */
};

struct srv_scan *
srv_scan_create(void)
{
    struct srv_scan *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return NULL;
    }
    t->e = calloc(SRV_SCAN_ENTRIES, sizeof(*t->e));
    if (t->e == NULL || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->e);
        free(t);
        return NULL;
    }
    return t;
}

void
srv_scan_destroy(struct srv_scan *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < SRV_SCAN_ENTRIES; i++) {
        free(t->e[i].key);
    }
    free(t->e);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/*
 * Remember that a walk stopped before (slot, key). Returns the cursor that
 * resumes there, or 0 when out of memory (the caller must not stop then).
 */
static uint64_t
scan_save(struct srv_scan *t, uint16_t slot, const char *key, size_t klen)
{
    struct scan_entry *e;
    char *copy = NULL;
    char *old;
    uint64_t gen;

    if (klen > 0) {
        copy = malloc(klen);
        if (copy == NULL) {
            return 0;
        }
        memcpy(copy, key, klen);
    }
    pthread_mutex_lock(&t->lock);
    gen = t->next_gen = t->next_gen >= GEN_MAX ? 1 : t->next_gen + 1;
    e = &t->e[gen & (SRV_SCAN_ENTRIES - 1)];
    old = e->key;
    e->gen = gen;
    e->slot = slot;
    e->key = copy;
    e->klen = klen;
    pthread_mutex_unlock(&t->lock);
    free(old);
    return (gen << SRV_SCAN_SLOT_BITS) | slot;
}

/*
 * Find the resume key of cursor. Returns 1 with *key (malloc'd, caller
 * frees; NULL when empty) and *klen set, 0 when the entry is unknown or
 * gone, RK_ENOMEM when the copy failed.
 */
static int
scan_load(struct srv_scan *t, uint64_t cursor, char **key, size_t *klen)
{
    uint64_t gen = cursor >> SRV_SCAN_SLOT_BITS;
    uint16_t slot = (uint16_t)(cursor & SRV_SCAN_SLOT_MASK);
    struct scan_entry *e;
    int rc = 0;

    *key = NULL;
    *klen = 0;
    if (t == NULL || gen == 0) {
        return 0;
    }
    pthread_mutex_lock(&t->lock);
    e = &t->e[gen & (SRV_SCAN_ENTRIES - 1)];
    if (e->gen == gen && e->slot == slot) {
        rc = 1;
        if (e->klen > 0) {
            *key = malloc(e->klen);
            if (*key == NULL) {
                rc = RK_ENOMEM;
            } else {
                memcpy(*key, e->key, e->klen);
                *klen = e->klen;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int
srv_scan_parse_cursor(const char *p, size_t len, uint64_t *out)
{
    char stack[64];
    char *buf = stack;
    char *end;
    unsigned long long v;
    int ok;

    /* strtoul() reads a C string: the argument ends at its first NUL. */
    len = strnlen(p, len);
    if (len >= sizeof(stack)) {
        buf = malloc(len + 1);
        if (buf == NULL) {
            return 0;
        }
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    v = strtoull(buf, &end, 10);
    ok = !(buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r')) &&
         *end == '\0' && errno != ERANGE;
    if (buf != stack) {
        free(buf);
    }
    if (ok) {
        *out = (uint64_t)v;
    }
    return ok;
}

int
srv_scan_pattern_slot(const char *pat, size_t plen)
{
    size_t open = plen;

    for (size_t i = 0; i < plen; i++) {
        char ch = pat[i];

        if (ch == '*' || ch == '?' || ch == '[' || ch == '\\') {
            return -1;
        }
        if (ch == '{' && open == plen) {
            open = i;
        } else if (ch == '}' && open < plen) {
            if (i == open + 1) {
                /* "{}": Redis hashes the whole key. */
                return -1;
            }
            return ring_key_slot(pat, i + 1);
        }
    }
    /* No glob at all: the pattern is one key. */
    return ring_key_slot(pat, plen);
}

/* 1 when the record at (key, rec) is returned by a SCAN with o. */
static int
scan_wanted(const struct srv_scan_opts *o, const struct rk_slice *key,
            const struct store_record *rec, int64_t now_ms)
{
    if (!store_record_live(rec, now_ms)) {
        return 0;
    }
    if (o->type != SRV_SCAN_TYPE_ANY && o->type != (int)rec->type) {
        return 0;
    }
    if (o->pat != NULL &&
        !srv_glob_match(o->pat, o->plen, key->ptr, key->len, 0)) {
        return 0;
    }
    return 1;
}

int
srv_scan_step(struct srv_scan *t, struct store *s, uint64_t cursor,
              const struct srv_scan_opts *o, int64_t now_ms,
              srv_scan_emit_fn *emit, void *arg, uint64_t *next)
{
    struct store_iter *it = NULL;
    uint16_t start = (uint16_t)(cursor & SRV_SCAN_SLOT_MASK);
    int only = o->pat != NULL ? srv_scan_pattern_slot(o->pat, o->plen) : -1;
    long long examined = 0;
    long long limit = o->count;
    long long finish = o->count > LLONG_MAX / 2 ? LLONG_MAX : 2 * o->count;
    int cur = -1;              /* slot of the last examined record */
    char *rkey = NULL;
    size_t rklen = 0;
    int rc;

    *next = 0;
    if (o->type == SRV_SCAN_TYPE_NONE || (only >= 0 && start > only)) {
        /* Nothing can match, or the pinned slot is behind the cursor. */
        rc = RK_OK;
        goto out;
    }
    rc = scan_load(t, cursor, &rkey, &rklen);
    if (rc < 0) {
        goto out;
    }
    if (rc == 0 || (only >= 0 && start < only)) {
        /* Unknown entry: restart the slot. Before the pinned slot: jump. */
        free(rkey);
        rkey = NULL;
        rklen = 0;
        if (only >= 0 && start < only) {
            start = (uint16_t)only;
        }
    }
    it = store_iter_create(s);
    if (it == NULL) {
        rc = RK_ENOMEM;
        goto out;
    }
    store_iter_seek(it, start, rkey, rklen);
    rc = RK_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        struct store_record rec;
        struct rk_slice key;
        uint16_t slot;
        int got = store_iter_get(it, &slot, &key, &rec);

        if (only >= 0 && slot > only) {
            /* Past the only slot that can match: done. */
            goto out;
        }
        if (examined >= limit && slot != cur) {
            /* A slot boundary: the cursor alone says where to go on. */
            *next = slot;
            goto out;
        }
        if (examined >= finish && slot == cur) {
            /* Deep inside a big slot: save where to go on. */
            uint64_t c = t != NULL ? scan_save(t, slot, key.ptr, key.len)
                                   : 0;
            if (c != 0) {
                *next = c;
                goto out;
            }
            /* No entry to save it in: finish the slot instead. */
            finish = LLONG_MAX;
        }
        cur = slot;
        examined++;
        if (got == RK_OK &&
            (o->slots == NULL || (o->slots[slot / 8] >> (slot % 8)) & 1) &&
            scan_wanted(o, &key, &rec, now_ms)) {
            rc = emit(arg, key.ptr, key.len);
            if (rc != RK_OK) {
                goto out;
            }
        }
    }
out:
    store_iter_destroy(it);
    free(rkey);
    return rc;
}

size_t
srv_scan_primary_mask(const struct ring *ring, int member, uint8_t *mask)
{
    size_t n = 0;

    memset(mask, 0, SRV_SCAN_MASK_BYTES);
    for (unsigned slot = 0; slot < STORE_SLOTS; slot++) {
        if ((int)ring_preference(ring, (uint16_t)slot)[0] == member) {
            mask[slot / 8] |= (uint8_t)(1u << (slot % 8));
            n++;
        }
    }
    return n;
}

int
srv_scan_first_live(struct store *s, uint16_t start, const uint8_t *slots,
                    int64_t now_ms, struct srv_keylist *out, uint16_t *slot)
{
    struct store_iter *it = store_iter_create(s);
    int wrapped = 0;
    int rc = 0;

    if (it == NULL) {
        return RK_ENOMEM;
    }
    store_iter_seek(it, start, NULL, 0);
    for (;;) {
        struct store_record rec;
        struct rk_slice key;
        uint16_t at;

        if (!store_iter_valid(it)) {
            if (wrapped || start == 0) {
                break;
            }
            wrapped = 1;
            store_iter_seek(it, 0, NULL, 0);
            continue;
        }
        if (store_iter_get(it, &at, &key, &rec) == RK_OK) {
            if (wrapped && at >= start) {
                break;
            }
            if ((slots == NULL || (slots[at / 8] >> (at % 8)) & 1) &&
                store_record_live(&rec, now_ms)) {
                rc = srv_keylist_add(out, key.ptr, key.len) == RK_OK
                         ? 1 : RK_ENOMEM;
                *slot = at;
                break;
            }
        }
        store_iter_next(it);
    }
    store_iter_destroy(it);
    return rc;
}

/* ---- key lists --------------------------------------------------------- */

void
srv_keylist_init(struct srv_keylist *l)
{
    memset(l, 0, sizeof(*l));
}

void
srv_keylist_deinit(struct srv_keylist *l)
{
    free(l->buf);
    free(l->off);
}

/* srv_scan_emit_fn: append one key. */
int
srv_keylist_add(void *arg, const char *key, size_t klen)
{
    struct srv_keylist *l = arg;

    if (l->n + 2 > l->ncap) {
        size_t ncap = l->ncap ? 2 * l->ncap : 64;
        size_t *off = realloc(l->off, ncap * sizeof(*off));

        if (off == NULL) {
            return RK_ENOMEM;
        }
        l->off = off;
        l->ncap = ncap;
    }
    if (l->len + klen > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        char *buf;

        while (cap < l->len + klen) {
            cap *= 2;
        }
        buf = realloc(l->buf, cap);
        if (buf == NULL) {
            return RK_ENOMEM;
        }
        l->buf = buf;
        l->cap = cap;
    }
    if (klen > 0) {
        memcpy(l->buf + l->len, key, klen);
    }
    l->off[l->n++] = l->len;
    l->len += klen;
    l->off[l->n] = l->len;
    return RK_OK;
}

void
srv_keylist_write(struct resp_buf *out, const struct srv_keylist *l)
{
    resp_add_array(out, (long long)l->n);
    for (size_t k = 0; k < l->n; k++) {
        resp_add_bulk(out, l->buf + l->off[k], l->off[k + 1] - l->off[k]);
    }
}
