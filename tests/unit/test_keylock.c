/*
 * tests/unit/test_keylock.c - server/keylock.c: all-or-nothing key locks,
 * exclusive or shared, whose waiters are woken, never blocked.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keylock.h"

struct waiter {
    struct keylock_waiter w;
    int woken;
};

static void
on_wake(struct keylock_waiter *w)
{
    ((struct waiter *)(void *)w)->woken++;
}

START_TEST(names_are_stable_and_distinct)
{
    ck_assert_uint_eq(keylock_hash(7, "a", 1), keylock_hash(7, "a", 1));
    ck_assert_uint_ne(keylock_hash(7, "a", 1), keylock_hash(8, "a", 1));
    ck_assert_uint_ne(keylock_hash(7, "a", 1), keylock_hash(7, "b", 1));
    ck_assert_uint_ne(keylock_hash(7, "ab", 2), keylock_hash(7, "a", 1));
}
END_TEST

START_TEST(all_or_nothing_and_wake)
{
    struct keylock_table *t = keylock_create();
    struct waiter a = { .w.wake = on_wake };
    struct waiter b = { .w.wake = on_wake };
    uint64_t k1 = keylock_hash(1, "k1", 2);
    uint64_t k2 = keylock_hash(2, "k2", 2);
    uint64_t both[] = { k1, k2, k1 };   /* a duplicate is fine in try */
    uint64_t uniq[3];
    size_t n;

    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(keylock_try(t, &k1, 1, 0, &a.w), 1);
    /* k2 is free but k1 is not: nothing is taken, b waits on k1. */
    ck_assert_int_eq(keylock_try(t, both, 3, 0, &b.w), 0);
    ck_assert_int_eq(keylock_try(t, &k2, 1, 0, &a.w), 1);
    keylock_release(t, &k2, 1);
    ck_assert_int_eq(b.woken, 0);
    keylock_release(t, &k1, 1);
    ck_assert_int_eq(b.woken, 1);
    memcpy(uniq, both, sizeof(both));
    n = keylock_unique(uniq, 3);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(keylock_try(t, uniq, n, 0, &b.w), 1);
    /* A waiter that gives up is not woken. */
    ck_assert_int_eq(keylock_try(t, &k2, 1, 0, &a.w), 0);
    ck_assert_int_eq(keylock_cancel(t, &k2, 1, &a.w), 1);
    ck_assert_int_eq(keylock_cancel(t, &k2, 1, &a.w), 0);
    keylock_release(t, uniq, n);
    ck_assert_int_eq(a.woken, 0);
    /* Released keys are free again. */
    ck_assert_int_eq(keylock_try(t, uniq, n, 0, &a.w), 1);
    keylock_release(t, uniq, n);
    keylock_destroy(t);
}
END_TEST

/* Threads increment a counter under a key lock they spin for: the lock
 * must exclude, or increments are lost. */
struct racer {
    struct keylock_table *t;
    uint64_t key;
    long *counter;
    atomic_int *inside;
    int rounds;
    int overlap;
};

struct flag_waiter {
    struct keylock_waiter w;
    atomic_int woken;
};

static void
flag_wake(struct keylock_waiter *w)
{
    atomic_store(&((struct flag_waiter *)(void *)w)->woken, 1);
}

static void *
race(void *arg)
{
    struct racer *r = arg;
    struct flag_waiter fw = { .w.wake = flag_wake };

    for (int i = 0; i < r->rounds; i++) {
        atomic_store(&fw.woken, 0);
        while (keylock_try(r->t, &r->key, 1, 0, &fw.w) != 1) {
            /* A waiter may be queued again only once it is out of the
             * table: cancelled, or its wake has run. */
            if (!keylock_cancel(r->t, &r->key, 1, &fw.w)) {
                while (!atomic_load(&fw.woken)) {
                    sched_yield();
                }
            }
            atomic_store(&fw.woken, 0);
        }
        if (atomic_fetch_add(r->inside, 1) != 0) {
            r->overlap = 1;
        }
        (*r->counter)++;
        atomic_fetch_sub(r->inside, 1);
        keylock_release(r->t, &r->key, 1);
    }
    return NULL;
}

/*
 * Shared holders (blind writes) overlap; an exclusive request (a
 * read-modify-write) waits for the last of them, and a shared request
 * that comes after a queued exclusive one waits behind it.
 */
START_TEST(shared_overlap_and_exclusive_waits)
{
    struct keylock_table *t = keylock_create();
    struct waiter a = { .w.wake = on_wake };
    struct waiter x = { .w.wake = on_wake };
    struct waiter late = { .w.wake = on_wake };
    uint64_t k = keylock_hash(3, "hot", 3);

    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(keylock_try(t, &k, 1, 1, &a.w), 1);
    ck_assert_int_eq(keylock_try(t, &k, 1, 1, &a.w), 1);
    /* Exclusive waits for both shared holders. */
    ck_assert_int_eq(keylock_try(t, &k, 1, 0, &x.w), 0);
    /* A shared request now queues behind the exclusive waiter. */
    ck_assert_int_eq(keylock_try(t, &k, 1, 1, &late.w), 0);
    keylock_release(t, &k, 1);
    ck_assert_int_eq(x.woken, 0);
    keylock_release(t, &k, 1);
    ck_assert_int_eq(x.woken, 1);
    ck_assert_int_eq(late.woken, 1);
    /* Both retry: the exclusive one first, then shared must wait. */
    ck_assert_int_eq(keylock_try(t, &k, 1, 0, &x.w), 1);
    ck_assert_int_eq(keylock_try(t, &k, 1, 1, &late.w), 0);
    keylock_release(t, &k, 1);
    ck_assert_int_eq(late.woken, 2);
    ck_assert_int_eq(keylock_try(t, &k, 1, 1, &late.w), 1);
    keylock_release(t, &k, 1);
    /* Free again: an exclusive request takes it at once. */
    ck_assert_int_eq(keylock_try(t, &k, 1, 0, &x.w), 1);
    keylock_release(t, &k, 1);
    keylock_destroy(t);
}
END_TEST

START_TEST(excludes_across_threads)
{
    enum { THREADS = 4, ROUNDS = 20000 };
    struct keylock_table *t = keylock_create();
    pthread_t th[THREADS];
    struct racer r[THREADS];
    atomic_int inside = 0;
    long counter = 0;

    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){ .t = t, .key = keylock_hash(3, "c", 1),
                               .counter = &counter, .inside = &inside,
                               .rounds = ROUNDS };
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(r[i].overlap, 0);
    }
    ck_assert_int_eq(counter, (long)THREADS * ROUNDS);
    keylock_destroy(t);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("keylock");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, names_are_stable_and_distinct);
    tcase_add_test(tc, all_or_nothing_and_wake);
    tcase_add_test(tc, shared_overlap_and_exclusive_waits);
    tcase_add_test(tc, excludes_across_threads);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
