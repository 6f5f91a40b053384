/*
 * server/coord.h - the quorum coordinator behind kv_run() in a cluster.
 *
 * For each key of an op the coordinator takes the slot's preference list
 * from the ring (N_eff replicas), reads from all of them (RKGET; the local
 * replica directly) and waits for R answers, then runs the op's apply
 * once with the newest records, writes the new records to all replicas
 * (RKPUT; the local one directly) and answers the client after W acks.
 * cluster/quorum.c decides when each key is done; this file does the I/O
 * (so it lives in server/, next to the loops and links it drives, while
 * DESIGN.md places "the quorum coordinator" in cluster/: cluster/ keeps
 * the transport-free state machines it is tested by):
 * peer requests over the worker's links (link.h), the request deadline
 * (cfg request-timeout), read repair writes (blocking at QUORUM and
 * above, background below), and durable hints for replicas that did not
 * ack a write (replayed by handoff.c).
 *
 * A command whose reads cannot all be answered at once is suspended: its
 * arguments are copied, its reply goes to a reply slot of the connection
 * (conn.h keeps pipeline order), and when the reads are done its handler
 * runs again with the records already loaded (x->resume), so handlers and
 * their apply functions stay synchronous and keep their state on the
 * stack. A multi-key command succeeds only if every key reached its
 * quorum; otherwise the client gets the first key's -NOQUORUM error,
 * never a partial answer.
 *
 * Consistency levels (per server: --read-quorum/--write-quorum; per
 * connection: CONSISTENCY) are kept as ints: COORD_ONE, COORD_QUORUM,
 * COORD_ALL, or a positive replica count, counted against N_eff.
 */
#ifndef SRV_COORD_H
#define SRV_COORD_H

#include <stddef.h>

#include "quorum.h"

struct conn;
struct kv_op;
struct srv;
struct worker;

#define COORD_ONE    (-1)
#define COORD_QUORUM (-2)
#define COORD_ALL    (-3)

/* Parse ONE, QUORUM, ALL (any case) or a count 1..QUORUM_MAX_REPLICAS.
 * RK_OK and *level, or RK_ERR. */
int coord_level_parse(const char *p, size_t len, int *level);

/* Replicas the level asks of n_eff (a count above n_eff means all). */
unsigned coord_level_count(int level, unsigned n_eff);

/* "ONE", "QUORUM", "ALL" or the count, into buf. */
void coord_level_name(int level, char *buf, size_t cap);

/* Counters of one worker, summed by INFO (coord_stats()). */
struct coord_stats {
    struct quorum_stats q;
    uint64_t hints_stored;       /* hints written for missed replicas */
    uint64_t hints_failed;       /* hints that could not be stored */
    uint64_t peer_requests;      /* RKGET/RKPUT sent */
    uint64_t peer_failures;      /* of those, failed or timed out */
    uint64_t forwarded;          /* read-modify-writes sent to primaries */
};

/* Parse the quorum settings of s->cfg into s's atomics (at start and
 * after CONFIG SET read-quorum/write-quorum/sloppy-quorum). */
void coord_config_refresh(struct srv *s);

/* 1 when kv ops go through the coordinator (the node has --seeds). */
int coord_active(const struct srv *s);

/* Run op as kv_run() does, through the replicas of its keys. */
int coord_run(struct kv_op *op);

/*
 * Keyspace-wide commands (KEYS, SCAN, DBSIZE, FLUSHALL) ask other members
 * directly. coord_fanout() sends the internal command argv (its name
 * first; the clock is inserted after it) to ring member `only`, or with
 * only == -1 to every ring member but this node, and feeds each reply to
 * merge(arg, reply) (reply NULL: that member failed or timed out). When
 * all have answered, finish(x, arg, answered, asked) writes the client's
 * reply to x->out. The command is suspended meanwhile. arg is owned by
 * the coordinator from the call on and freed with arg_free (may be NULL).
 * Returns RK_OK (an error reply was written when it failed at once).
 */
struct resp_reply;
struct cmd_ctx;
typedef void coord_merge_fn(void *arg, const struct resp_reply *reply);
typedef void coord_finish_fn(struct cmd_ctx *x, void *arg, unsigned answered,
                             unsigned asked);
int coord_fanout(struct cmd_ctx *x, int only, int argc,
                 const struct rk_slice *argv, coord_merge_fn *merge,
                 coord_finish_fn *finish, void *arg,
                 void (*arg_free)(void *));

/*
 * The ring the worker routes by and this node's index in it (-1: not a
 * member); NULL when there is none. Valid until the worker's next op.
 */
struct ring;
const struct ring *coord_ring(struct worker *w, int *self);

/*
 * The arg of the kv op a suspended command was running (its handler runs
 * again with x->resume set; kv.h, arg_free).
 */
struct coord_op;
void *coord_resume_arg(const struct coord_op *op);

/*
 * 1 when the command argv must wait for a command of c still in flight:
 * it names one of its keys, or it may touch any key (EXEC, keyspace-wide
 * commands). So one client's commands run in the order it sent them (a
 * pipelined GET after an INCR sees the increment), while commands on
 * other keys go on meanwhile.
 */
struct rk_slice;
int coord_conn_conflicts(const struct conn *c, int argc,
                         const struct rk_slice *argv);

/* Retry the writes whose keys were released (the worker's wake). */
void coord_wakeups(struct worker *w);

/* c is closing: its suspended commands finish without it. */
void coord_conn_gone(struct conn *c);

/* Free the worker's coordinator state (the worker is stopping). */
void coord_destroy(struct worker *w);

/* Sum of every worker's counters (racy reads; for INFO). */
void coord_stats(struct srv *s, struct coord_stats *out);

#endif /* SRV_COORD_H */
