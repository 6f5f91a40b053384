/*
 * server/kv.h - the one narrow, asynchronous way a command reaches data.
 *
 * A handler describes a read-modify-write over a set of keys (struct
 * kv_op): which keys, whether it needs their current records, and an apply
 * function. kv_run() loads the current records (locally, or later from a
 * read quorum), calls apply once with them, writes what apply asked for
 * (locally, or to a write quorum) and then completes. apply writes the
 * reply; when the op cannot complete (no quorum) the reply apply wrote is
 * replaced by the error. On a single node every op completes inside
 * kv_run(); the cluster coordinator completes it later, and the connection
 * keeps pipeline order with a reply slot, so handlers never know which.
 *
 * Reads are isolated per key; a writing op holds the stripe locks of all
 * its keys from load to write, so read-modify-write commands are atomic on
 * this node (across coordinators: redis-compat.md).
 */
#ifndef KV_H
#define KV_H

#include <stddef.h>
#include <stdint.h>

#include "rk.h"
#include "store.h"

struct cmd_ctx;
struct kv_op;

typedef void kv_apply_fn(struct kv_op *op);

/* One key of an op. */
struct kv_key {
    struct rk_slice key;       /* borrowed: must outlive the op */
    uint16_t slot;
    /* Filled by kv_run() before apply (unless KV_BLIND): */
    int exists;                /* a live record (not deleted, not expired) */
    struct store_record old;   /* the record when it exists */
    /* Set by apply: */
    unsigned write : 1;        /* write new */
    unsigned del : 1;          /* write a tombstone */
    struct store_record new;   /* value/expire_ms/type; version is set by kv */
    char *owned;               /* malloc'd bytes new.value may point into;
                                * kv frees it after the write */
};

#define KV_WRITE (1u << 0)     /* apply may write: take the key locks */
#define KV_BLIND (1u << 1)     /* do not load current records */
#define KV_HERE  (1u << 2)     /* coordinate on this node: the command
                                * cannot be sent on as it is (EXEC runs
                                * a queue this connection holds) */

struct kv_op {
    struct cmd_ctx *x;
    unsigned flags;            /* KV_* */
    size_t nkeys;
    struct kv_key *keys;
    kv_apply_fn *apply;
    void *arg;                 /* for apply */
    void (*arg_free)(void *);  /* when set, the coordinator takes arg
                                * along if it suspends the op, and frees
                                * it with this when the op ends */
    int64_t now_ms;            /* the op's clock for expiry decisions */
};

/*
 * Run op. Returns RK_OK when the op completed (its reply is written) or was
 * accepted to complete later; RK_ENOMEM or RK_ERR when it failed at once
 * (an error reply has been written then).
 */
int kv_run(struct kv_op *op);

/*
 * Prepare op over keys[0..n) (cleared here) with apply and arg; now_ms is
 * the current time.
 */
void kv_op_init(struct kv_op *op, struct cmd_ctx *x, unsigned flags,
                struct kv_key *keys, size_t n, kv_apply_fn *apply,
                void *arg);

/* Run a one-key op on argv[1], the key of most commands. As kv_run(). */
int kv_run_key1(struct cmd_ctx *x, unsigned flags, kv_apply_fn *apply,
                void *arg);

/*
 * Run an op whose keys are argv[first], argv[first + step], ... up to the
 * last argument (DEL and MGET: 1, 1; MSET: 1, 2). The keys live on the
 * stack up to KV_STACK_KEYS, then in one allocation (an OOM error reply
 * when that fails). As kv_run().
 */
#define KV_STACK_KEYS 16
int kv_run_args(struct cmd_ctx *x, unsigned flags, int first, int step,
                kv_apply_fn *apply, void *arg);

/*
 * Inside a cluster transaction (x->overlay): run op against the
 * transaction's records instead of the replicas. Every key of op must be
 * one of the overlay's keys; op's writes update the overlay, which EXEC
 * writes to the replicas at the end. As kv_run().
 */
int kv_run_overlay(struct kv_op *op);

/* Set key i of op from argv[argi] (slot computed here). */
void kv_key_from_arg(struct kv_op *op, size_t i, const struct rk_slice *arg);

/*
 * Store rec at (slot, key) on this node unless an equal or newer version
 * is there (last write wins), under the key's stripe lock; the worker
 * commits it before its next replies. RK_OK (stored or older), RK_ERR,
 * RK_ENOMEM. For records written elsewhere: peers' writes, read repair,
 * the coordinator's own replica.
 */
struct worker;
int kv_apply_record(struct worker *w, uint16_t slot, const char *key,
                    size_t klen, const struct store_record *rec);

/* Count a read-only command's key lookup in INFO's keyspace_hits (hit)
 * or keyspace_misses; the coordinator calls it once the read quorum
 * decided. */
void kv_count_lookup(struct worker *w, int hit);

/*
 * Keyspace-wide operations (single node: this store; cluster: every node).
 * kv_flush() deletes everything; kv_commit_all() makes the worker's own
 * writes visible to iteration (SCAN, KEYS, DBSIZE, RANDOMKEY).
 */
int kv_flush(struct cmd_ctx *x);
void kv_commit_all(struct cmd_ctx *x);

#endif /* KV_H */
