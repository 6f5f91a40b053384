/*
 * server/coord.c - the quorum coordinator: kv ops over the replicas of
 * their keys. See coord.h; the quorum rules are cluster/quorum.h's.
 *
 * This file holds an op's life and the entry points. An op (struct
 * coord_op, coord_internal.h) is created per coordinated command, timed
 * (the speculative read, then the request deadline), suspended into a
 * reply slot of its connection and answered from there; its peer
 * requests go out through coord_op_send() and every reply comes back
 * through on_reply() here. A write first takes its keys' locks (keylock.h)
 * and may wait for them. After every event coord_op_progress() moves the
 * op on, answers the client and frees the op when nothing more can
 * arrive. coord_run() and the rest of coord.h start here too, as do the
 * consistency levels, the config refresh and the counters.
 *
 * The quorum phases themselves (reads, apply and writes, read repair,
 * hints) are in coord_rw.c; forwarding read-modify-writes to the key's
 * primary and coord_fanout() are in coord_forward.c. coord_internal.h is
 * what the three files share.
 */
#include "coord.h"
#include "coord_internal.h"

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

/* A read still waiting after request-timeout / this asks every replica. */
#define COORD_SPECULATE_DIV 20

struct coord_req {
    struct coord_op *op;
    uint32_t key;
    uint16_t replica;
    uint8_t kind;               /* enum coord_req_kind */
};

static void op_answer_ok(struct coord_op *op);
static void on_reply(void *arg, const struct resp_reply *r);

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

struct coord *
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
struct srv_topology *
coord_current_topology(struct worker *w, struct coord *co)
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

void
coord_op_unlink_conn(struct coord_op *op)
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

void
coord_op_free(struct coord_op *op)
{
    struct coord *co = op->w->coord;

    ev_timer_stop(op->w->loop, &op->timer);
    coord_op_unlink_conn(op);
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
                coord_ensure_reads(op, i, 1);
            }
        }
        op->in_progress = 0;
        op_arm(op);
        coord_op_progress(op);
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
            coord_forward_fallback(op);
        }
        coord_op_progress(op);
        return;
    }
    if (op->phase == PH_FANOUT && op->c != NULL) {
        struct cmd_ctx x;

        /* Members still silent count as failed. */
        while (op->fan_done < op->fan_asked) {
            op->fan_done++;
            op->merge(op->arg, NULL);
        }
        coord_late_ctx(op, &x);
        op->finish(&x, op->arg, op->fan_answered, op->fan_asked);
        coord_late_done(op, &x);
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
    coord_op_progress(op);
}

/*
 * A new op for kv op kop: the keys and their preference lists; NULL when
 * memory runs out.
 */
struct coord_op *
coord_op_new(struct coord *co, struct srv_topology *topo, struct kv_op *kop)
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
int
coord_op_copy_args(struct coord_op *op, const struct cmd_ctx *x)
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
int
coord_op_suspend(struct coord_op *op, struct cmd_ctx *x, size_t mark)
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
void
coord_late_ctx(struct coord_op *op, struct cmd_ctx *x)
{
    memset(x, 0, sizeof(*x));
    x->srv = op->w->srv;
    x->w = op->w;
    x->c = op->c;
    x->cmd = op->cmd;
    x->parent = op->parent;
    x->out = &op->slot->buf;
}

/* See coord_internal.h. */
void
coord_late_done(const struct coord_op *op, const struct cmd_ctx *x)
{
    if (x->failed && op->cmd != NULL) {
        cmd_count_failed(op->w, op->cmd);
    }
}

/* The op's client has its answer: commands that waited for it may run. */
static void
op_answered(struct coord_op *op)
{
    struct conn *c = op->c;

    conn_slot_done(c, op->slot);
    coord_op_unlink_conn(op);
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
    coord_late_ctx(op, &x);
    op->slot->buf.len = 0;
    reply_error(&x, msg);
    coord_late_done(op, &x);
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

/*
 * Send argv on l as op's request of kind about key ki to ring member idx;
 * its reply comes to on_reply(). RK_OK when it is on its way, RK_ERR when
 * it was refused (no link, out of memory, link backing off).
 */
int
coord_op_send(struct coord_op *op, struct link *l, int argc,
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

/* The first element of a reply carries the peer's clock. */
void
coord_observe_reply_clock(struct srv *s, const struct resp_reply *r)
{
    if (r->type == RESP_REPLY_INTEGER && r->integer > 0) {
        store_clock_observe(&s->clock, (uint64_t)r->integer);
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
            coord_fanout_reply(op, r);
        }
        coord_op_progress(op);
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
            coord_op_free(op);
        }
        return;
    }
    if (r != NULL && kind == REQ_READ && r->type == RESP_REPLY_ARRAY &&
        r->n == 2) {
        struct store_record rec;

        coord_observe_reply_clock(s, &r->elem[0]);
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
        coord_observe_reply_clock(s, r);
        if (kind == REQ_WRITE) {
            quorum_write_ack(&k->wr, idx);
        } else {
            quorum_read_repair_ack(&k->rd, idx);
        }
        ok = 1;
    }
    if (!ok) {
        op->w->coord->stats.peer_failures++;
        coord_req_failed(op, k, idx, kind);
        if (kind == REQ_READ) {
            coord_ensure_reads(op, (size_t)(k - op->keys), op->speculated);
        }
    }
    coord_op_progress(op);
}

/* ---- the op's course --------------------------------------------------- */

/* Run the suspended command's handler again, its reads done. */
static void
rerun(struct coord_op *op)
{
    struct cmd_ctx x;

    coord_late_ctx(op, &x);
    x.argc = op->argc;
    x.argv = op->argv;
    x.slot = op->slot;
    x.resume = op;
    (op->parent != NULL ? op->parent : op->cmd)->fn(&x);
    coord_late_done(op, &x);
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
    r = keylock_try(op->w->srv->keylocks, op->locks, op->nlocks, op->blind,
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
        coord_start_reads(op);
    }
}

/* A key op waited for was released: try again. */
static void
op_retry_lock(struct coord_op *op)
{
    int r;

    if (op->phase != PH_LOCK) {
        coord_op_progress(op);
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
    coord_op_progress(op);
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
void
coord_op_progress(struct coord_op *op)
{
    size_t failed = 0;
    char msg[160];

    if (op->in_progress) {
        return;
    }
    op->in_progress = 1;
    coord_send_repairs(op);
    if (op->phase == PH_READ) {
        enum quorum_state st = coord_reads_state(op, &failed);

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
            coord_forward_fallback(op);
        } else if (op->fan_done == op->fan_asked && op->c != NULL) {
            struct cmd_ctx x;

            coord_late_ctx(op, &x);
            op->finish(&x, op->arg, op->fan_answered, op->fan_asked);
            coord_late_done(op, &x);
            op_answer_ok(op);
        } else if (op->fan_done == op->fan_asked) {
            op->phase = PH_DONE;
        }
    } else if (op->phase == PH_WRITE) {
        enum quorum_state st;

        coord_store_hints(op);
        st = coord_writes_state(op, &failed);
        if (st == QUORUM_DONE_FAIL) {
            quorum_write_error(&op->keys[failed].wr, msg, sizeof(msg));
            op_answer_error(op, msg);
        } else if (st == QUORUM_DONE_OK) {
            op_answer_ok(op);
        }
    }
    if (op->phase == PH_DONE) {
        coord_store_hints(op);
        coord_send_repairs(op);
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
        coord_store_hints(op);
        coord_op_free(op);
    }
}

/* ---- entry points ------------------------------------------------------ */

/*
 * The end of starting op for x: an op answered at once leaves the reply
 * to the dispatcher; either way op moves on (and is freed when idle).
 */
int
coord_op_started(struct coord_op *op, struct cmd_ctx *x)
{
    op->in_progress = 0;
    if (op->phase == PH_DONE) {
        x->suspended = 0;
        coord_op_unlink_conn(op);
    }
    coord_op_progress(op);
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
        coord_fill_keys(op, kop);
        coord_apply_and_write(op, kop);
        return RK_OK;
    }
    if (co == NULL) {
        reply_error(x, "-OOM out of memory");
        return RK_ENOMEM;
    }
    topo = coord_current_topology(x->w, co);
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
        int primary = coord_forward_target(x, kop, topo);

        if (primary >= 0) {
            return coord_forward_run(x, co, topo, kop, primary);
        }
    }
    op = coord_op_new(co, topo, kop);
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
            return coord_op_started(op, x);
        }
        if (r == 0) {
            /* Another write of these keys is under way here: wait. */
            op->phase = PH_LOCK;
            if (coord_op_copy_args(op, x) != RK_OK ||
                coord_op_suspend(op, x, x->out->len) != RK_OK) {
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
            return coord_op_started(op, x);
        }
    }
    op->phase = PH_READ;
    if ((kop->flags & KV_BLIND) || kop->nkeys == 0) {
        coord_apply_and_write(op, kop);
    } else {
        coord_start_reads(op);
        st = coord_reads_state(op, &failed);
        if (st == QUORUM_DONE_OK) {
            coord_fill_keys(op, kop);
            coord_apply_and_write(op, kop);
        } else if (st == QUORUM_DONE_FAIL) {
            quorum_read_error(&op->keys[failed].rd, msg, sizeof(msg));
            reply_error(x, msg);
            op->phase = PH_DONE;
        } else if (coord_op_copy_args(op, x) != RK_OK ||
                   coord_op_suspend(op, x, x->out->len) != RK_OK) {
            reply_error(x, "-OOM out of memory");
            op->phase = PH_DONE;
        }
    }
    return coord_op_started(op, x);
}

const struct ring *
coord_ring(struct worker *w, int *self)
{
    struct coord *co = coord_of(w);
    struct srv_topology *t = co != NULL ? coord_current_topology(w, co) : NULL;

    if (t == NULL || srv_topology_ring(t) == NULL) {
        *self = -1;
        return NULL;
    }
    *self = srv_topology_self(t);
    return srv_topology_ring(t);
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
        coord_op_unlink_conn(c->ops);
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
        coord_op_free(co->ops);
    }
    srv_topology_release(co->topo);
    pthread_mutex_destroy(&co->wake_mu);
    free(co);
    w->coord = NULL;
}
