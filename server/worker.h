/*
 * server/worker.h - one worker thread: a libev loop serving its clients.
 *
 * The main thread accepts connections and hands each to a worker (push on
 * its queue + ev_async_send, as memcached's dispatch_conn_new does). A
 * worker owns its connections for their whole life. Before the loop
 * sleeps, the worker commits the store writes of this iteration as one
 * batch and only then writes the replies (group commit, DESIGN.md).
 */
#ifndef WORKER_H
#define WORKER_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "store.h"

struct srv;
struct conn;
struct link;
struct coord;
struct handoff;

/* Add n to a statistics counter: relaxed, so a CONFIG RESETSTAT from
 * another thread is never undone by an increment in flight. */
#define STAT_ADD(counter_ptr, n) \
    atomic_fetch_add_explicit((counter_ptr), (n), memory_order_relaxed)

/* Per command counters, one array per worker, summed by INFO. */
struct cmd_stats {
    atomic_uint_fast64_t calls;
    atomic_uint_fast64_t usec;
    atomic_uint_fast64_t rejected;   /* refused before running */
    atomic_uint_fast64_t failed;     /* ran and replied an error */
};

#define WORKER_ERRCODES 32
struct err_stat {
    char code[32];                   /* "ERR", "WRONGTYPE", ... */
    atomic_uint_fast64_t count;
};

struct worker_stats {
    atomic_uint_fast64_t commands;
    atomic_uint_fast64_t net_in;
    atomic_uint_fast64_t net_out;
    atomic_uint_fast64_t keyspace_hits;
    atomic_uint_fast64_t keyspace_misses;
    atomic_uint_fast64_t expired_keys;
    atomic_uint_fast64_t error_replies;
    atomic_uint_fast64_t obuf_limit_disconnections;
    atomic_uint_fast64_t qbuf_limit_disconnections;
};

struct worker {
    struct srv *srv;
    int id;
    pthread_t thread;
    struct ev_loop *loop;
    ev_async wake;           /* new connections, kills, shutdown */
    ev_prepare before_sleep; /* commit, then write replies */
    ev_timer cron;           /* 10 Hz: timeouts, output limits */

    pthread_mutex_t lock;    /* guards incoming and the clients list */
    int *incoming;           /* accepted fds waiting to be adopted; a
                              * peer's data link is stored as -2 - fd */
    size_t nincoming;
    size_t capincoming;
    struct conn *clients;    /* every client connection of this worker */
    struct conn *internal;   /* peers' data links served here */

    struct conn *pending_write;  /* connections with replies to write */
    uint64_t commit_seq;     /* store seq to commit before writing */

    struct cmd_stats *cmdstats;  /* indexed by command id */
    struct err_stat errstats[WORKER_ERRCODES];
    struct worker_stats stats;

    struct link *links;      /* request links to peers (link.h) */
    struct coord *coord;     /* cluster coordinator state (coord.h) */
    struct handoff *handoff; /* hint replay, worker 0 only (handoff.h) */

    /* Scratch for the kv layer: record buffers reused by every command. */
    struct store_buf *bufs;
    size_t nbufs;

    /* keyspace.c's cache of the slots this node is the primary of, one
     * bit per slot, as of topology generation primary_gen (srv.h). */
    uint8_t primary_slots[STORE_SLOTS / 8];
    uint64_t primary_gen;
    unsigned primary_valid : 1;     /* primary_slots was computed */
};

/* Create the worker (its loop and watchers). NULL on failure. */
struct worker *worker_create(struct srv *s, int id);
void worker_destroy(struct worker *w);
/* Start its thread. RK_OK or RK_ERR. */
int worker_start(struct worker *w);
/* Wake the worker so it notices shutdown_asap; join its thread. */
void worker_join(struct worker *w);
/* Hand an accepted socket to the worker (called by the acceptor). */
void worker_adopt(struct worker *w, int fd);
/* Hand over a peer's authenticated data link (peer.c). */
void worker_adopt_internal(struct worker *w, int fd);
/* Wake the worker from another thread (kills, shutdown). */
void worker_wake(struct worker *w);

/* Queue c for writing before the loop sleeps. */
void worker_want_write(struct worker *w, struct conn *c);

/* Count one error reply by its code (the first word of msg). */
void worker_count_error(struct worker *w, const char *msg, size_t len);

/* n store_bufs that stay valid until the next call. NULL on ENOMEM. */
struct store_buf *worker_bufs(struct worker *w, size_t n);

#endif /* WORKER_H */
