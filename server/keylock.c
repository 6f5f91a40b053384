/*
 * server/keylock.c - key locks for coordinated writes, exclusive or
 * shared. See keylock.h.
 */
#include "keylock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEYLOCK_STRIPES 256
#define KEYLOCK_STACK 16        /* keys handled without an allocation */

/* A held key and the writers waiting for it. */
struct keylock_entry {
    struct keylock_entry *next;
    uint64_t h;
    unsigned shared;            /* shared holders; 0: held exclusively */
    struct keylock_waiter *head;
    struct keylock_waiter *tail;
};

struct keylock_stripe {
    pthread_mutex_t mu;
    struct keylock_entry *entries;
};

struct keylock_table {
    struct keylock_stripe stripe[KEYLOCK_STRIPES];
};

static unsigned
stripe_of(uint64_t h)
{
    return (unsigned)(h >> 56) % KEYLOCK_STRIPES;
}

uint64_t
keylock_hash(uint16_t slot, const char *key, size_t klen)
{
    /* FNV-1a, then a splitmix64 finaliser for the stripe bits. */
    uint64_t h = 0xcbf29ce484222325ull ^ slot;

    for (size_t i = 0; i < klen; i++) {
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

struct keylock_table *
keylock_create(void)
{
    struct keylock_table *t = calloc(1, sizeof(*t));

    for (int i = 0; t != NULL && i < KEYLOCK_STRIPES; i++) {
        pthread_mutex_init(&t->stripe[i].mu, NULL);
    }
    return t;
}

void
keylock_destroy(struct keylock_table *t)
{
    if (t == NULL) {
        return;
    }
    for (int i = 0; i < KEYLOCK_STRIPES; i++) {
        struct keylock_entry *e = t->stripe[i].entries;

        while (e != NULL) {
            struct keylock_entry *next = e->next;
            free(e);
            e = next;
        }
        pthread_mutex_destroy(&t->stripe[i].mu);
    }
    free(t);
}

static struct keylock_entry *
find(struct keylock_stripe *st, uint64_t h)
{
    struct keylock_entry *e = st->entries;

    while (e != NULL && e->h != h) {
        e = e->next;
    }
    return e;
}

static int
cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    unsigned sx = stripe_of(x);
    unsigned sy = stripe_of(y);

    if (sx != sy) {
        return sx < sy ? -1 : 1;
    }
    return x < y ? -1 : x > y;
}

/* Copy h sorted by (stripe, hash) without duplicates; the count, or
 * -1 when memory ran out. */
static long
sorted_keys(const uint64_t *h, size_t n, uint64_t *stack, uint64_t **out)
{
    uint64_t *k = n <= KEYLOCK_STACK ? stack : malloc(n * sizeof(*k));
    size_t m = 0;

    if (k == NULL) {
        return -1;
    }
    memcpy(k, h, n * sizeof(*k));
    qsort(k, n, sizeof(*k), cmp_key);
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || k[m - 1] != k[i]) {
            k[m++] = k[i];
        }
    }
    *out = k;
    return (long)m;
}

/* Whether a request (shared or not) must wait for the held key e. A
 * shared request also waits behind queued writers, so that a stream of
 * shared holders cannot starve an exclusive one. */
static int
conflicts(const struct keylock_entry *e, int shared)
{
    return e != NULL && (!shared || e->shared == 0 || e->head != NULL);
}

int
keylock_try(struct keylock_table *t, const uint64_t *h, size_t n,
            int shared, struct keylock_waiter *w)
{
    uint64_t stack[KEYLOCK_STACK];
    struct keylock_entry *fresh[KEYLOCK_STACK];
    struct keylock_entry **entries = fresh;
    uint64_t *k;
    long m = sorted_keys(h, n, stack, &k);
    struct keylock_entry *busy = NULL;
    int rc = 1;

    if (m < 0) {
        return -1;
    }
    /* The entries are allocated before any stripe is locked. */
    if (m > KEYLOCK_STACK) {
        entries = calloc((size_t)m, sizeof(*entries));
    }
    for (long i = 0; entries != NULL && i < m; i++) {
        entries[i] = calloc(1, sizeof(**entries));
        if (entries[i] == NULL) {
            rc = -1;
        }
    }
    if (entries == NULL) {
        rc = -1;
    }
    if (rc == 1) {
        for (long i = 0; i < m; i++) {
            if (i == 0 || stripe_of(k[i]) != stripe_of(k[i - 1])) {
                pthread_mutex_lock(&t->stripe[stripe_of(k[i])].mu);
            }
        }
        for (long i = 0; i < m && busy == NULL; i++) {
            struct keylock_entry *e = find(&t->stripe[stripe_of(k[i])],
                                           k[i]);

            if (conflicts(e, shared)) {
                busy = e;
            }
        }
        if (busy != NULL) {
            w->next = NULL;
            if (busy->tail != NULL) {
                busy->tail->next = w;
            } else {
                busy->head = w;
            }
            busy->tail = w;
            rc = 0;
        } else {
            for (long i = 0; i < m; i++) {
                struct keylock_stripe *st = &t->stripe[stripe_of(k[i])];
                struct keylock_entry *e = shared ? find(st, k[i]) : NULL;

                if (e != NULL) {
                    e->shared++;        /* one more shared holder */
                    continue;
                }
                entries[i]->h = k[i];
                entries[i]->shared = shared ? 1 : 0;
                entries[i]->next = st->entries;
                st->entries = entries[i];
                entries[i] = NULL;      /* now the table's */
            }
        }
        for (long i = m - 1; i >= 0; i--) {
            if (i == 0 || stripe_of(k[i]) != stripe_of(k[i - 1])) {
                pthread_mutex_unlock(&t->stripe[stripe_of(k[i])].mu);
            }
        }
    }
    for (long i = 0; entries != NULL && i < m; i++) {
        free(entries[i]);
    }
    if (entries != fresh) {
        free(entries);
    }
    if (k != stack) {
        free(k);
    }
    return rc;
}

size_t
keylock_unique(uint64_t *h, size_t n)
{
    size_t m = 0;

    qsort(h, n, sizeof(*h), cmp_key);
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || h[m - 1] != h[i]) {
            h[m++] = h[i];
        }
    }
    return m;
}

void
keylock_release(struct keylock_table *t, const uint64_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct keylock_stripe *st = &t->stripe[stripe_of(h[i])];
        struct keylock_entry **pp;
        struct keylock_entry *e = NULL;
        struct keylock_waiter *w;

        pthread_mutex_lock(&st->mu);
        for (pp = &st->entries; *pp != NULL; pp = &(*pp)->next) {
            if ((*pp)->h == h[i]) {
                e = *pp;
                if (e->shared > 1) {
                    e->shared--;        /* other shared holders remain */
                    e = NULL;
                } else {
                    *pp = e->next;
                }
                break;
            }
        }
        pthread_mutex_unlock(&st->mu);
        if (e == NULL) {
            continue;
        }
        w = e->head;
        free(e);
        while (w != NULL) {
            struct keylock_waiter *next = w->next;

            w->next = NULL;
            w->wake(w);
            w = next;
        }
    }
}

int
keylock_cancel(struct keylock_table *t, const uint64_t *h, size_t n,
               struct keylock_waiter *w)
{
    int removed = 0;

    for (size_t i = 0; i < n; i++) {
        struct keylock_stripe *st = &t->stripe[stripe_of(h[i])];
        struct keylock_entry *e;

        pthread_mutex_lock(&st->mu);
        e = find(st, h[i]);
        if (e != NULL) {
            struct keylock_waiter **pp = &e->head;
            struct keylock_waiter *prev = NULL;

            while (*pp != NULL && *pp != w) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp == w) {
                *pp = w->next;
                if (e->tail == w) {
                    e->tail = prev;
                }
                removed = 1;
            }
        }
        pthread_mutex_unlock(&st->mu);
    }
    return removed;
}
