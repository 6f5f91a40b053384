/*
 * server/keyspace.c - KEYS, SCAN, DBSIZE and FLUSHALL over every member of
 * a cluster. See keyspace.h.
 */
#include "keyspace.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "coord.h"
#include "kv.h"
#include "reader.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

/*
 * A cluster SCAN cursor is (member's own cursor << MEMBER_BITS) | member.
 * The member sits in the low bits so that cursors stay small: clients
 * such as node-redis 4 parse the cursor into a double, exact only below
 * 2^53 (a member index in the top byte made them loop forever).
 */
#define MEMBER_BITS 12          /* GOSSIP_MAX_MEMBERS */
#define MEMBER_MASK ((UINT64_C(1) << MEMBER_BITS) - 1)

/* ---- this node's part --------------------------------------------------- */

_Static_assert(sizeof(((struct worker *)0)->primary_slots) ==
               SRV_SCAN_MASK_BYTES, "one bit per slot");

/*
 * The mask of this node's primary slots, or NULL when it owns none. It
 * points into w and stays valid until the worker's next call.
 *
 * Computing it takes a ring lookup per slot, so each worker keeps the
 * last mask with the topology generation it was computed at and computes
 * it again only when the generation changed. The generation is read
 * before coord_ring(), which moves the worker to the topology published
 * at that generation or a later one: a mask is never kept under a
 * generation newer than its ring (at worst an older generation names a
 * newer mask, and the next call computes it again).
 */
static const uint8_t *
primary_mask(struct worker *w)
{
    uint64_t gen = atomic_load(&w->srv->topology_gen);
    const struct ring *ring;
    int self;

    if (w->primary_valid && w->primary_gen == gen) {
        return w->primary_slots;
    }
    w->primary_valid = 0;
    ring = coord_ring(w, &self);
    if (ring == NULL || self < 0) {
        return NULL;
    }
    srv_scan_primary_mask(ring, self, w->primary_slots);
    w->primary_gen = gen;
    w->primary_valid = 1;
    return w->primary_slots;
}

int
keyspace_local_scan(struct srv *s, struct worker *w, uint64_t cursor,
                    struct srv_scan_opts *o, struct srv_keylist *out,
                    uint64_t *next)
{
    const uint8_t *mask = primary_mask(w);

    *next = 0;
    if (mask == NULL) {
        return RK_OK;
    }
    o->slots = mask;
    store_commit(s->store, store_last_seq(s->store));
    return srv_scan_step(s->scan, s->store, cursor, o, srv_mstime(),
                         srv_keylist_add, out, next);
}

static int
count_emit(void *arg, const char *key, size_t klen)
{
    (void)key;
    (void)klen;
    (*(uint64_t *)arg)++;
    return RK_OK;
}

int
keyspace_local_count(struct srv *s, struct worker *w, uint64_t *n)
{
    const uint8_t *mask = primary_mask(w);
    struct srv_scan_opts o = {
        .type = SRV_SCAN_TYPE_ANY, .count = LLONG_MAX, .slots = mask };
    uint64_t next;

    *n = 0;
    if (mask == NULL) {
        return RK_OK;
    }
    store_commit(s->store, store_last_seq(s->store));
    return srv_scan_step(NULL, s->store, 0, &o, srv_mstime(), count_emit, n,
                         &next);
}

int
keyspace_local_random(struct srv *s, struct worker *w, uint16_t start,
                      struct srv_keylist *out, uint16_t *slot)
{
    const uint8_t *mask = primary_mask(w);

    if (mask == NULL) {
        return 0;
    }
    store_commit(s->store, store_last_seq(s->store));
    return srv_scan_first_live(s->store, start, mask, srv_mstime(), out,
                               slot);
}

/* ---- gathering the members' parts -------------------------------------- */

/* What the members answered so far. */
struct gather {
    struct srv_keylist keys;
    uint64_t count;
    uint64_t next;          /* SCAN: the member's next cursor */
    int member;             /* SCAN: the member scanned */
    unsigned members;       /* SCAN: ring size */
    uint16_t start;         /* RANDOMKEY: the random slot */
    unsigned best;          /* RANDOMKEY: slots from start to the key in
                             * keys (STORE_SLOTS: none yet) */
    const char *what;       /* "keys", "scan", "dbsize", "flush" */
};

static void
gather_free(void *arg)
{
    struct gather *g = arg;

    srv_keylist_deinit(&g->keys);
    free(g);
}

static struct gather *
gather_new(const char *what)
{
    struct gather *g = calloc(1, sizeof(*g));

    if (g != NULL) {
        srv_keylist_init(&g->keys);
        g->what = what;
    }
    return g;
}

/* RKSCAN answers *3 :clock $next *keys. */
static void
merge_scan(void *arg, const struct resp_reply *r)
{
    struct gather *g = arg;
    const struct resp_reply *keys;

    if (r == NULL || r->type != RESP_REPLY_ARRAY || r->n != 3) {
        return;
    }
    if (r->elem[1].type == RESP_REPLY_BULK) {
        long long v;
        if (resp_str2ll(r->elem[1].str.ptr, r->elem[1].str.len, &v)) {
            g->next = (uint64_t)v;
        }
    }
    keys = &r->elem[2];
    for (size_t i = 0; keys->type == RESP_REPLY_ARRAY && i < keys->n; i++) {
        srv_keylist_add(&g->keys, keys->elem[i].str.ptr, keys->elem[i].str.len);
    }
}

/* RKDBSIZE answers *2 :clock :count. */
static void
merge_count(void *arg, const struct resp_reply *r)
{
    struct gather *g = arg;

    if (r != NULL && r->type == RESP_REPLY_ARRAY && r->n == 2 &&
        r->elem[1].type == RESP_REPLY_INTEGER && r->elem[1].integer > 0) {
        g->count += (uint64_t)r->elem[1].integer;
    }
}

/* Keep key (in slot) if it is nearer after g->start than the one kept. */
static void
random_offer(struct gather *g, uint16_t slot, const char *key, size_t klen)
{
    unsigned d = (unsigned)(slot + STORE_SLOTS - g->start) % STORE_SLOTS;

    if (d < g->best) {
        srv_keylist_deinit(&g->keys);
        srv_keylist_init(&g->keys);
        if (srv_keylist_add(&g->keys, key, klen) == RK_OK) {
            g->best = d;
        }
    }
}

/* RKRANDOMKEY answers *3 :clock :slot $key, or :-1 and a nil. */
static void
merge_random(void *arg, const struct resp_reply *r)
{
    struct gather *g = arg;

    if (r != NULL && r->type == RESP_REPLY_ARRAY && r->n == 3 &&
        r->elem[1].type == RESP_REPLY_INTEGER &&
        r->elem[1].integer >= 0 && r->elem[1].integer < STORE_SLOTS &&
        r->elem[2].type == RESP_REPLY_BULK) {
        random_offer(g, (uint16_t)r->elem[1].integer, r->elem[2].str.ptr,
                     r->elem[2].str.len);
    }
}

static void
merge_none(void *arg, const struct resp_reply *r)
{
    (void)arg;
    (void)r;
}

/* 1 (and an error reply) when a member did not answer. */
static int
gather_failed(struct cmd_ctx *x, const struct gather *g, unsigned answered,
              unsigned asked)
{
    if (answered == asked) {
        return 0;
    }
    /* Counting this node too. */
    reply_errorf(x, "-NOQUORUM %s answered by %u of %u nodes, all required",
                 g->what, answered + 1, asked + 1);
    return 1;
}

static void
finish_keys(struct cmd_ctx *x, void *arg, unsigned answered, unsigned asked)
{
    struct gather *g = arg;

    if (!gather_failed(x, g, answered, asked)) {
        srv_keylist_write(x->out, &g->keys);
    }
}

static void
finish_count(struct cmd_ctx *x, void *arg, unsigned answered, unsigned asked)
{
    struct gather *g = arg;

    if (!gather_failed(x, g, answered, asked)) {
        reply_int(x, (long long)g->count);
    }
}

static void
finish_flush(struct cmd_ctx *x, void *arg, unsigned answered, unsigned asked)
{
    if (!gather_failed(x, arg, answered, asked)) {
        reply_ok(x);
    }
}

/*
 * A key from the members that answered is a random key all the same;
 * without one, nil would claim an empty cluster that is not known empty.
 */
static void
finish_random(struct cmd_ctx *x, void *arg, unsigned answered,
              unsigned asked)
{
    struct gather *g = arg;

    if (g->best < STORE_SLOTS) {
        reply_bulk(x, g->keys.buf, g->keys.len);
    } else if (!gather_failed(x, g, answered, asked)) {
        reply_null(x);
    }
}

/* The client's SCAN cursor after member m returned next. */
static uint64_t
scan_cursor(const struct gather *g, int m, uint64_t next)
{
    if (next != 0) {
        return (next << MEMBER_BITS) | (uint64_t)m;
    }
    if ((unsigned)m + 1 < g->members) {
        return (uint64_t)(m + 1);
    }
    return 0;
}

static void
reply_scan(struct cmd_ctx *x, const struct gather *g)
{
    char text[24];

    snprintf(text, sizeof(text), "%llu", (unsigned long long)
             scan_cursor(g, g->member, g->next));
    reply_array(x, 2);
    reply_bulk_str(x, text);
    srv_keylist_write(x->out, &g->keys);
}

static void
finish_scan(struct cmd_ctx *x, void *arg, unsigned answered, unsigned asked)
{
    struct gather *g = arg;

    if (answered < asked) {
        reply_errorf(x, "-NOQUORUM scan: node %d did not answer; retry the "
                     "cursor", g->member);
        return;
    }
    reply_scan(x, g);
}

/* The RKSCAN arguments for cursor, o (type as a number, "" = no MATCH). */
static void
scan_args(struct rk_slice *argv, char *cur, char *cnt, char *type,
          uint64_t cursor, const struct srv_scan_opts *o)
{
    snprintf(cur, 24, "%llu", (unsigned long long)cursor);
    snprintf(cnt, 24, "%lld", o->count);
    snprintf(type, 24, "%d", o->type);
    argv[0] = (struct rk_slice){ "RKSCAN", 6 };
    argv[1] = (struct rk_slice){ cur, strlen(cur) };
    argv[2] = (struct rk_slice){ cnt, strlen(cnt) };
    argv[3] = (struct rk_slice){ type, strlen(type) };
    argv[4] = o->pat != NULL ? (struct rk_slice){ o->pat, o->plen }
                             : (struct rk_slice){ "", 0 };
}

static void
reply_local_error(struct cmd_ctx *x, int rc)
{
    reply_error(x, rc == RK_ENOMEM ? "-OOM out of memory"
                                   : "storage error");
}

/* ---- the commands ------------------------------------------------------- */

void
keyspace_keys(struct cmd_ctx *x, const char *pat, size_t plen)
{
    struct srv_scan_opts o = { .pat = pat, .plen = plen,
                               .type = SRV_SCAN_TYPE_ANY,
                               .count = LLONG_MAX };
    struct gather *g = gather_new("keys");
    struct rk_slice argv[5];
    char cur[24], cnt[24], type[24];
    uint64_t next;
    int rc;

    if (g == NULL) {
        reply_local_error(x, RK_ENOMEM);
        return;
    }
    if (plen == 1 && pat[0] == '*') {
        o.pat = NULL;
    }
    rc = keyspace_local_scan(x->srv, x->w, 0, &o, &g->keys, &next);
    if (rc != RK_OK) {
        gather_free(g);
        reply_local_error(x, rc);
        return;
    }
    scan_args(argv, cur, cnt, type, 0, &o);
    coord_fanout(x, -1, 5, argv, merge_scan, finish_keys, g, gather_free);
}

void
keyspace_scan(struct cmd_ctx *x, uint64_t cursor,
              const struct srv_scan_opts *opts)
{
    struct srv_scan_opts o = *opts;
    struct gather *g;
    struct rk_slice argv[5];
    char cur[24], cnt[24], type[24];
    int self;
    const struct ring *ring = coord_ring(x->w, &self);
    int member = (int)(cursor & MEMBER_MASK);
    uint64_t local = cursor >> MEMBER_BITS;
    int rc;

    if (ring == NULL) {
        reply_error(x, "-CLUSTERDOWN The cluster is down");
        return;
    }
    g = gather_new("scan");
    if (g == NULL) {
        reply_local_error(x, RK_ENOMEM);
        return;
    }
    g->members = (unsigned)ring_nmembers(ring);
    g->member = member;
    if ((unsigned)member >= g->members) {
        /* A cursor of a bigger cluster: the scan is over. */
        g->member = (int)g->members;
        reply_scan(x, g);
        gather_free(g);
        return;
    }
    if (member == self) {
        rc = keyspace_local_scan(x->srv, x->w, local, &o, &g->keys,
                                 &g->next);
        if (rc != RK_OK) {
            reply_local_error(x, rc);
        } else {
            reply_scan(x, g);
        }
        gather_free(g);
        return;
    }
    scan_args(argv, cur, cnt, type, local, &o);
    coord_fanout(x, member, 5, argv, merge_scan, finish_scan, g,
                 gather_free);
}

void
keyspace_dbsize(struct cmd_ctx *x)
{
    struct gather *g = gather_new("dbsize");
    struct rk_slice argv[1] = { { "RKDBSIZE", 8 } };
    int rc;

    if (g == NULL) {
        reply_local_error(x, RK_ENOMEM);
        return;
    }
    rc = keyspace_local_count(x->srv, x->w, &g->count);
    if (rc != RK_OK) {
        gather_free(g);
        reply_local_error(x, rc);
        return;
    }
    coord_fanout(x, -1, 1, argv, merge_count, finish_count, g, gather_free);
}

void
keyspace_randomkey(struct cmd_ctx *x, uint16_t start)
{
    struct gather *g = gather_new("randomkey");
    struct srv_keylist mine;
    struct rk_slice argv[2];
    char text[8];
    uint16_t slot;
    int rc;

    if (g == NULL) {
        reply_local_error(x, RK_ENOMEM);
        return;
    }
    g->start = start;
    g->best = STORE_SLOTS;
    srv_keylist_init(&mine);
    rc = keyspace_local_random(x->srv, x->w, start, &mine, &slot);
    if (rc < 0) {
        srv_keylist_deinit(&mine);
        gather_free(g);
        reply_local_error(x, rc);
        return;
    }
    if (rc == 1) {
        random_offer(g, slot, mine.buf, mine.len);
    }
    srv_keylist_deinit(&mine);
    snprintf(text, sizeof(text), "%u", (unsigned)start);
    argv[0] = (struct rk_slice){ "RKRANDOMKEY", 11 };
    argv[1] = (struct rk_slice){ text, strlen(text) };
    coord_fanout(x, -1, 2, argv, merge_random, finish_random, g,
                 gather_free);
}

void
keyspace_flush(struct cmd_ctx *x)
{
    struct gather *g = gather_new("flush");
    struct rk_slice argv[1] = { { "RKFLUSH", 7 } };

    if (g == NULL) {
        reply_local_error(x, RK_ENOMEM);
        return;
    }
    if (kv_flush(x) != RK_OK) {
        gather_free(g);
        reply_error(x, "Flushing the store failed");
        return;
    }
    coord_fanout(x, -1, 1, argv, merge_none, finish_flush, g, gather_free);
}
