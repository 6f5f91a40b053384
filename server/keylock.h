/*
 * server/keylock.h - locks on keys for coordinated writes, exclusive or
 * shared, without blocking a thread.
 *
 * In a cluster a write's apply runs after its reads came back from the
 * replicas, maybe many loop iterations later, so a stripe mutex cannot be
 * held across it. Two INCRs of one key through this node must not both
 * read 5 and write 6, and a SET must not slip between an INCR's read and
 * its write: every coordinated write takes its keys here first, and holds
 * them until its write quorum answered (DESIGN.md: read-modify-write is
 * atomic within one coordinator). A write that reads first takes its keys
 * exclusively; a blind write (SET, MSET: it reads nothing, and last write
 * wins between two of them) takes them shared, so blind writes of one hot
 * key overlap while each still waits for, and holds off, a
 * read-modify-write. A shared request also queues behind any waiter, so
 * blind writes cannot starve an INCR. A key is named by a 64-bit hash of
 * its slot and bytes; two keys with one hash only serialise each other.
 *
 * keylock_try() takes all the keys or none, so waiting never holds a key
 * (no deadlock between multi-key writes). A writer that finds a key taken
 * is queued on it and its wake function runs, on the releasing thread,
 * when the key is released; it then tries again. A waiter may be passed
 * to keylock_try() again only once it is out of the table: its wake has
 * run, or keylock_cancel() returned 1. Thread-safe.
 */
#ifndef SRV_KEYLOCK_H
#define SRV_KEYLOCK_H

#include <stddef.h>
#include <stdint.h>

struct keylock_table;

/* A writer waiting for a key; wake() must not call back into the table. */
struct keylock_waiter {
    struct keylock_waiter *next;
    void (*wake)(struct keylock_waiter *w);
};

/* NULL when memory runs out. */
struct keylock_table *keylock_create(void);
/* Free the table; waiters still queued are forgotten, not woken. */
void keylock_destroy(struct keylock_table *t);

/* The name of a key. */
uint64_t keylock_hash(uint16_t slot, const char *key, size_t klen);

/*
 * Take the n keys h[0..n) (duplicates allowed), shared when shared != 0,
 * else exclusively. Returns 1 when none was in the way and all are now
 * held; 0 when one was (held exclusively, or held at all for an
 * exclusive request, or with waiters queued): w is queued on it and
 * nothing is held; -1 when memory ran out (nothing held, w not queued).
 */
int keylock_try(struct keylock_table *t, const uint64_t *h, size_t n,
                int shared, struct keylock_waiter *w);

/* Sort h[0..n) and drop duplicates in place; returns the new count. */
size_t keylock_unique(uint64_t *h, size_t n);

/*
 * Release keys taken by keylock_try() and wake their waiters once a key
 * has no holder left. h must hold no duplicates (keylock_unique()): a
 * second release of a key could free another writer's hold on it.
 */
void keylock_release(struct keylock_table *t, const uint64_t *h, size_t n);

/*
 * Forget w if it is still queued (its writer gave up). Returns 1 when it
 * was; 0 when it was not, so a wake may be on its way.
 */
int keylock_cancel(struct keylock_table *t, const uint64_t *h, size_t n,
                    struct keylock_waiter *w);

#endif /* SRV_KEYLOCK_H */
