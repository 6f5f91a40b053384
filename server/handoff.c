/*
 * server/handoff.c - replay of stored hints (see handoff.h).
 */
#include "handoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "coord.h"
#include "link.h"
#include "peer.h"
#include "reader.h"
#include "ring.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

#define HANDOFF_TICK_S 1.0
#define HANDOFF_EXPIRE_EVERY 10     /* ticks between expiry passes */

/* One hint on its way to its target. */
struct handoff_item {
    struct handoff *h;
    uint64_t seq;
};

struct handoff {
    struct worker *w;
    ev_timer timer;
    unsigned ticks;
    char *target;                   /* the target being replayed to */
    struct handoff_item items[HANDOFF_BATCH];
    size_t sent;                    /* requests of the batch in flight */
    size_t acked;                   /* acks of the batch */
    unsigned failed : 1;            /* a request of the batch failed */
    unsigned stopping : 1;
};

static void handoff_next(struct handoff *h);

static void
schedule(struct handoff *h, double after)
{
    ev_timer_stop(h->w->loop, &h->timer);
    ev_timer_set(&h->timer, after, 0.0);
    ev_timer_start(h->w->loop, &h->timer);
}

static void
item_done(void *arg, const struct resp_reply *r)
{
    struct handoff_item *it = arg;
    struct handoff *h = it->h;
    struct store *st = h->w->srv->store;

    if (r != NULL && r->type == RESP_REPLY_INTEGER) {
        if (r->integer > 0) {
            store_clock_observe(&h->w->srv->clock, (uint64_t)r->integer);
        }
        if (!h->stopping &&
            store_hint_delete(st, h->target, strlen(h->target), it->seq) ==
                RK_OK) {
            h->acked++;
        }
    } else {
        h->failed = 1;
    }
    if (--h->sent > 0 || h->stopping) {
        return;
    }
    /* The batch is back: a full clean batch goes on at once, anything
     * else waits for the next tick. */
    if (!h->failed && h->acked == HANDOFF_BATCH) {
        schedule(h, 0.001);
    } else {
        free(h->target);
        h->target = NULL;
        schedule(h, HANDOFF_TICK_S);
    }
}

/* Send the next batch of hints of h->target over link l. */
static void
send_batch(struct handoff *h, struct link *l)
{
    struct store *st = h->w->srv->store;
    struct store_hint_iter *it =
        store_hint_iter_create(st, h->target, strlen(h->target));
    struct store_hint hint;
    char *enc = NULL;
    size_t cap = 0;
    size_t n = 0;
    int r;

    h->sent = 0;
    h->acked = 0;
    h->failed = 0;
    if (it == NULL) {
        return;
    }
    while (n < HANDOFF_BATCH && (r = store_hint_iter_next(it, &hint)) != 0) {
        struct rk_slice argv[5];
        char clock[SRV_CLOCK_TEXT];
        char slot[8];
        size_t len;

        if (r == RK_EPROTO) {
            /* Undecodable: nothing to deliver, drop it. */
            store_hint_delete(st, h->target, strlen(h->target), hint.seq);
            continue;
        }
        if (r < 0) {
            break;
        }
        len = store_record_encoded_len(&hint.rec);
        if (len > cap) {
            char *p = realloc(enc, len);
            if (p == NULL) {
                break;
            }
            enc = p;
            cap = len;
        }
        store_record_encode(&hint.rec, enc);
        snprintf(slot, sizeof(slot), "%u", (unsigned)hint.slot);
        argv[0] = (struct rk_slice){ "RKPUT", 5 };
        argv[1] = srv_clock_text(h->w->srv, clock);
        argv[2] = (struct rk_slice){ slot, strlen(slot) };
        argv[3] = hint.key;
        argv[4] = (struct rk_slice){ enc, len };
        h->items[n].h = h;
        h->items[n].seq = hint.seq;
        if (link_send(l, 5, argv, item_done, &h->items[n]) != RK_OK) {
            break;
        }
        n++;
        h->sent++;
    }
    free(enc);
    store_hint_iter_destroy(it);
}

/* Pick the next target with hints that is a member, and replay to it. */
static void
handoff_next(struct handoff *h)
{
    struct srv *s = h->w->srv;
    struct srv_topology *topo = NULL;
    const struct ring *ring;
    char **ids = NULL;
    size_t nids = 0;

    if (h->target != NULL) {
        /* Continue the target of the last full batch. */
        goto replay;
    }
    if (store_hint_targets(s->store, &ids, &nids) != RK_OK || nids == 0) {
        goto idle;
    }
    topo = srv_topology_acquire(s);
    ring = topo != NULL ? srv_topology_ring(topo) : NULL;
    /* Start after the last target tried, so one dead target does not
     * hold the others back: rotate by the tick count. */
    for (size_t k = 0; ring != NULL && k < nids; k++) {
        size_t i = (k + h->ticks) % nids;
        int idx = ring_member_index(ring, ids[i]);
        struct link *l;

        if (idx < 0 || idx == srv_topology_self(topo)) {
            continue;
        }
        l = link_get(h->w, srv_topology_addr(topo, (size_t)idx));
        if (l == NULL || !link_usable(l)) {
            continue;
        }
        h->target = strdup(ids[i]);
        if (h->target == NULL) {
            break;
        }
        store_hint_targets_free(ids, nids);
        srv_topology_release(topo);
        goto replay;
    }
    store_hint_targets_free(ids, nids);
    srv_topology_release(topo);
idle:
    schedule(h, HANDOFF_TICK_S);
    return;

replay:
    topo = srv_topology_acquire(s);
    ring = topo != NULL ? srv_topology_ring(topo) : NULL;
    if (ring != NULL && ring_member_index(ring, h->target) >= 0) {
        int idx = ring_member_index(ring, h->target);
        struct link *l = link_get(h->w, srv_topology_addr(topo,
                                                          (size_t)idx));
        if (l != NULL) {
            send_batch(h, l);
        }
    }
    srv_topology_release(topo);
    if (h->sent == 0) {
        free(h->target);
        h->target = NULL;
        schedule(h, HANDOFF_TICK_S);
    }
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct handoff *h = t->data;
    struct srv *s = h->w->srv;
    struct store_hint_stats hs;

    (void)loop;
    (void)revents;
    if (!coord_active(s)) {
        schedule(h, HANDOFF_TICK_S);
        return;
    }
    if (h->ticks++ % HANDOFF_EXPIRE_EVERY == 0) {
        store_hint_expire(s->store, srv_mstime(),
                          s->cfg.hint_window * 1000, NULL);
    }
    store_hint_get_stats(s->store, &hs);
    if (hs.pending == 0 && h->target == NULL) {
        schedule(h, HANDOFF_TICK_S);
        return;
    }
    handoff_next(h);
}

void
handoff_start(struct worker *w)
{
    struct handoff *h = calloc(1, sizeof(*h));

    if (h == NULL) {
        fprintf(stderr, "ringkv: out of memory: hints will not be "
                "replayed\n");
        return;
    }
    h->w = w;
    ev_init(&h->timer, tick_cb);
    h->timer.data = h;
    w->handoff = h;
    schedule(h, HANDOFF_TICK_S);
}

void
handoff_stop(struct worker *w)
{
    struct handoff *h = w->handoff;

    if (h == NULL) {
        return;
    }
    h->stopping = 1;
    ev_timer_stop(w->loop, &h->timer);
}

void
handoff_free(struct worker *w)
{
    struct handoff *h = w->handoff;

    if (h != NULL) {
        free(h->target);
        free(h);
        w->handoff = NULL;
    }
}
