/*
 * storage/clock.c - the hybrid logical clock that versions every record,
 * and the wall clock.
 *
 * A version is (microseconds since 2020-01-01T00:00:00Z << 12) | logical:
 * 52 bits of physical time last until about 2162, and 4096 versions per
 * microsecond before the logical part carries into the physical one (which
 * keeps the order strict either way). store_clock_next() takes the larger
 * of "now" and "last issued + 1" with a compare-and-swap loop, so versions
 * are strictly increasing across threads even when the wall clock steps
 * back; store_clock_observe() moves "last" past a version seen elsewhere.
 */
#include "store.h"

#include <time.h>

/* 2020-01-01T00:00:00Z in unix microseconds. */
#define CLOCK_EPOCH_US   1577836800000000LL
#define CLOCK_LOGICAL_BITS 12

/* Physical part of a version for the wall clock now (0 before 2020). */
static uint64_t
clock_physical(void)
{
    int64_t us = store_now_us() - CLOCK_EPOCH_US;

    return us > 0 ? (uint64_t)us << CLOCK_LOGICAL_BITS : 0;
}

/* Start a clock that has issued nothing; c is the caller's storage. */
void
store_clock_init(struct store_clock *c)
{
    __atomic_store_n(&c->last, 0, __ATOMIC_RELAXED);
}

/*
 * A version strictly greater than every version c has issued or observed,
 * and not less than the current wall clock. Thread-safe and lock-free.
 */
uint64_t
store_clock_next(struct store_clock *c)
{
    uint64_t old = __atomic_load_n(&c->last, __ATOMIC_RELAXED);
    uint64_t phys = clock_physical();
    uint64_t next;

    do {
        next = phys > old ? phys : old + 1;
    } while (!__atomic_compare_exchange_n(&c->last, &old, next, 1,
                                          __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return next;
}

/*
 * Advance c so that the next version it issues is greater than version
 * (a version from a peer message or read from disk). Never moves back.
 */
void
store_clock_observe(struct store_clock *c, uint64_t version)
{
    uint64_t old = __atomic_load_n(&c->last, __ATOMIC_RELAXED);

    while (version > old &&
           !__atomic_compare_exchange_n(&c->last, &old, version, 1,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        /* old was reloaded by the failed exchange; try again */
    }
}

/* Wall clock (CLOCK_REALTIME) in unix milliseconds. */
int64_t
store_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall clock (CLOCK_REALTIME) in unix microseconds. */
int64_t
store_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Unix milliseconds of the physical part of version. */
int64_t
store_version_ms(uint64_t version)
{
    return (int64_t)(version >> CLOCK_LOGICAL_BITS) / 1000 +
           CLOCK_EPOCH_US / 1000;
}
