/*
 * server/coord_internal.h - what the quorum coordinator's three files
 * share; nothing outside them includes it (the public API is coord.h).
 *
 *   coord.c          an op's life (create, time, suspend into a reply
 *                    slot, answer, free), peer requests and their
 *                    replies, key locks, coord_op_progress(), and the
 *                    entry points of coord.h;
 *   coord_rw.c       the quorum phases: reads, apply and writes, read
 *                    repair, hints;
 *   coord_forward.c  read-modify-writes forwarded to the key's primary,
 *                    and coord_fanout().
 *
 * Everything here runs on the op's worker thread, except the wake list
 * of struct coord (wake_mu). An op is owned by its worker's list
 * (coord->ops) from coord_op_new() until coord_op_free(); the functions
 * below borrow it and none of them frees it unless it says so.
 */
#ifndef SRV_COORD_INTERNAL_H
#define SRV_COORD_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "coord.h"
#include "keylock.h"
#include "quorum.h"
#include "resp.h"

struct cmd_ctx;
struct cmd_def;
struct conn;
struct conn_slot;
struct kv_op;
struct link;
struct resp_reply;
struct ring;
struct rk_slice;
struct srv;
struct srv_topology;
struct worker;

enum coord_phase {
    PH_LOCK = 0,    /* waiting for a key another write holds */
    PH_READ,        /* waiting for read quorums */
    PH_WRITE,       /* waiting for write quorums */
    PH_FANOUT,      /* waiting for every member asked (coord_fanout()) */
    PH_DONE         /* the client has its answer */
};

/* What a peer request is for; its reply is handled accordingly. */
enum coord_req_kind { REQ_READ, REQ_WRITE, REQ_REPAIR, REQ_FANOUT };

/* One key of a coordinated op. */
struct coord_key {
    uint16_t slot;
    const char *key;            /* into op->keymem */
    size_t klen;
    const uint16_t *pref;       /* preference list, owned by the ring */
    unsigned n;
    uint16_t order[QUORUM_MAX_REPLICAS]; /* pref, this node first: the
                                 * order replicas are asked to read */
    unsigned asked;             /* reads sent (order[0..asked)) */
    unsigned rfailed;           /* of those, failed */
    struct quorum_read rd;
    struct quorum_write wr;
    unsigned rd_init : 1;
    unsigned wr_init : 1;
    char *enc;                  /* the record written, encoded */
    size_t enclen;
};

struct coord_op {
    struct worker *w;
    struct conn *c;             /* NULL once the client left */
    struct conn_slot *slot;     /* the reply, once suspended */
    struct coord_op *cnext;     /* c->ops */
    struct coord_op *cprev;
    struct coord_op *wnext;     /* the worker's ops */
    struct coord_op *wprev;
    struct srv_topology *topo;  /* a reference */
    const struct ring *ring;
    int self;                   /* ring index of this node, or -1 */
    enum coord_phase phase;
    unsigned suspended : 1;     /* the reply goes to slot */
    unsigned speculated : 1;    /* reads went to every replica */
    unsigned in_progress : 1;   /* coord_op_progress() is on the stack */
    unsigned outstanding;       /* peer requests in flight */
    ev_timer timer;             /* the client's deadline */
    int64_t start_ms;           /* monotonic */
    int64_t deadline_ms;
    int rlevel;
    int wlevel;
    const struct cmd_def *cmd;  /* to run the handler again */
    const struct cmd_def *parent;
    int argc;
    struct rk_slice *argv;      /* copies, in argmem */
    char *argmem;
    char *keymem;
    size_t nkeys;
    struct coord_key *keys;
    void *arg;                  /* the kv op's arg, owned once suspended */
    void (*arg_free)(void *);
    void *pending_arg;          /* the same, until it is suspended */
    void (*pending_free)(void *);
    coord_merge_fn *merge;      /* fanout: each member's reply */
    coord_finish_fn *finish;    /* fanout: the client's reply */
    unsigned fan_asked;
    unsigned fan_answered;
    unsigned fan_done;          /* answered or failed */
    uint64_t *locks;            /* keylock names of a write's keys */
    size_t nlocks;
    unsigned locked : 1;        /* locks are held */
    unsigned blind : 1;         /* KV_BLIND: no reads before apply */
    unsigned wake_queued : 1;   /* on the worker's wake list (wake_mu) */
    struct keylock_waiter waiter;
    struct coord_op *wake_next;
    unsigned forward : 1;       /* a client command sent to the primary */
    struct resp_buf fwd_reply;  /* the primary's reply, re-encoded */
};

/* Per worker. */
struct coord {
    struct coord_stats stats;
    struct srv_topology *topo;
    uint64_t topo_gen;
    struct coord_op *ops;
    unsigned stopping : 1;
    pthread_mutex_t wake_mu;    /* guards the wake list (any thread) */
    struct coord_op *wake_head; /* ops whose key was released */
    struct coord_op *wake_tail;
};

/* ---- coord.c: worker state and the op's life --------------------------- */

/* The worker's coordinator state, created on first use; NULL when memory
 * runs out. Freed by coord_destroy(). */
struct coord *coord_of(struct worker *w);

/* After a suspended op's late reply went into x (coord_late_ctx()): an
 * error there counts its command as failed in INFO commandstats. */
void coord_late_done(const struct coord_op *op, const struct cmd_ctx *x);

/* The worker's reference to the current topology (co's, refreshed when
 * the main thread published a new one); NULL when there is none. */
struct srv_topology *coord_current_topology(struct worker *w,
                                            struct coord *co);

/* A new op on co's list for kv op kop (its keys, their preference lists
 * in topo, the levels and the deadline), phase PH_LOCK; NULL when memory
 * runs out. Freed by coord_op_progress() once done and idle, or by
 * coord_op_free() before anything was sent. */
struct coord_op *coord_op_new(struct coord *co, struct srv_topology *topo,
                              struct kv_op *kop);

/* Unlink op from its worker and connection and free it and what it owns. */
void coord_op_free(struct coord_op *op);

/* Copy x's arguments into op, so its handler can run again later.
 * RK_OK or RK_ENOMEM. */
int coord_op_copy_args(struct coord_op *op, const struct cmd_ctx *x);

/* Move the reply x wrote since mark into a reply slot of x's connection
 * and link op to it; op's timer starts. RK_OK or RK_ENOMEM. */
int coord_op_suspend(struct coord_op *op, struct cmd_ctx *x, size_t mark);

/* Fill *x to write a late reply into the slot of suspended op. */
void coord_late_ctx(struct coord_op *op, struct cmd_ctx *x);

/* Detach op from its connection (the client left, or has its answer). */
void coord_op_unlink_conn(struct coord_op *op);

/* Send argv on l (may be NULL) as op's request of kind (enum
 * coord_req_kind) about key ki to ring member idx; the reply goes to
 * coord.c's dispatch. RK_OK, or RK_ERR when it was refused. */
int coord_op_send(struct coord_op *op, struct link *l, int argc,
                  const struct rk_slice *argv, size_t ki, uint16_t idx,
                  int kind);

/* Observe the peer clock a reply (integer r) carries. */
void coord_observe_reply_clock(struct srv *s, const struct resp_reply *r);

/* After any event: move op on, answer its client, free it when idle (op
 * may be gone on return). */
void coord_op_progress(struct coord_op *op);

/* The end of starting op for x (op may be gone on return). RK_OK. */
int coord_op_started(struct coord_op *op, struct cmd_ctx *x);

/* ---- coord_rw.c: the quorum phases -------------------------------------- */

/* Replica idx of key k failed a request of this kind. */
void coord_req_failed(struct coord_op *op, struct coord_key *k,
                      uint16_t idx, int kind);

/* Ask replicas of key ki to read until R (all: every one) are answering
 * or answered. */
void coord_ensure_reads(struct coord_op *op, size_t ki, int all);

/* Start every key's read quorum (and the read repairs it already
 * knows). */
void coord_start_reads(struct coord_op *op);

/* Combined state of every key's read (write); *failed is the key that
 * failed on QUORUM_DONE_FAIL. */
enum quorum_state coord_reads_state(struct coord_op *op, size_t *failed);
enum quorum_state coord_writes_state(struct coord_op *op, size_t *failed);

/* Fill kop's keys with the records the reads returned. */
void coord_fill_keys(struct coord_op *op, struct kv_op *kop);

/* Run kop's apply and start its writes; the reply goes to kop->x->out
 * (replaced by an error when a write quorum fails). RK_OK. */
int coord_apply_and_write(struct coord_op *op, struct kv_op *kop);

/* Send the read repairs the reads asked for so far. */
void coord_send_repairs(struct coord_op *op);

/* Store hints for the replicas the writes gave up on so far. */
void coord_store_hints(struct coord_op *op);

/* ---- coord_forward.c: forwarding and fan-out ---------------------------- */

/* A fan-out member (or the forwarding primary) answered r, or failed
 * (r NULL): count it and pass it to op->merge. */
void coord_fanout_reply(struct coord_op *op, const struct resp_reply *r);

/* The primary did not answer op: run its command again here, into the
 * same reply slot (op is done afterwards). */
void coord_forward_fallback(struct coord_op *op);

/* The ring member to forward kop to, or -1 to coordinate it here. */
int coord_forward_target(struct cmd_ctx *x, struct kv_op *kop,
                         struct srv_topology *topo);

/* Send x's command to ring member primary; returns what coord_run()
 * returns (it falls back to coord_run() here when it cannot send). */
int coord_forward_run(struct cmd_ctx *x, struct coord *co,
                      struct srv_topology *topo, struct kv_op *kop,
                      int primary);

#endif /* SRV_COORD_INTERNAL_H */
