/*
 * server/coord.c - the quorum coordinator: kv ops over the replicas of
 * their keys. See coord.h; the quorum rules are cluster/quorum.h's.
 */
#include "coord.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ev.h>

#include "command.h"
#include "conn.h"
#include "keylock.h"
#include "kv.h"
#include "link.h"
#include "peer.h"
#include "reader.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

enum coord_phase {
    PH_LOCK = 0,    /* waiting for a key another write holds */
    PH_READ,        /* waiting for read quorums */
    PH_WRITE,       /* waiting for write quorums */
    PH_FANOUT,      /* waiting for every member asked (coord_fanout()) */
    PH_DONE         /* the client has its answer */
};

/* A read still waiting after request-timeout / this asks every replica. */
#define COORD_SPECULATE_DIV 20

enum req_kind { REQ_READ, REQ_WRITE, REQ_REPAIR, REQ_FANOUT };

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
    unsigned in_progress : 1;   /* op_progress() is on the stack */
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

struct coord_req {
    struct coord_op *op;
    uint32_t key;
    uint16_t replica;
    uint8_t kind;               /* enum req_kind */
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

static void op_progress(struct coord_op *op);
static void forward_fallback(struct coord_op *op);
static int op_started(struct coord_op *op, struct cmd_ctx *x);
static void ensure_reads(struct coord_op *op, size_t ki, int all);
static void late_ctx(struct coord_op *op, struct cmd_ctx *x);
static void op_answer_ok(struct coord_op *op);

/* ---- levels ------------------------------------------------------------ */

int
coord_level_parse(const char *p, size_t len, int *level)
{
    long long v;

    if (len == 3 && strncasecmp(p, "one", 3) == 0) {
        *level = COORD_ONE;
    } else if (len == 6 && strncasecmp(p, "quorum", 6) == 0) {
        *level = COORD_QUORUM;
    } else if (len == 3 && strncasecmp(p, "all", 3) == 0) {
        *level = COORD_ALL;
    } else if (len > 0 && p[0] != '-' && p[0] != '+' &&
               resp_str2ll(p, len, &v) && v >= 1 &&
               v <= QUORUM_MAX_REPLICAS) {
        *level = (int)v;
    } else {
        return RK_ERR;
    }
    return RK_OK;
}

unsigned
coord_level_count(int level, unsigned n)
{
    switch (level) {
    case COORD_ONE:
        return 1;
    case COORD_ALL:
        return n;
    case COORD_QUORUM:
        return n / 2 + 1;
    default:
        return level > 0 && (unsigned)level < n ? (unsigned)level : n;
    }
}

void
coord_level_name(int level, char *buf, size_t cap)
{
    switch (level) {
    case COORD_ONE:
        snprintf(buf, cap, "ONE");
        break;
    case COORD_QUORUM:
        snprintf(buf, cap, "QUORUM");
        break;
    case COORD_ALL:
        snprintf(buf, cap, "ALL");
        break;
    default:
        snprintf(buf, cap, "%d", level);
        break;
    }
}

void
coord_config_refresh(struct srv *s)
{
    int r = COORD_QUORUM;
    int w = COORD_QUORUM;

    pthread_mutex_lock(&s->cfg.lock);
    coord_level_parse(s->cfg.read_quorum, strlen(s->cfg.read_quorum), &r);
    coord_level_parse(s->cfg.write_quorum, strlen(s->cfg.write_quorum), &w);
    atomic_store(&s->sloppy_quorum, strcmp(s->cfg.sloppy_quorum, "yes") == 0);
    atomic_store(&s->rmw_forward, strcmp(s->cfg.forward_writes, "yes") == 0);
    pthread_mutex_unlock(&s->cfg.lock);
    atomic_store(&s->read_level, r);
    atomic_store(&s->write_level, w);
}

int
coord_active(const struct srv *s)
{
    return s->cluster_enabled;
}

/* ---- worker state ------------------------------------------------------ */

static long long
mono_ms(void)
{
    return srv_monotonic_us() / 1000;
}

static struct coord *
coord_of(struct worker *w)
{
    if (w->coord == NULL) {
        struct coord *co = calloc(1, sizeof(*co));

        if (co != NULL) {
            pthread_mutex_init(&co->wake_mu, NULL);
        }
        w->coord = co;
    }
    return w->coord;
}

/* The worker's reference to the current topology, refreshed when the
 * main thread published a new one. */
static struct srv_topology *
current_topology(struct worker *w, struct coord *co)
{
    struct srv *s = w->srv;
    uint64_t gen = atomic_load(&s->topology_gen);

    if (co->topo == NULL || co->topo_gen != gen) {
        struct srv_topology *t = srv_topology_acquire(s);

        if (t != NULL) {
            srv_topology_release(co->topo);
            co->topo = t;
            co->topo_gen = gen;
        }
    }
    return co->topo;
}

void
coord_stats(struct srv *s, struct coord_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < s->nworkers; i++) {
        const struct coord *co = s->workers[i]->coord;

        if (co == NULL) {
            continue;
        }
        quorum_stats_add(&out->q, &co->stats.q);
        out->hints_stored += co->stats.hints_stored;
        out->hints_failed += co->stats.hints_failed;
        out->peer_requests += co->stats.peer_requests;
        out->peer_failures += co->stats.peer_failures;
        out->forwarded += co->stats.forwarded;
    }
}

/* ---- op lifetime ------------------------------------------------------- */

static void
op_unlink_conn(struct coord_op *op)
{
    if (op->c == NULL) {
        return;
    }
    if (op->cprev != NULL) {
        op->cprev->cnext = op->cnext;
    } else {
        op->c->ops = op->cnext;
    }
    if (op->cnext != NULL) {
        op->cnext->cprev = op->cprev;
    }
    op->c = NULL;
    op->slot = NULL;
}

static void
op_free(struct coord_op *op)
{
    struct coord *co = op->w->coord;

    ev_timer_stop(op->w->loop, &op->timer);
    op_unlink_conn(op);
    if (op->wprev != NULL) {
        op->wprev->wnext = op->wnext;
    } else {
        co->ops = op->wnext;
    }
    if (op->wnext != NULL) {
        op->wnext->wprev = op->wprev;
    }
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        if (k->rd_init) {
            quorum_read_deinit(&k->rd);
        }
        if (k->wr_init) {
            quorum_write_deinit(&k->wr);
        }
        free(k->enc);
    }
    if (op->locked && !co->stopping) {
        keylock_release(op->w->srv->keylocks, op->locks, op->nlocks);
    }
    free(op->locks);
    if (op->forward) {
        resp_buf_deinit(&op->fwd_reply);
    }
    if (op->arg_free != NULL) {
        op->arg_free(op->arg);
    }
    srv_topology_release(op->topo);
    free(op->keys);
    free(op->keymem);
    free(op->argmem);
    free(op);
}

/* Arm the op's timer: the speculative read first, then the deadline. */
static void
op_arm(struct coord_op *op)
{
    int64_t at = op->deadline_ms;
    double after;

    if (op->phase == PH_READ && !op->speculated) {
        int64_t spec = op->w->srv->cfg.request_timeout / COORD_SPECULATE_DIV;

        at = op->start_ms + (spec > 0 ? spec : 1);
    }
    after = (double)(at - mono_ms()) / 1000.0;
    ev_timer_stop(op->w->loop, &op->timer);
    ev_timer_set(&op->timer, after > 0.001 ? after : 0.001, 0.0);
    ev_timer_start(op->w->loop, &op->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct coord_op *op = t->data;
    int64_t now = mono_ms();

    (void)loop;
    (void)revents;
    if (op->phase == PH_READ && !op->speculated && now < op->deadline_ms) {
        /* A replica asked is slow (paused, overloaded, or its failure
         * not seen yet): ask the others too, as Cassandra's speculative
         * retry does, instead of waiting for the deadline. */
        op->speculated = 1;
        op->in_progress = 1;
        for (size_t i = 0; i < op->nkeys; i++) {
            struct coord_key *k = &op->keys[i];

            if (k->rd_init &&
                quorum_read_state(&k->rd) == QUORUM_PENDING) {
                ensure_reads(op, i, 1);
            }
        }
        op->in_progress = 0;
        op_arm(op);
        op_progress(op);
        return;
    }
    if (now < op->deadline_ms) {
        /* Woken for a speculation the op no longer needs. */
        op_arm(op);
        return;
    }
    if (op->phase == PH_FANOUT && op->forward) {
        /* The primary is silent: its reply, if it comes, is ignored. */
        op->fan_done = op->fan_asked;
        if (op->c != NULL) {
            forward_fallback(op);
        }
        op_progress(op);
        return;
    }
    if (op->phase == PH_FANOUT && op->c != NULL) {
        struct cmd_ctx x;

        /* Members still silent count as failed. */
        while (op->fan_done < op->fan_asked) {
            op->fan_done++;
            op->merge(op->arg, NULL);
        }
        late_ctx(op, &x);
        op->finish(&x, op->arg, op->fan_answered, op->fan_asked);
        op_answer_ok(op);
    }
    for (size_t i = 0; i < op->nkeys; i++) {
        if (op->keys[i].rd_init) {
            quorum_read_timeout(&op->keys[i].rd, now);
        }
        if (op->keys[i].wr_init) {
            quorum_write_timeout(&op->keys[i].wr, now);
        }
    }
    op_progress(op);
}

/*
 * A new op for kv op kop: the keys and their preference lists; NULL when
 * memory runs out.
 */
static struct coord_op *
op_new(struct coord *co, struct srv_topology *topo, struct kv_op *kop)
{
    struct cmd_ctx *x = kop->x;
    struct srv *s = x->srv;
    struct coord_op *op = calloc(1, sizeof(*op));
    size_t bytes = 0;
    char *p;

    if (op == NULL) {
        return NULL;
    }
    op->w = x->w;
    op->ring = srv_topology_ring(topo);
    op->self = srv_topology_self(topo);
    op->nkeys = kop->nkeys;
    op->keys = calloc(kop->nkeys > 0 ? kop->nkeys : 1, sizeof(*op->keys));
    for (size_t i = 0; i < kop->nkeys; i++) {
        bytes += kop->keys[i].key.len;
    }
    op->keymem = malloc(bytes + 1);
    if (op->keys == NULL || op->keymem == NULL) {
        free(op->keys);
        free(op->keymem);
        free(op);
        return NULL;
    }
    op->topo = topo;
    srv_topology_ref(topo);
    p = op->keymem;
    for (size_t i = 0; i < kop->nkeys; i++) {
        struct coord_key *k = &op->keys[i];

        memcpy(p, kop->keys[i].key.ptr, kop->keys[i].key.len);
        k->key = p;
        k->klen = kop->keys[i].key.len;
        p += k->klen;
        k->slot = kop->keys[i].slot;
        k->pref = ring_preference(op->ring, k->slot);
        k->n = ring_replicas(op->ring);
    }
    op->rlevel = x->c->read_level != 0 ? x->c->read_level
                                       : atomic_load(&s->read_level);
    op->wlevel = x->c->write_level != 0 ? x->c->write_level
                                        : atomic_load(&s->write_level);
    op->start_ms = mono_ms();
    op->deadline_ms = op->start_ms + s->cfg.request_timeout;
    op->cmd = x->cmd;
    op->parent = x->parent;
    ev_init(&op->timer, timer_cb);
    op->timer.data = op;
    op->wnext = co->ops;
    if (co->ops != NULL) {
        co->ops->wprev = op;
    }
    co->ops = op;
    return op;
}

/* Copy the command's arguments so its handler can run again later. */
static int
op_copy_args(struct coord_op *op, const struct cmd_ctx *x)
{
    size_t bytes = 0;
    char *p;

    for (int i = 0; i < x->argc; i++) {
        bytes += x->argv[i].len;
    }
    op->argmem = malloc(sizeof(struct rk_slice) * (size_t)x->argc + bytes +
                        1);
    if (op->argmem == NULL) {
        return RK_ENOMEM;
    }
    op->argv = (struct rk_slice *)(void *)op->argmem;
    op->argc = x->argc;
    p = op->argmem + sizeof(struct rk_slice) * (size_t)x->argc;
    for (int i = 0; i < x->argc; i++) {
        memcpy(p, x->argv[i].ptr, x->argv[i].len);
        op->argv[i].ptr = p;
        op->argv[i].len = x->argv[i].len;
        p += x->argv[i].len;
    }
    return RK_OK;
}

/*
 * Move the reply written since mark into a reply slot of the connection,
 * so that it is sent when the op completes. RK_OK or RK_ENOMEM.
 */
static int
op_suspend(struct coord_op *op, struct cmd_ctx *x, size_t mark)
{
    struct conn *c = x->c;

    if (x->slot == NULL) {
        struct conn_slot *slot = conn_slot_open(c);
        struct resp_buf *from = x->out;

        if (slot == NULL) {
            return RK_ENOMEM;
        }
        /* From here on the dispatcher completes the slot, with the
         * caller's error reply if this fails. */
        x->slot = slot;
        x->out = &slot->buf;
        if (from->len > mark &&
            resp_add_raw(&slot->buf, from->ptr + mark,
                         from->len - mark) != RK_OK) {
            from->len = mark;
            return RK_ENOMEM;
        }
        from->len = mark;
    }
    x->suspended = 1;
    op->slot = x->slot;
    if (x->resume == NULL && op->pending_free != NULL) {
        /* The caller's arg is the op's now (kv.h, arg_free). */
        op->arg = op->pending_arg;
        op->arg_free = op->pending_free;
        op->pending_free = NULL;
    }
    op->suspended = 1;
    op->c = c;
    op->cnext = c->ops;
    op->cprev = NULL;
    if (c->ops != NULL) {
        c->ops->cprev = op;
    }
    c->ops = op;
    if (!ev_is_active(&op->timer)) {
        op_arm(op);
    }
    return RK_OK;
}

/* A context to write a late reply into the op's slot. */
static void
late_ctx(struct coord_op *op, struct cmd_ctx *x)
{
    memset(x, 0, sizeof(*x));
    x->srv = op->w->srv;
    x->w = op->w;
    x->c = op->c;
    x->cmd = op->cmd;
    x->parent = op->parent;
    x->out = &op->slot->buf;
}

/* The op's client has its answer: commands that waited for it may run. */
static void
op_answered(struct coord_op *op)
{
    struct conn *c = op->c;

    conn_slot_done(c, op->slot);
    op_unlink_conn(op);
    if (c->deferred != NULL) {
        cmd_run_deferred(c);
    }
}

/* Answer a suspended op's client with an error instead of its reply. */
static void
op_answer_error(struct coord_op *op, const char *msg)
{
    struct cmd_ctx x;

    op->phase = PH_DONE;
    ev_timer_stop(op->w->loop, &op->timer);
    if (op->c == NULL || !op->suspended) {
        return;
    }
    late_ctx(op, &x);
    op->slot->buf.len = 0;
    reply_error(&x, msg);
    op_answered(op);
}

/* Send a suspended op's reply (already in its slot). */
static void
op_answer_ok(struct coord_op *op)
{
    op->phase = PH_DONE;
    ev_timer_stop(op->w->loop, &op->timer);
    if (op->c == NULL || !op->suspended) {
        return;
    }
    op_answered(op);
}

/* ---- peer requests ----------------------------------------------------- */

static void on_reply(void *arg, const struct resp_reply *r);
static void local_read(struct coord_op *op, struct coord_key *k);

/* Report that replica idx of key k failed a request of this kind. */
static void
req_failed(struct coord_op *op, struct coord_key *k, uint16_t idx,
           int kind)
{
    switch (kind) {
    case REQ_READ:
        quorum_read_fail(&k->rd, idx);
        k->rfailed++;
        break;
    case REQ_REPAIR:
        quorum_read_repair_fail(&k->rd, idx);
        break;
    default:
        quorum_write_fail(&k->wr, idx);
        break;
    }
    (void)op;
}

/*
 * Send argv on l as op's request of kind about key ki to ring member idx;
 * its reply comes to on_reply(). RK_OK when it is on its way, RK_ERR when
 * it was refused (no link, out of memory, link backing off).
 */
static int
op_send(struct coord_op *op, struct link *l, int argc,
        const struct rk_slice *argv, size_t ki, uint16_t idx, int kind)
{
    struct coord_req *req;

    op->w->coord->stats.peer_requests++;
    req = l != NULL ? malloc(sizeof(*req)) : NULL;
    if (req == NULL) {
        return RK_ERR;
    }
    *req = (struct coord_req){ .op = op, .key = (uint32_t)ki,
                               .replica = idx, .kind = (uint8_t)kind };
    if (link_send(l, argc, argv, on_reply, req) != RK_OK) {
        free(req);
        return RK_ERR;
    }
    op->outstanding++;
    return RK_OK;
}

/* Send one request to replica idx; a refused send is a failure at once. */
static void
req_send(struct coord_op *op, size_t ki, uint16_t idx, int kind)
{
    struct coord *co = op->w->coord;
    struct coord_key *k = &op->keys[ki];
    struct rk_slice argv[5];
    char clock[SRV_CLOCK_TEXT];
    char slot[8];
    int argc;

    snprintf(slot, sizeof(slot), "%u", (unsigned)k->slot);
    argv[1] = srv_clock_text(op->w->srv, clock);
    argv[2] = (struct rk_slice){ slot, strlen(slot) };
    argv[3] = (struct rk_slice){ k->key, k->klen };
    if (kind == REQ_READ) {
        argv[0] = (struct rk_slice){ "RKGET", 5 };
        argc = 4;
    } else {
        struct rk_slice enc;

        argv[0] = (struct rk_slice){ "RKPUT", 5 };
        if (kind == REQ_WRITE) {
            enc = (struct rk_slice){ k->enc, k->enclen };
        } else if (quorum_read_result(&k->rd, NULL, &enc) != 1) {
            req_failed(op, k, idx, kind);
            return;
        }
        argv[4] = enc;
        argc = 5;
    }
    if (op_send(op, link_get(op->w, srv_topology_addr(op->topo, idx)), argc,
                argv, ki, idx, kind) != RK_OK) {
        co->stats.peer_failures++;
        req_failed(op, k, idx, kind);
    }
}

/* The first element of a reply carries the peer's clock. */
static void
observe_reply_clock(struct srv *s, const struct resp_reply *r)
{
    if (r->type == RESP_REPLY_INTEGER && r->integer > 0) {
        store_clock_observe(&s->clock, (uint64_t)r->integer);
    }
}

/*
 * A forwarded command's error reply is the command's own (a WRONGTYPE, a
 * value that is not an integer, a missed quorum), except when the
 * primary could not run it: not ready yet, or a peer that does not know
 * RKCMD. Then the command is coordinated here instead.
 */
static int
forward_error_is_reply(const struct resp_reply *r)
{
    static const char *const refusals[] = {
        "CLUSTERDOWN", "ERR unknown internal command", "ERR bad RKCMD"
    };

    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        size_t n = strlen(refusals[i]);

        if (r->str.len >= n && memcmp(r->str.ptr, refusals[i], n) == 0) {
            return 0;
        }
    }
    return 1;
}

/* A fanout member answered (r) or failed (NULL). */
static void
fanout_reply(struct coord_op *op, const struct resp_reply *r)
{
    struct srv *s = op->w->srv;

    op->fan_done++;
    if (r != NULL && (r->type != RESP_REPLY_ERROR ||
                      (op->forward && forward_error_is_reply(r)))) {
        if (r->type == RESP_REPLY_ARRAY && r->n > 0) {
            observe_reply_clock(s, &r->elem[0]);
        } else {
            observe_reply_clock(s, r);
        }
        op->fan_answered++;
        op->merge(op->arg, r);
    } else {
        op->w->coord->stats.peer_failures++;
        op->merge(op->arg, NULL);
    }
}

static void
on_reply(void *arg, const struct resp_reply *r)
{
    struct coord_req *req = arg;
    struct coord_op *op = req->op;
    struct coord_key *k;

    if (req->kind == REQ_FANOUT) {
        free(req);
        op->outstanding--;
        if (!op->w->coord->stopping && op->phase == PH_FANOUT) {
            fanout_reply(op, r);
        }
        op_progress(op);
        return;
    }
    k = &op->keys[req->key];
    struct srv *s = op->w->srv;
    int kind = req->kind;
    uint16_t idx = req->replica;
    int ok = 0;

    free(req);
    op->outstanding--;
    if (op->w->coord->stopping) {
        if (op->outstanding == 0 && op->phase == PH_DONE) {
            op_free(op);
        }
        return;
    }
    if (r != NULL && kind == REQ_READ && r->type == RESP_REPLY_ARRAY &&
        r->n == 2) {
        struct store_record rec;

        observe_reply_clock(s, &r->elem[0]);
        if (r->elem[1].type == RESP_REPLY_NIL) {
            ok = quorum_read_answer(&k->rd, idx, 0, NULL) >= 0;
        } else if (r->elem[1].type == RESP_REPLY_BULK &&
                   store_record_decode(r->elem[1].str.ptr,
                                       r->elem[1].str.len, &rec) == RK_OK) {
            store_clock_observe(&s->clock, rec.version);
            ok = quorum_read_answer(&k->rd, idx, 1, &rec) >= 0;
        }
    } else if (r != NULL && kind != REQ_READ &&
               r->type == RESP_REPLY_INTEGER) {
        observe_reply_clock(s, r);
        if (kind == REQ_WRITE) {
            quorum_write_ack(&k->wr, idx);
        } else {
            quorum_read_repair_ack(&k->rd, idx);
        }
        ok = 1;
    }
    if (!ok) {
        op->w->coord->stats.peer_failures++;
        req_failed(op, k, idx, kind);
        if (kind == REQ_READ) {
            ensure_reads(op, (size_t)(k - op->keys), op->speculated);
        }
    }
    op_progress(op);
}

/* ---- the local replica ------------------------------------------------- */

static void
local_read(struct coord_op *op, struct coord_key *k)
{
    struct srv *s = op->w->srv;
    struct store_buf *buf = worker_bufs(op->w, 1);
    struct store_record rec;
    int r = buf != NULL ? store_get(s->store, k->slot, k->key, k->klen, buf,
                                    &rec)
                        : RK_ENOMEM;

    if (r < 0 || quorum_read_answer(&k->rd, (uint16_t)op->self, r == 1,
                                    r == 1 ? &rec : NULL) < 0) {
        quorum_read_fail(&k->rd, (uint16_t)op->self);
        k->rfailed++;
    }
}

/* Write the encoded record enc locally; RK_OK when it is stored. */
static int
local_write(struct coord_op *op, struct coord_key *k, const char *enc,
            size_t len)
{
    struct store_record rec;

    if (store_record_decode(enc, len, &rec) != RK_OK) {
        return RK_ERR;
    }
    return kv_apply_record(op->w, k->slot, k->key, k->klen, &rec);
}

/* ---- read repair and hints --------------------------------------------- */

static void
send_repairs(struct coord_op *op)
{
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        uint16_t idx[QUORUM_MAX_REPLICAS];
        size_t n;

        if (!k->rd_init) {
            continue;
        }
        n = quorum_read_take_repairs(&k->rd, idx, QUORUM_MAX_REPLICAS);
        for (size_t j = 0; j < n; j++) {
            if ((int)idx[j] == op->self) {
                struct rk_slice enc;

                if (quorum_read_result(&k->rd, NULL, &enc) == 1 &&
                    local_write(op, k, enc.ptr, enc.len) == RK_OK) {
                    quorum_read_repair_ack(&k->rd, idx[j]);
                } else {
                    quorum_read_repair_fail(&k->rd, idx[j]);
                }
            } else {
                req_send(op, i, idx[j], REQ_REPAIR);
            }
        }
    }
}

static void
store_hints(struct coord_op *op)
{
    struct srv *s = op->w->srv;
    struct coord *co = op->w->coord;

    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        uint16_t idx[QUORUM_MAX_REPLICAS];
        struct store_record rec;
        size_t n;

        if (!k->wr_init) {
            continue;
        }
        n = quorum_write_take_hints(&k->wr, idx, QUORUM_MAX_REPLICAS);
        if (n == 0) {
            continue;
        }
        if (store_record_decode(k->enc, k->enclen, &rec) != RK_OK) {
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            const char *id = ring_member_id(op->ring, idx[j]);

            /* A sloppy quorum counts the hint as an ack: it must be on
             * disk before the client is answered. Otherwise the quorum
             * holds the write and the hint is a shortcut: it rides on
             * the group commit's sync. */
            int sloppy = atomic_load(&s->sloppy_quorum);
            uint64_t seq = 0;
            int rc = sloppy ? store_hint_put(s->store, id, strlen(id),
                                             k->slot, k->key, k->klen, &rec,
                                             srv_mstime())
                            : store_hint_put_lazy(s->store, id, strlen(id),
                                                  k->slot, k->key, k->klen,
                                                  &rec, srv_mstime(), &seq);

            if (seq > op->w->commit_seq) {
                op->w->commit_seq = seq;
            }

            if (rc == RK_OK) {
                co->stats.hints_stored++;
                quorum_write_hinted(&k->wr, idx[j]);
            } else {
                co->stats.hints_failed++;
                quorum_write_hint_fail(&k->wr, idx[j]);
            }
        }
    }
}

/* ---- phases ------------------------------------------------------------ */

/* Combined state of every key's read (or write): any failure fails. */
static enum quorum_state
reads_state(struct coord_op *op, size_t *failed)
{
    enum quorum_state st = QUORUM_DONE_OK;

    for (size_t i = 0; i < op->nkeys; i++) {
        enum quorum_state k = quorum_read_state(&op->keys[i].rd);

        if (k == QUORUM_DONE_FAIL) {
            *failed = i;
            return k;
        }
        if (k != QUORUM_DONE_OK) {
            st = QUORUM_PENDING;
        }
    }
    return st;
}

static enum quorum_state
writes_state(struct coord_op *op, size_t *failed)
{
    enum quorum_state st = QUORUM_DONE_OK;

    for (size_t i = 0; i < op->nkeys; i++) {
        enum quorum_state k;

        if (!op->keys[i].wr_init) {
            continue;
        }
        k = quorum_write_state(&op->keys[i].wr);
        if (k == QUORUM_DONE_FAIL) {
            *failed = i;
            return k;
        }
        if (k != QUORUM_DONE_OK) {
            st = QUORUM_PENDING;
        }
    }
    return st;
}

/*
 * Ask replicas of key ki to read until R (all: N) are answering or
 * answered: this node first (it answers at once), then the others in
 * preference order. A failed read asks the next replica, and a read still
 * waiting after request-timeout / COORD_SPECULATE_DIV asks all of them
 * (Cassandra asks R likewise, and more on its speculative retry).
 */
static void
ensure_reads(struct coord_op *op, size_t ki, int all)
{
    struct coord_key *k = &op->keys[ki];
    unsigned want = all ? k->n : coord_level_count(op->rlevel, k->n);

    while (k->asked < k->n && k->asked - k->rfailed < want) {
        uint16_t idx = k->order[k->asked++];

        if ((int)idx == op->self) {
            local_read(op, k);
        } else {
            req_send(op, ki, idx, REQ_READ);
        }
    }
}

static void
start_reads(struct coord_op *op)
{
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *k = &op->keys[i];
        unsigned r = coord_level_count(op->rlevel, k->n);
        unsigned m = 0;

        if (quorum_read_init(&k->rd, k->pref, k->n, r, op->deadline_ms,
                             &op->w->coord->stats.q) != RK_OK) {
            continue;
        }
        k->rd_init = 1;
        for (unsigned j = 0; j < k->n; j++) {
            if ((int)k->pref[j] == op->self) {
                k->order[m++] = k->pref[j];
            }
        }
        for (unsigned j = 0; j < k->n; j++) {
            if ((int)k->pref[j] != op->self) {
                k->order[m++] = k->pref[j];
            }
        }
        ensure_reads(op, i, 0);
    }
    send_repairs(op);
}

/* Fill the kv op's keys from the read results. */
static void
fill_keys(struct coord_op *op, struct kv_op *kop)
{
    for (size_t i = 0; i < kop->nkeys && i < op->nkeys; i++) {
        struct kv_key *k = &kop->keys[i];
        struct coord_key *ck = &op->keys[i];

        k->exists = 0;
        if (ck->rd_init && quorum_read_result(&ck->rd, &k->old, NULL) == 1) {
            k->exists = store_record_live(&k->old, kop->now_ms);
        }
    }
}

/*
 * Run apply and start the writes it asked for. The reply apply writes
 * goes to x->out; it is replaced by an error when a write quorum fails.
 * Returns what kv_run() returns.
 */
static int
apply_and_write(struct coord_op *op, struct kv_op *kop)
{
    struct cmd_ctx *x = kop->x;
    struct srv *s = x->srv;
    size_t mark = x->out->len;
    size_t nwrites = 0;
    size_t failed = 0;
    enum quorum_state st;
    char msg[160];

    op->phase = PH_WRITE;
    kop->apply(kop);
    for (size_t i = 0; i < kop->nkeys && i < op->nkeys; i++) {
        struct kv_key *k = &kop->keys[i];
        struct coord_key *ck = &op->keys[i];
        unsigned wq;

        if (k->write || k->del) {
            if (k->del) {
                memset(&k->new, 0, sizeof(k->new));
                k->new.flags = STORE_F_TOMBSTONE;
            }
            k->new.version = store_clock_next(&s->clock);
            k->new.node = s->node_hash;
            ck->enclen = store_record_encoded_len(&k->new);
            ck->enc = malloc(ck->enclen);
            wq = coord_level_count(op->wlevel, ck->n);
            if (ck->enc == NULL ||
                quorum_write_init(&ck->wr, ck->pref, ck->n, wq,
                                  atomic_load(&s->sloppy_quorum) ? QUORUM_F_SLOPPY
                                                                 : 0,
                                  op->deadline_ms,
                                  &op->w->coord->stats.q) != RK_OK) {
                free(ck->enc);
                ck->enc = NULL;
                x->out->len = mark;
                reply_error(x, "-OOM out of memory writing a key");
                op->phase = PH_DONE;
                goto out;
            }
            store_record_encode(&k->new, ck->enc);
            ck->wr_init = 1;
            nwrites++;
        }
    }
    /* This node's replica first, so that a peer refused at once (its
     * link backing off) cannot end the write before the local ack is
     * counted: the error then names every ack there was. */
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *ck = &op->keys[i];

        for (unsigned j = 0; ck->wr_init && j < ck->n; j++) {
            if ((int)ck->pref[j] != op->self) {
                continue;
            }
            if (local_write(op, ck, ck->enc, ck->enclen) == RK_OK) {
                quorum_write_ack(&ck->wr, ck->pref[j]);
            } else {
                quorum_write_fail(&ck->wr, ck->pref[j]);
            }
        }
    }
    for (size_t i = 0; i < op->nkeys; i++) {
        struct coord_key *ck = &op->keys[i];

        for (unsigned j = 0; ck->wr_init && j < ck->n; j++) {
            if ((int)ck->pref[j] != op->self) {
                req_send(op, i, ck->pref[j], REQ_WRITE);
            }
        }
    }
    store_hints(op);
    st = nwrites == 0 ? QUORUM_DONE_OK : writes_state(op, &failed);
    if (st == QUORUM_DONE_FAIL) {
        quorum_write_error(&op->keys[failed].wr, msg, sizeof(msg));
        x->out->len = mark;
        reply_error(x, msg);
        op->phase = PH_DONE;
    } else if (st == QUORUM_DONE_OK) {
        op->phase = PH_DONE;
    } else if (!op->suspended && op_suspend(op, x, mark) != RK_OK) {
        x->out->len = x->out == &x->c->out ? mark : 0;
        reply_error(x, "-OOM out of memory");
        op->phase = PH_DONE;
    }
out:
    for (size_t i = 0; i < kop->nkeys; i++) {
        free(kop->keys[i].owned);
        kop->keys[i].owned = NULL;
    }
    return RK_OK;
}

/* Run the suspended command's handler again, its reads done. */
static void
rerun(struct coord_op *op)
{
    struct cmd_ctx x;

    late_ctx(op, &x);
    x.argc = op->argc;
    x.argv = op->argv;
    x.slot = op->slot;
    x.resume = op;
    (op->parent != NULL ? op->parent : op->cmd)->fn(&x);
    if (op->phase == PH_READ) {
        /* The handler did not come back to kv_run(): nothing to do. */
        op->phase = PH_DONE;
    }
}

/* ---- key locks -------------------------------------------------------- */

static int
op_wake_queued(struct coord_op *op)
{
    struct coord *co = op->w->coord;
    int q;

    pthread_mutex_lock(&co->wake_mu);
    q = op->wake_queued;
    pthread_mutex_unlock(&co->wake_mu);
    return q;
}

/* keylock's wake: on the releasing thread; queue op for its worker. */
static void
op_wake(struct keylock_waiter *wt)
{
    struct coord_op *op = (struct coord_op *)(void *)
        ((char *)wt - offsetof(struct coord_op, waiter));
    struct coord *co = op->w->coord;

    pthread_mutex_lock(&co->wake_mu);
    op->wake_queued = 1;
    op->wake_next = NULL;
    if (co->wake_tail != NULL) {
        co->wake_tail->wake_next = op;
    } else {
        co->wake_head = op;
    }
    co->wake_tail = op;
    pthread_mutex_unlock(&co->wake_mu);
    worker_wake(op->w);
}

/*
 * Take the keys of a write op. Returns 1 when held, 0 when op waits for
 * another write (it is woken through op_wake()), RK_ENOMEM.
 */
static int
op_lock(struct coord_op *op)
{
    int r;

    if (op->locks == NULL) {
        op->locks = malloc((op->nkeys > 0 ? op->nkeys : 1) *
                           sizeof(*op->locks));
        if (op->locks == NULL) {
            return RK_ENOMEM;
        }
        for (size_t i = 0; i < op->nkeys; i++) {
            op->locks[i] = keylock_hash(op->keys[i].slot, op->keys[i].key,
                                        op->keys[i].klen);
        }
        op->nlocks = keylock_unique(op->locks, op->nkeys);
        op->waiter.wake = op_wake;
    }
    r = keylock_try(op->w->srv->keylocks, op->locks, op->nlocks,
                    &op->waiter);
    if (r < 0) {
        return RK_ENOMEM;
    }
    op->locked = r == 1;
    return r;
}

/* The keys are ours now: go on as coord_run() would have. */
static void
op_go(struct coord_op *op)
{
    op->phase = PH_READ;
    if (op->c == NULL) {
        op->phase = PH_DONE;
    } else if (op->blind || op->nkeys == 0) {
        rerun(op);
        if (op->phase == PH_DONE) {
            op_answer_ok(op);
        }
    } else {
        start_reads(op);
    }
}

/* A key op waited for was released: try again. */
static void
op_retry_lock(struct coord_op *op)
{
    int r;

    if (op->phase != PH_LOCK) {
        op_progress(op);
        return;
    }
    op->in_progress = 1;
    r = op_lock(op);
    if (r == RK_ENOMEM) {
        op_answer_error(op, "-OOM out of memory");
    } else if (r == 1) {
        op_go(op);
    }
    op->in_progress = 0;
    op_progress(op);
}

void
coord_wakeups(struct worker *w)
{
    struct coord *co = w->coord;

    if (co == NULL) {
        return;
    }
    for (;;) {
        struct coord_op *op;

        pthread_mutex_lock(&co->wake_mu);
        op = co->wake_head;
        if (op != NULL) {
            co->wake_head = op->wake_next;
            if (co->wake_head == NULL) {
                co->wake_tail = NULL;
            }
            op->wake_queued = 0;
        }
        pthread_mutex_unlock(&co->wake_mu);
        if (op == NULL || co->stopping) {
            break;
        }
        op_retry_lock(op);
    }
}

/* After any event: move the op on, answer the client, free when idle. */
static void
op_progress(struct coord_op *op)
{
    size_t failed = 0;
    char msg[160];

    if (op->in_progress) {
        return;
    }
    op->in_progress = 1;
    send_repairs(op);
    if (op->phase == PH_READ) {
        enum quorum_state st = reads_state(op, &failed);

        if (st == QUORUM_DONE_FAIL) {
            quorum_read_error(&op->keys[failed].rd, msg, sizeof(msg));
            op_answer_error(op, msg);
        } else if (st == QUORUM_DONE_OK) {
            if (op->c == NULL) {
                op->phase = PH_DONE;
            } else {
                rerun(op);
                if (op->phase == PH_DONE) {
                    op_answer_ok(op);
                }
            }
        }
    } else if (op->phase == PH_FANOUT) {
        if (op->forward && op->fan_done == op->fan_asked &&
            op->fan_answered == 0 && op->c != NULL) {
            forward_fallback(op);
        } else if (op->fan_done == op->fan_asked && op->c != NULL) {
            struct cmd_ctx x;

            late_ctx(op, &x);
            op->finish(&x, op->arg, op->fan_answered, op->fan_asked);
            op_answer_ok(op);
        } else if (op->fan_done == op->fan_asked) {
            op->phase = PH_DONE;
        }
    } else if (op->phase == PH_WRITE) {
        enum quorum_state st;

        store_hints(op);
        st = writes_state(op, &failed);
        if (st == QUORUM_DONE_FAIL) {
            quorum_write_error(&op->keys[failed].wr, msg, sizeof(msg));
            op_answer_error(op, msg);
        } else if (st == QUORUM_DONE_OK) {
            op_answer_ok(op);
        }
    }
    if (op->phase == PH_DONE) {
        store_hints(op);
        send_repairs(op);
    }
    op->in_progress = 0;
    if (op->phase == PH_DONE && op->locked) {
        op->locked = 0;
        keylock_release(op->w->srv->keylocks, op->locks, op->nlocks);
    }
    if (op->phase == PH_DONE && op->outstanding == 0 && !op_wake_queued(op)) {
        /* Nothing more can arrive: settle what is left, then go. */
        for (size_t i = 0; i < op->nkeys; i++) {
            if (op->keys[i].wr_init) {
                quorum_write_timeout(&op->keys[i].wr, INT64_MAX);
            }
        }
        store_hints(op);
        op_free(op);
    }
}

/* ---- forwarding read-modify-writes to the key's primary ---------------- */

/*
 * Across nodes a write's read and write are not locked, so two INCRs
 * through two nodes could both read 5. A read-modify-write is therefore
 * sent to the first node of its key's preference list (RKCMD over a
 * forward link) and coordinated there, where the key lock serialises
 * it with every other one; the reply is passed back. When the primary
 * cannot be reached (its link is backing off, or the request fails) the
 * command is coordinated here instead: still correct at its quorums, but
 * only atomic among this node's clients while that lasts.
 */

/* Re-encode a peer's reply for our client (its RESP version). */
static void
copy_reply(struct resp_buf *out, const struct resp_reply *r)
{
    switch (r->type) {
    case RESP_REPLY_STATUS:
        resp_add_raw(out, "+", 1);
        resp_add_raw(out, r->str.ptr, r->str.len);
        resp_add_raw(out, "\r\n", 2);
        break;
    case RESP_REPLY_ERROR:
        resp_add_error(out, r->str.ptr, r->str.len);
        break;
    case RESP_REPLY_INTEGER:
        resp_add_int(out, r->integer);
        break;
    case RESP_REPLY_BULK:
        resp_add_bulk(out, r->str.ptr, r->str.len);
        break;
    case RESP_REPLY_ARRAY:
        resp_add_array(out, (long long)r->n);
        for (size_t i = 0; i < r->n; i++) {
            copy_reply(out, &r->elem[i]);
        }
        break;
    case RESP_REPLY_NIL_ARRAY:
        resp_add_null_array(out);
        break;
    default:
        resp_add_null(out);
        break;
    }
}

static void
forward_reply(void *arg, const struct resp_reply *r)
{
    struct coord_op *op = arg;

    if (r != NULL) {
        copy_reply(&op->fwd_reply, r);
    }
}

/* The primary answered: its reply is ours. */
static void
forward_finish(struct cmd_ctx *x, void *arg, unsigned answered,
               unsigned asked)
{
    struct coord_op *op = arg;

    (void)asked;
    if (answered > 0) {
        resp_add_raw(x->out, op->fwd_reply.ptr, op->fwd_reply.len);
    }
}

/*
 * The primary did not answer: run the command again here, coordinated by
 * this node, into the same reply slot (the op hands it over).
 */
static void
forward_fallback(struct coord_op *op)
{
    struct conn *c = op->c;
    struct conn_slot *slot = op->slot;
    struct cmd_ctx x;

    late_ctx(op, &x);
    x.argc = op->argc;
    x.argv = op->argv;
    x.slot = slot;
    x.no_forward = 1;
    op_unlink_conn(op);
    op->phase = PH_DONE;
    ev_timer_stop(op->w->loop, &op->timer);
    (op->parent != NULL ? op->parent : op->cmd)->fn(&x);
    if (!x.suspended) {
        conn_slot_done(c, slot);
        if (c->deferred != NULL) {
            cmd_run_deferred(c);
        }
    }
}

/*
 * The node to forward kop to, or -1 to coordinate here: the first member
 * of the slot's preference list that this node's failure detector does
 * not hold DOWN. Once every node sees a dead primary as DOWN they all
 * pick the same next replica, so its key lock serialises the command
 * again; until then (the detector needs a few seconds) a node whose link
 * to that member is backing off coordinates the command itself.
 */
static int
forward_target(struct cmd_ctx *x, struct kv_op *kop,
               struct srv_topology *topo)
{
    const struct ring *ring = srv_topology_ring(topo);
    const uint16_t *pref;
    struct link *l;
    int target = -1;

    if (!(kop->flags & KV_WRITE) || (kop->flags & KV_BLIND) ||
        kop->nkeys == 0 || x->no_forward || x->overlay != NULL ||
        x->c->internal || x->c->in_exec || x->c->in_multi || ring == NULL ||
        !atomic_load(&x->srv->rmw_forward)) {
        return -1;
    }
    for (size_t i = 1; i < kop->nkeys; i++) {
        if (kop->keys[i].slot != kop->keys[0].slot) {
            return -1;
        }
    }
    pref = ring_preference(ring, kop->keys[0].slot);
    for (size_t i = 0; i < ring_replicas(ring); i++) {
        if ((int)pref[i] == srv_topology_self(topo) ||
            !srv_topology_down(topo, pref[i])) {
            target = pref[i];
            break;
        }
    }
    if (target < 0 || target == srv_topology_self(topo)) {
        return -1;
    }
    l = link_get_forward(x->w, srv_topology_addr(topo, (size_t)target));
    return l != NULL && link_usable(l) ? target : -1;
}

/* Send x's command to the primary; the op answers or falls back. */
static int
forward_run(struct cmd_ctx *x, struct coord *co, struct srv_topology *topo,
            struct kv_op *kop, int primary)
{
    struct srv *s = x->srv;
    struct coord_op *op = op_new(co, topo, kop);
    struct rk_slice *args;
    struct link *l;
    char clock[SRV_CLOCK_TEXT], rl[16], wl[16];
    int rlevel;
    int wlevel;

    args = malloc(((size_t)x->argc + 4) * sizeof(*args));
    if (op == NULL || args == NULL || op_copy_args(op, x) != RK_OK) {
        free(args);
        if (op != NULL) {
            op->phase = PH_DONE;
            op_free(op);
        }
        x->no_forward = 1;      /* coordinate it here */
        return coord_run(kop);
    }
    op->forward = 1;
    resp_buf_init(&op->fwd_reply);
    op->fwd_reply.resp3 = x->out->resp3;
    op->arg = op;               /* for merge/finish; not freed */
    op->merge = forward_reply;
    op->finish = forward_finish;
    op->phase = PH_FANOUT;
    op->fan_asked = 1;
    op->in_progress = 1;
    rlevel = x->c->read_level ? x->c->read_level
                              : atomic_load(&s->read_level);
    wlevel = x->c->write_level ? x->c->write_level
                               : atomic_load(&s->write_level);
    snprintf(rl, sizeof(rl), "%d", rlevel);
    snprintf(wl, sizeof(wl), "%d", wlevel);
    args[0] = (struct rk_slice){ "RKCMD", 5 };
    args[1] = srv_clock_text(s, clock);
    args[2] = (struct rk_slice){ rl, strlen(rl) };
    args[3] = (struct rk_slice){ wl, strlen(wl) };
    memcpy(args + 4, x->argv, (size_t)x->argc * sizeof(*args));
    l = link_get_forward(x->w, srv_topology_addr(topo, (size_t)primary));
    co->stats.forwarded++;
    if (op_send(op, l, x->argc + 4, args, 0, (uint16_t)primary,
                REQ_FANOUT) != RK_OK) {
        fanout_reply(op, NULL);
    }
    free(args);
    if (op->fan_done == op->fan_asked) {
        /* Refused at once: coordinate it here. */
        op->phase = PH_DONE;
        op->in_progress = 0;
        op_progress(op);
        x->no_forward = 1;
        return coord_run(kop);
    }
    if (op_suspend(op, x, x->out->len) != RK_OK) {
        reply_error(x, "-OOM out of memory");
        op->phase = PH_DONE;
    }
    return op_started(op, x);
}

/* ---- entry points ------------------------------------------------------ */

/*
 * The end of starting op for x: an op answered at once leaves the reply
 * to the dispatcher; either way op moves on (and is freed when idle).
 */
static int
op_started(struct coord_op *op, struct cmd_ctx *x)
{
    op->in_progress = 0;
    if (op->phase == PH_DONE) {
        x->suspended = 0;
        op_unlink_conn(op);
    }
    op_progress(op);
    return RK_OK;
}

int
coord_run(struct kv_op *kop)
{
    struct cmd_ctx *x = kop->x;
    struct coord *co = coord_of(x->w);
    struct srv_topology *topo;
    struct coord_op *op = x->resume;
    size_t failed = 0;
    enum quorum_state st;
    char msg[160];

    if (op != NULL) {
        /* Second run of a suspended command: the reads are done. */
        x->resume = NULL;
        fill_keys(op, kop);
        apply_and_write(op, kop);
        return RK_OK;
    }
    if (co == NULL) {
        reply_error(x, "-OOM out of memory");
        return RK_ENOMEM;
    }
    topo = current_topology(x->w, co);
    if (!atomic_load(&x->srv->cluster_ready)) {
        reply_error(x, "-CLUSTERDOWN The cluster is down: the member "
                    "table is not known yet");
        return RK_ERR;
    }
    if (topo == NULL || srv_topology_ring(topo) == NULL) {
        reply_error(x, "-CLUSTERDOWN The cluster is down");
        return RK_ERR;
    }
    {
        int primary = forward_target(x, kop, topo);

        if (primary >= 0) {
            return forward_run(x, co, topo, kop, primary);
        }
    }
    op = op_new(co, topo, kop);
    if (op == NULL) {
        reply_error(x, "-OOM out of memory");
        return RK_ENOMEM;
    }
    op->in_progress = 1;
    op->pending_arg = kop->arg;
    op->pending_free = kop->arg_free;
    op->blind = (kop->flags & KV_BLIND) != 0;
    if (kop->flags & KV_WRITE) {
        int r = op_lock(op);

        if (r == RK_ENOMEM) {
            reply_error(x, "-OOM out of memory");
            op->phase = PH_DONE;
            return op_started(op, x);
        }
        if (r == 0) {
            /* Another write of these keys is under way here: wait. */
            op->phase = PH_LOCK;
            if (op_copy_args(op, x) != RK_OK ||
                op_suspend(op, x, x->out->len) != RK_OK) {
                reply_error(x, "-OOM out of memory");
                op->phase = PH_DONE;
                if (!keylock_cancel(x->srv->keylocks, op->locks,
                                    op->nlocks, &op->waiter)) {
                    /* A wake is on its way: it frees op, not us. */
                    pthread_mutex_lock(&co->wake_mu);
                    op->wake_queued = 1;
                    pthread_mutex_unlock(&co->wake_mu);
                }
            }
            return op_started(op, x);
        }
    }
    op->phase = PH_READ;
    if ((kop->flags & KV_BLIND) || kop->nkeys == 0) {
        apply_and_write(op, kop);
    } else {
        start_reads(op);
        st = reads_state(op, &failed);
        if (st == QUORUM_DONE_OK) {
            fill_keys(op, kop);
            apply_and_write(op, kop);
        } else if (st == QUORUM_DONE_FAIL) {
            quorum_read_error(&op->keys[failed].rd, msg, sizeof(msg));
            reply_error(x, msg);
            op->phase = PH_DONE;
        } else if (op_copy_args(op, x) != RK_OK ||
                   op_suspend(op, x, x->out->len) != RK_OK) {
            reply_error(x, "-OOM out of memory");
            op->phase = PH_DONE;
        }
    }
    return op_started(op, x);
}

const struct ring *
coord_ring(struct worker *w, int *self)
{
    struct coord *co = coord_of(w);
    struct srv_topology *t = co != NULL ? current_topology(w, co) : NULL;

    if (t == NULL || srv_topology_ring(t) == NULL) {
        *self = -1;
        return NULL;
    }
    *self = srv_topology_self(t);
    return srv_topology_ring(t);
}

int
coord_fanout(struct cmd_ctx *x, int only, int argc,
             const struct rk_slice *argv, coord_merge_fn *merge,
             coord_finish_fn *finish, void *arg, void (*arg_free)(void *))
{
    struct coord *co = coord_of(x->w);
    struct srv_topology *topo = co != NULL ? current_topology(x->w, co)
                                           : NULL;
    struct kv_op none;
    struct kv_key nokey;
    struct coord_op *op;
    struct rk_slice *args;
    char clock[SRV_CLOCK_TEXT];
    size_t n;

    if (topo == NULL || srv_topology_ring(topo) == NULL || argc < 1 ||
        !atomic_load(&x->srv->cluster_ready)) {
        if (arg_free != NULL) {
            arg_free(arg);
        }
        reply_error(x, "-CLUSTERDOWN The cluster is down");
        return RK_OK;
    }
    kv_op_init(&none, x, KV_BLIND, &nokey, 0, NULL, NULL);
    op = op_new(co, topo, &none);
    args = malloc(((size_t)argc + 1) * sizeof(*args));
    if (op == NULL || args == NULL) {
        free(args);
        if (op != NULL) {
            op->phase = PH_DONE;
            op_free(op);
        }
        if (arg_free != NULL) {
            arg_free(arg);
        }
        reply_error(x, "-OOM out of memory");
        return RK_OK;
    }
    op->arg = arg;
    op->arg_free = arg_free;
    op->merge = merge;
    op->finish = finish;
    op->phase = PH_FANOUT;
    op->in_progress = 1;
    args[0] = argv[0];
    args[1] = srv_clock_text(x->srv, clock);
    for (int i = 1; i < argc; i++) {
        args[i + 1] = argv[i];
    }
    n = ring_nmembers(op->ring);
    for (size_t i = 0; i < n; i++) {
        if ((only >= 0 && (size_t)only != i) ||
            (only < 0 && (int)i == op->self)) {
            continue;
        }
        op->fan_asked++;
        if (op_send(op, link_get(x->w, srv_topology_addr(op->topo, i)),
                    argc + 1, args, 0, (uint16_t)i, REQ_FANOUT) != RK_OK) {
            fanout_reply(op, NULL);
        }
    }
    free(args);
    if (op->fan_done == op->fan_asked) {
        finish(x, op->arg, op->fan_answered, op->fan_asked);
        op->phase = PH_DONE;
    } else if (op_suspend(op, x, x->out->len) != RK_OK) {
        reply_error(x, "-OOM out of memory");
        op->phase = PH_DONE;
    }
    return op_started(op, x);
}

/* 1 when key (slot, p, len) is a key of an op in flight on c. */
static int
key_in_flight(const struct conn *c, uint16_t slot, const char *p, size_t len)
{
    for (const struct coord_op *op = c->ops; op != NULL; op = op->cnext) {
        for (size_t i = 0; i < op->nkeys; i++) {
            const struct coord_key *k = &op->keys[i];

            if (k->slot == slot && k->klen == len &&
                memcmp(k->key, p, len) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

int
coord_conn_conflicts(const struct conn *c, int argc,
                     const struct rk_slice *argv)
{
    const struct cmd_def *cmd;
    int idx[256];
    int n;

    if (c->ops == NULL || argc < 1) {
        return 0;
    }
    cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    if (cmd == NULL || (c->in_multi && !(cmd->flags & CMD_NOMULTI))) {
        return 0;           /* an error, or only queued */
    }
    if ((cmd->flags & CMD_KEYSPACE) || cmd->fn == cmd_exec) {
        return 1;           /* may touch any key */
    }
    n = cmd_key_indexes(cmd, argc, idx, 256);
    for (int i = 0; i < n; i++) {
        const struct rk_slice *k = &argv[idx[i]];

        if (key_in_flight(c, ring_key_slot(k->ptr, k->len), k->ptr,
                          k->len)) {
            return 1;
        }
    }
    return 0;
}

void *
coord_resume_arg(const struct coord_op *op)
{
    return op->arg;
}

void
coord_conn_gone(struct conn *c)
{
    while (c->ops != NULL) {
        op_unlink_conn(c->ops);
    }
}

void
coord_destroy(struct worker *w)
{
    struct coord *co = w->coord;

    if (co == NULL) {
        link_close_all(w);
        return;
    }
    co->stopping = 1;
    link_close_all(w);
    while (co->ops != NULL) {
        op_free(co->ops);
    }
    srv_topology_release(co->topo);
    pthread_mutex_destroy(&co->wake_mu);
    free(co);
    w->coord = NULL;
}
