/*
 * server/coord_forward.c - coordinator ops that are not a quorum read and
 * write on this node: read-modify-writes forwarded to their key's primary
 * (RKCMD), and the keyspace-wide fan-out to other members
 * (coord_fanout(), for KEYS, SCAN, DBSIZE, FLUSHALL).
 *
 * Both are PH_FANOUT ops of coord.c's lifecycle: they send with
 * coord_op_send(), each member's reply or failure comes back through
 * coord_fanout_reply(), and coord_op_progress() or the deadline finishes
 * them, or, when a primary did not answer, hands the command back to be
 * coordinated here (coord_forward_fallback()). coord_run() asks
 * coord_forward_target() whether to forward and coord_forward_run() does
 * it. Shared declarations: coord_internal.h.
 */
#include "coord_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "command.h"
#include "conn.h"
#include "kv.h"
#include "link.h"
#include "peer.h"
#include "reader.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "srv.h"
#include "worker.h"

/* ---- member replies ---------------------------------------------------- */

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
void
coord_fanout_reply(struct coord_op *op, const struct resp_reply *r)
{
    struct srv *s = op->w->srv;

    op->fan_done++;
    if (r != NULL && (r->type != RESP_REPLY_ERROR ||
                      (op->forward && forward_error_is_reply(r)))) {
        if (r->type == RESP_REPLY_ARRAY && r->n > 0) {
            coord_observe_reply_clock(s, &r->elem[0]);
        } else {
            coord_observe_reply_clock(s, r);
        }
        op->fan_answered++;
        op->merge(op->arg, r);
    } else {
        op->w->coord->stats.peer_failures++;
        op->merge(op->arg, NULL);
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
        if (op->fwd_reply.len > 1 && op->fwd_reply.ptr[0] == '-') {
            /* The primary's error is this command's: count it here too
             * (errorstats by its code, commandstats as failed). */
            const char *code = op->fwd_reply.ptr + 1;
            size_t n = strcspn(code, " \r");

            worker_count_error(x->w, code, n);
            x->failed = 1;
        }
    }
}

/*
 * The primary did not answer: run the command again here, coordinated by
 * this node, into the same reply slot (the op hands it over).
 */
void
coord_forward_fallback(struct coord_op *op)
{
    struct conn *c = op->c;
    struct conn_slot *slot = op->slot;
    struct cmd_ctx x;

    coord_late_ctx(op, &x);
    x.argc = op->argc;
    x.argv = op->argv;
    x.slot = slot;
    x.no_forward = 1;
    coord_op_unlink_conn(op);
    op->phase = PH_DONE;
    ev_timer_stop(op->w->loop, &op->timer);
    (op->parent != NULL ? op->parent : op->cmd)->fn(&x);
    coord_late_done(op, &x);
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
int
coord_forward_target(struct cmd_ctx *x, struct kv_op *kop,
                     struct srv_topology *topo)
{
    const struct ring *ring = srv_topology_ring(topo);
    const uint16_t *pref;
    struct link *l;
    int target = -1;

    if (!(kop->flags & KV_WRITE) || (kop->flags & (KV_BLIND | KV_HERE)) ||
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
            srv_topology_liveness(topo, pref[i]) != GOSSIP_DOWN) {
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
int
coord_forward_run(struct cmd_ctx *x, struct coord *co,
                  struct srv_topology *topo, struct kv_op *kop, int primary)
{
    struct srv *s = x->srv;
    struct coord_op *op = coord_op_new(co, topo, kop);
    struct rk_slice *args;
    struct link *l;
    char clock[SRV_CLOCK_TEXT], rl[16], wl[16];
    int rlevel;
    int wlevel;

    args = malloc(((size_t)x->argc + 4) * sizeof(*args));
    if (op == NULL || args == NULL || coord_op_copy_args(op, x) != RK_OK) {
        free(args);
        if (op != NULL) {
            op->phase = PH_DONE;
            coord_op_free(op);
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
    if (coord_op_send(op, l, x->argc + 4, args, 0, (uint16_t)primary,
                      REQ_FANOUT) != RK_OK) {
        coord_fanout_reply(op, NULL);
    }
    free(args);
    if (op->fan_done == op->fan_asked) {
        /* Refused at once: coordinate it here. */
        op->phase = PH_DONE;
        op->in_progress = 0;
        coord_op_progress(op);
        x->no_forward = 1;
        return coord_run(kop);
    }
    if (coord_op_suspend(op, x, x->out->len) != RK_OK) {
        reply_error(x, "-OOM out of memory");
        op->phase = PH_DONE;
    }
    return coord_op_started(op, x);
}

/* ---- fan-out ----------------------------------------------------------- */

int
coord_fanout(struct cmd_ctx *x, int only, int argc,
             const struct rk_slice *argv, coord_merge_fn *merge,
             coord_finish_fn *finish, void *arg, void (*arg_free)(void *))
{
    struct coord *co = coord_of(x->w);
    struct srv_topology *topo = co != NULL ? coord_current_topology(x->w, co)
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
    op = coord_op_new(co, topo, &none);
    args = malloc(((size_t)argc + 1) * sizeof(*args));
    if (op == NULL || args == NULL) {
        free(args);
        if (op != NULL) {
            op->phase = PH_DONE;
            coord_op_free(op);
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
        if (coord_op_send(op,
                          link_get(x->w, srv_topology_addr(op->topo, i)),
                          argc + 1, args, 0, (uint16_t)i,
                          REQ_FANOUT) != RK_OK) {
            coord_fanout_reply(op, NULL);
        }
    }
    free(args);
    if (op->fan_done == op->fan_asked) {
        finish(x, op->arg, op->fan_answered, op->fan_asked);
        op->phase = PH_DONE;
    } else if (coord_op_suspend(op, x, x->out->len) != RK_OK) {
        reply_error(x, "-OOM out of memory");
        op->phase = PH_DONE;
    }
    return coord_op_started(op, x);
}
