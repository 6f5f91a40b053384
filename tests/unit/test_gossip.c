/*
 * tests/unit/test_gossip.c - membership gossip and failure detection
 * (cluster/gossip.c) on a simulated network: a queue of messages with
 * delivery times, per-link loss, delay and partitions, driven by a virtual
 * clock in 10 ms steps; every node ticks every 100 ms at its own phase.
 * Messages are real RESP bytes, parsed with resp_parse() before they are
 * handed to gossip_receive(), as server/ will do.
 *
 * Covered: convergence of 5 nodes from one seed list (with and without 20%
 * loss), crash / resume / restart detection, a partition and its healing,
 * joins and leaves, removal and refutation, phi under regular heartbeats
 * and silence, request failure reports, malformed and mutated messages,
 * the hybrid logical clock every message carries (one clock far ahead
 * pulls every other forward through gossip alone; messages without it are
 * still merged), and determinism of the message trace.
 */
#include "gossip.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define MAXN 32
#define STEP_MS 10
#define TICK_MS 100

/* ---- simulated network ------------------------------------------------ */

struct msg {
    int64_t at;         /* delivery time */
    uint64_t seq;       /* send order, breaks ties */
    int from;
    int to;
    char *data;
    size_t len;
};

struct net;

struct node {
    struct net *net;
    int idx;
    struct gossip *g;
    int running;        /* ticks and receives */
    int64_t phase;      /* ticks when (now + phase) % TICK_MS == 0 */
    char id[24];
    char addr[48];
    char client_addr[48];
    char zone[16];
    uint64_t received;  /* messages delivered to it */
    uint64_t hlc;       /* its hybrid logical clock, when net->clocks */
};

struct net {
    int64_t now;
    struct msg *q;
    size_t nq;
    size_t cap;
    uint64_t seq;
    uint64_t rng;               /* the network's own PRNG */
    uint64_t gossip_seed;       /* options.seed of every node */
    double loss[MAXN][MAXN];    /* drop probability per link */
    int group[MAXN];            /* partition: same group talks */
    int64_t delay_min;
    int64_t delay_max;
    uint64_t trace;             /* FNV-1a over every send */
    uint64_t nsent;
    uint64_t self_sends;        /* a node sending to its own address */
    uint64_t unknown_sends;     /* to an address nobody has */
    int n;                      /* nodes in the cluster */
    int clocks;                 /* nodes started now get clock hooks */
    char *seeds[MAXN];
    struct node nodes[MAXN];
};

static uint64_t
net_rand(struct net *net)
{
    uint64_t x = (net->rng += 0x9e3779b97f4a7c15ull);

    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double
net_unit(struct net *net)
{
    return (double)(net_rand(net) >> 11) / 9007199254740992.0;
}

static void
trace_add(struct net *net, const void *p, size_t len)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < len; i++) {
        net->trace ^= b[i];
        net->trace *= 0x100000001b3ull;
    }
}

static int
sim_send(void *ctx, const char *addr, const char *data, size_t len)
{
    struct node *from = ctx;
    struct net *net = from->net;
    struct msg *m;
    int to = -1;

    for (int i = 0; i < net->n; i++) {
        if (strcmp(net->nodes[i].addr, addr) == 0) {
            to = i;
        }
    }
    trace_add(net, &net->now, sizeof(net->now));
    trace_add(net, &from->idx, sizeof(from->idx));
    trace_add(net, addr, strlen(addr));
    trace_add(net, data, len);
    net->nsent++;
    if (to < 0) {
        net->unknown_sends++;
        return -1;
    }
    if (to == from->idx) {
        net->self_sends++;
    }
    if (net_unit(net) < net->loss[from->idx][to]) {
        return 0;
    }
    if (net->nq == net->cap) {
        net->cap = net->cap == 0 ? 64 : net->cap * 2;
        net->q = realloc(net->q, net->cap * sizeof(*net->q));
        ck_assert_ptr_nonnull(net->q);
    }
    m = &net->q[net->nq++];
    m->at = net->now + net->delay_min +
            (int64_t)(net_rand(net) %
                      (uint64_t)(net->delay_max - net->delay_min + 1));
    m->seq = net->seq++;
    m->from = from->idx;
    m->to = to;
    m->data = malloc(len);
    ck_assert_ptr_nonnull(m->data);
    memcpy(m->data, data, len);
    m->len = len;
    return 0;
}

/* transport.clock of a node: as store_clock_next(), one past the last. */
static uint64_t
sim_clock(void *ctx)
{
    struct node *nd = ctx;

    return ++nd->hlc;
}

/* transport.observe of a node: as store_clock_observe(), never back. */
static void
sim_observe(void *ctx, uint64_t hlc)
{
    struct node *nd = ctx;

    if (hlc > nd->hlc) {
        nd->hlc = hlc;
    }
}

static void
node_start(struct net *net, int i, int64_t generation,
           enum gossip_state state, const char *const *seeds, size_t nseeds)
{
    struct node *nd = &net->nodes[i];
    struct gossip_options o;

    memset(&o, 0, sizeof(o));
    o.id = nd->id;
    o.addr = nd->addr;
    o.client_addr = nd->client_addr;
    o.zone = nd->zone;
    o.state = state;
    o.generation = generation;
    o.seeds = seeds;
    o.nseeds = nseeds;
    o.transport.ctx = nd;
    o.transport.send = sim_send;
    if (net->clocks) {
        o.transport.clock = sim_clock;
        o.transport.observe = sim_observe;
    }
    o.seed = net->gossip_seed;
    nd->g = gossip_create(&o);
    ck_assert_ptr_nonnull(nd->g);
    nd->running = 1;
}

/* A network of n nodes "node-<i>" at "10.0.0.<i>:17000", all UP, all
 * given the seed list of every address (their own included). */
static void
net_init(struct net *net, int n, uint64_t gossip_seed, uint64_t net_seed)
{
    memset(net, 0, sizeof(*net));
    net->rng = net_seed;
    net->gossip_seed = gossip_seed;
    net->delay_min = 1;
    net->delay_max = 30;
    net->now = 1000000;
    net->n = n;
    for (int i = 0; i < MAXN; i++) {
        struct node *nd = &net->nodes[i];

        nd->net = net;
        nd->idx = i;
        nd->phase = (i * 37) % TICK_MS / STEP_MS * STEP_MS;
        snprintf(nd->id, sizeof(nd->id), "node-%d", i);
        snprintf(nd->addr, sizeof(nd->addr), "10.0.0.%d:17000", i);
        snprintf(nd->client_addr, sizeof(nd->client_addr),
                 "10.0.0.%d:7000", i);
        snprintf(nd->zone, sizeof(nd->zone), "z%d", i % 3);
        net->seeds[i] = nd->addr;
    }
}

static void
net_start_all(struct net *net, int n)
{
    for (int i = 0; i < n; i++) {
        node_start(net, i, net->now, GOSSIP_UP,
                   (const char *const *)net->seeds, (size_t)n);
    }
}

static void
net_free(struct net *net)
{
    for (int i = 0; i < MAXN; i++) {
        gossip_destroy(net->nodes[i].g);
    }
    for (size_t i = 0; i < net->nq; i++) {
        free(net->q[i].data);
    }
    free(net->q);
}

static int
msg_order(const void *a, const void *b)
{
    const struct msg *x = a;
    const struct msg *y = b;

    if (x->at != y->at) {
        return x->at < y->at ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
deliver(struct net *net, struct msg *m)
{
    struct node *nd = &net->nodes[m->to];
    struct resp_parser p;
    int rc;

    if (!nd->running || nd->g == NULL ||
        net->group[m->from] != net->group[m->to]) {
        return;
    }
    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, m->data, m->len), RESP_OK);
    rc = gossip_receive(nd->g, p.argc, p.argv, net->now);
    ck_assert_int_eq(rc, RK_OK);
    ck_assert_uint_eq(resp_parser_pending(&p), 0);
    resp_parser_deinit(&p);
    nd->received++;
}

/* Advance the clock one step: tick the due nodes, deliver due messages. */
static void
net_step(struct net *net)
{
    struct msg *due;
    size_t ndue = 0;
    size_t keep = 0;

    net->now += STEP_MS;
    for (int i = 0; i < net->n; i++) {
        struct node *nd = &net->nodes[i];

        if (nd->running && (net->now + nd->phase) % TICK_MS == 0) {
            ck_assert_int_eq(gossip_tick(nd->g, net->now), RK_OK);
        }
    }
    due = malloc((net->nq > 0 ? net->nq : 1) * sizeof(*due));
    ck_assert_ptr_nonnull(due);
    for (size_t i = 0; i < net->nq; i++) {
        if (net->q[i].at <= net->now) {
            due[ndue++] = net->q[i];
        } else {
            net->q[keep++] = net->q[i];
        }
    }
    net->nq = keep;
    qsort(due, ndue, sizeof(*due), msg_order);
    for (size_t i = 0; i < ndue; i++) {
        deliver(net, &due[i]);
        free(due[i].data);
    }
    free(due);
}

static void
net_run(struct net *net, int64_t ms)
{
    int64_t end = net->now + ms;

    while (net->now < end) {
        net_step(net);
    }
}

static void
net_set_loss(struct net *net, double p)
{
    for (int i = 0; i < MAXN; i++) {
        for (int j = 0; j < MAXN; j++) {
            net->loss[i][j] = i == j ? 0.0 : p;
        }
    }
}

/* ---- views ------------------------------------------------------------ */

/* Whether every running node lists exactly the ids of nodes [0, want) with
 * the same addr, client_addr, zone and state as every other running
 * node. */
static int
tables_agree(struct net *net, int want)
{
    struct gossip_member *ref = NULL;
    size_t nref = 0;
    int ok = 1;

    for (int i = 0; i < net->n && ok; i++) {
        struct gossip_member *v;
        size_t n;

        if (!net->nodes[i].running) {
            continue;
        }
        ck_assert_int_eq(gossip_members(net->nodes[i].g, &v, &n), RK_OK);
        if (n != (size_t)want) {
            ok = 0;
        } else if (ref == NULL) {
            ref = v;
            nref = n;
            v = NULL;
        } else {
            for (size_t k = 0; k < n && ok; k++) {
                ok = strcmp(v[k].id, ref[k].id) == 0 &&
                     strcmp(v[k].addr, ref[k].addr) == 0 &&
                     strcmp(v[k].client_addr, ref[k].client_addr) == 0 &&
                     strcmp(v[k].zone, ref[k].zone) == 0 &&
                     v[k].state == ref[k].state;
            }
        }
        free(v);
    }
    (void)nref;
    free(ref);
    return ok;
}

/* Liveness of node `of` as node `at` sees it. */
static int
view(struct net *net, int at, int of)
{
    return gossip_liveness(net->nodes[at].g, net->nodes[of].id, net->now);
}

/* Whether every running node other than `of` sees `of` as `l`. */
static int
all_see(struct net *net, int of, enum gossip_liveness l)
{
    for (int i = 0; i < net->n; i++) {
        if (i != of && net->nodes[i].running && view(net, i, of) != (int)l) {
            return 0;
        }
    }
    return 1;
}

static int
all_alive(struct net *net)
{
    for (int i = 0; i < net->n; i++) {
        if (net->nodes[i].running && !all_see(net, i, GOSSIP_ALIVE)) {
            return 0;
        }
    }
    return 1;
}

static uint64_t
member_state(struct net *net, int at, int of, struct gossip_member *out)
{
    struct gossip_member *v;
    size_t n;
    uint64_t found = 0;

    ck_assert_int_eq(gossip_members(net->nodes[at].g, &v, &n), RK_OK);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(v[k].id, net->nodes[of].id) == 0) {
            *out = v[k];
            found = 1;
        }
    }
    free(v);
    return found;
}

static int
all_state(struct net *net, int of, enum gossip_state s)
{
    struct gossip_member m;

    for (int i = 0; i < net->n; i++) {
        if (net->nodes[i].running &&
            (!member_state(net, i, of, &m) || m.state != s)) {
            return 0;
        }
    }
    return 1;
}

/* ---- conditions to run until ------------------------------------------ */

typedef int (*cond_fn)(struct net *net, int arg);

/* Run until cond(net, arg) holds or limit ms pass; the time it took, or -1
 * if it never held. */
static int64_t
run_until(struct net *net, int64_t limit, cond_fn cond, int arg)
{
    int64_t start = net->now;

    while (net->now - start <= limit) {
        if (cond(net, arg)) {
            return net->now - start;
        }
        net_step(net);
    }
    return -1;
}

/* arg nodes agree on the table. */
static int
agree(struct net *net, int arg)
{
    return tables_agree(net, arg);
}

/* arg nodes agree and everyone sees everyone ALIVE. */
static int
converged(struct net *net, int arg)
{
    return tables_agree(net, arg) && all_alive(net);
}

static int
everyone_alive(struct net *net, int arg)
{
    (void)arg;
    return all_alive(net);
}

/* Node arg is DOWN for all others. */
static int
down(struct net *net, int arg)
{
    return all_see(net, arg, GOSSIP_DOWN);
}

/* Node arg is suspected (SUSPECT or DOWN) by all others. */
static int
suspected(struct net *net, int arg)
{
    for (int i = 0; i < net->n; i++) {
        if (i != arg && net->nodes[i].running &&
            view(net, i, arg) == GOSSIP_ALIVE) {
            return 0;
        }
    }
    return 1;
}

/* Everyone holds node arg / 16 in state arg % 16. */
static int
in_state(struct net *net, int arg)
{
    return all_state(net, arg / 16, (enum gossip_state)(arg % 16));
}

/* Every node sees its own group ALIVE and the other DOWN. */
static int
partition_seen(struct net *net, int arg)
{
    (void)arg;
    for (int i = 0; i < net->n; i++) {
        for (int j = 0; j < net->n; j++) {
            int same = net->group[i] == net->group[j];

            if (view(net, i, j) != (same ? GOSSIP_ALIVE : GOSSIP_DOWN)) {
                return 0;
            }
        }
    }
    return 1;
}

/* ---- convergence ------------------------------------------------------ */

START_TEST(five_nodes_converge)
{
    struct net net;
    int64_t took;

    net_init(&net, 5, 42, 7);
    net_start_all(&net, 5);
    took = run_until(&net, 10000, converged, 5);
    fprintf(stderr, "gossip: 5 nodes converged in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 5000);
    /* The own address in the seed list is never contacted. */
    ck_assert_uint_eq(net.self_sends, 0);
    ck_assert_uint_eq(net.unknown_sends, 0);
    /* Every node lists itself as such, with zones and addresses. */
    for (int i = 0; i < 5; i++) {
        struct gossip_member m;

        ck_assert(member_state(&net, i, i, &m));
        ck_assert(m.self);
        ck_assert_str_eq(m.addr, net.nodes[i].addr);
        ck_assert_str_eq(m.zone, net.nodes[i].zone);
        ck_assert_str_eq(m.client_addr, net.nodes[i].client_addr);
        ck_assert(member_state(&net, (i + 1) % 5, i, &m));
        ck_assert(!m.self);
        ck_assert_str_eq(m.client_addr, net.nodes[i].client_addr);
        ck_assert_int_eq(m.state, GOSSIP_UP);
        ck_assert_int_eq(m.liveness, GOSSIP_ALIVE);
    }
    /* Converged tables stay: versions stop moving and nobody is
     * suspected while the network is healthy. */
    {
        uint64_t v0 = gossip_version(net.nodes[0].g);

        for (int s = 0; s < 60; s++) {
            net_run(&net, 1000);
            ck_assert(all_alive(&net));
        }
        ck_assert_uint_eq(gossip_version(net.nodes[0].g), v0);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                ck_assert_double_lt(gossip_phi(net.nodes[i].g,
                                               net.nodes[j].id, net.now),
                                    2.0);
            }
        }
    }
    net_free(&net);
}
END_TEST

START_TEST(converge_with_loss)
{
    int64_t worst = 0;
    double max_phi = 0.0;

    /* Several seeds: the bound must hold for each. */
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct net net;
        int64_t took;

        net_init(&net, 5, seed, seed * 1000 + 3);
        net_set_loss(&net, 0.2);
        net_start_all(&net, 5);
        took = run_until(&net, 20000, converged, 5);
        ck_assert_int_ge(took, 0);
        if (took > worst) {
            worst = took;
        }
        /* No false DOWN over two minutes of 20% loss. */
        for (int s = 0; s < 1200; s++) {
            net_run(&net, 100);
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    double phi = gossip_phi(net.nodes[i].g,
                                            net.nodes[j].id, net.now);

                    ck_assert_int_ne(view(&net, i, j), GOSSIP_DOWN);
                    if (phi > max_phi) {
                        max_phi = phi;
                    }
                }
            }
        }
        net_free(&net);
    }
    fprintf(stderr, "gossip: 5 nodes, 20%% loss: converged in <= %lld ms, "
            "then phi <= %.2f (10 seeds)\n", (long long)worst, max_phi);
    ck_assert_int_le(worst, 10000);
}
END_TEST

/* 30 nodes, each told only the first three addresses, 10% loss. */
START_TEST(thirty_nodes_three_seeds)
{
    struct net net;
    int64_t took;

    net_init(&net, 30, 77, 78);
    net_set_loss(&net, 0.1);
    for (int i = 0; i < 30; i++) {
        node_start(&net, i, net.now, GOSSIP_UP,
                   (const char *const *)net.seeds, 3);
    }
    took = run_until(&net, 30000, converged, 30);
    fprintf(stderr, "gossip: 30 nodes, 3 seeds, 10%% loss: converged in "
            "%lld ms\n", (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 15000);
    ck_assert_uint_eq(net.self_sends, 0);
    /* A crash among 30 is seen by the other 29: its last heartbeat takes
     * a few rounds to reach everyone, then ~18 s of silence. */
    net_run(&net, 60000);
    net.nodes[17].running = 0;
    took = run_until(&net, 40000, down, 17);
    fprintf(stderr, "gossip: 30 nodes: crash seen DOWN by all in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 35000);
    for (int i = 0; i < 30; i++) {
        for (int j = 0; j < 30; j++) {
            if (i != 17 && j != 17) {
                ck_assert_int_eq(view(&net, i, j), GOSSIP_ALIVE);
            }
        }
    }
    net_free(&net);
}
END_TEST

START_TEST(join_through_one_seed_and_leave)
{
    struct net net;
    const char *seed0[] = { "10.0.0.0:17000" };
    uint64_t v[MAXN];
    int64_t took;

    net_init(&net, 6, 5, 11);
    net.n = 5;
    net_start_all(&net, 5);
    ck_assert_int_ge(run_until(&net, 10000, agree, 5), 0);
    for (int i = 0; i < 5; i++) {
        v[i] = gossip_version(net.nodes[i].g);
    }
    /* A sixth node knowing only node-0 joins as JOINING. */
    net.n = 6;
    node_start(&net, 5, net.now, GOSSIP_JOINING, seed0, 1);
    took = run_until(&net, 10000, converged, 6);
    fprintf(stderr, "gossip: a joiner was known to all in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert(all_state(&net, 5, GOSSIP_JOINING));
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_gt(gossip_version(net.nodes[i].g), v[i]);
        v[i] = gossip_version(net.nodes[i].g);
    }
    /* Joined. */
    ck_assert_int_eq(gossip_set_state(net.nodes[5].g, GOSSIP_UP), RK_OK);
    ck_assert_int_ge(run_until(&net, 10000, in_state, 5 * 16 + GOSSIP_UP),
                     0);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_gt(gossip_version(net.nodes[i].g), v[i]);
    }
    /* Leaving, then left; no way back. */
    ck_assert_int_eq(gossip_set_state(net.nodes[5].g, GOSSIP_LEAVING),
                     RK_OK);
    ck_assert_int_eq(gossip_set_state(net.nodes[5].g, GOSSIP_UP), RK_ERR);
    ck_assert_int_eq(gossip_set_state(net.nodes[5].g, GOSSIP_LEAVING),
                     RK_OK);
    ck_assert_int_ge(
        run_until(&net, 10000, in_state, 5 * 16 + GOSSIP_LEAVING), 0);
    ck_assert_int_eq(gossip_set_state(net.nodes[5].g, GOSSIP_LEFT), RK_OK);
    ck_assert_int_ge(run_until(&net, 10000, in_state, 5 * 16 + GOSSIP_LEFT),
                     0);
    ck_assert_int_eq(gossip_set_state(net.nodes[5].g, (enum gossip_state)9),
                     RK_ERR);
    /* A LEFT member is not alive, and is no longer gossiped to. */
    ck_assert(!gossip_alive(net.nodes[0].g, "node-5", net.now));
    ck_assert_double_eq(gossip_phi(net.nodes[0].g, "node-5", net.now), 0.0);
    net.nodes[5].running = 0;
    {
        uint64_t before = net.nodes[5].received;

        net_run(&net, 20000);
        ck_assert_uint_eq(net.nodes[5].received, before);
        ck_assert(tables_agree(&net, 6));
    }
    net_free(&net);
}
END_TEST

/* ---- failure detection ------------------------------------------------ */

START_TEST(crash_resume_restart)
{
    struct net net;
    uint64_t v[MAXN];
    struct gossip_member m;
    int64_t took;
    int64_t gen2;

    net_init(&net, 5, 9, 13);
    net_set_loss(&net, 0.05);
    net_start_all(&net, 5);
    ck_assert_int_ge(run_until(&net, 10000, agree, 5), 0);
    net_run(&net, 60000);
    for (int i = 0; i < 5; i++) {
        v[i] = gossip_version(net.nodes[i].g);
    }

    /* node-4 stops ticking and receiving. */
    net.nodes[4].running = 0;
    took = run_until(&net, 40000, suspected, 4);
    fprintf(stderr, "gossip: crash suspected by all in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 5000);
    took += run_until(&net, 40000, down, 4);
    fprintf(stderr, "gossip: crash seen DOWN by all in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 10000);
    ck_assert_int_le(took, 30000);
    for (int i = 0; i < 4; i++) {
        ck_assert(!gossip_alive(net.nodes[i].g, "node-4", net.now));
        ck_assert_double_ge(gossip_phi(net.nodes[i].g, "node-4", net.now),
                            8.0);
        /* Failure detection never changes membership. */
        ck_assert_uint_eq(gossip_version(net.nodes[i].g), v[i]);
        ck_assert(member_state(&net, i, 4, &m));
        ck_assert_int_eq(m.state, GOSSIP_UP);
        ck_assert_int_eq(m.liveness, GOSSIP_DOWN);
    }
    net_run(&net, 30000);

    /* It resumes (a long pause, same process). */
    net.nodes[4].running = 1;
    took = run_until(&net, 10000, everyone_alive, 0);
    fprintf(stderr, "gossip: resumed node ALIVE for all in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 5000);

    /* Crash again, then restart with a new generation and an empty table
     * but for the seeds. */
    net.nodes[4].running = 0;
    ck_assert_int_ge(run_until(&net, 40000, down, 4),
                     0);
    gossip_destroy(net.nodes[4].g);
    net.nodes[4].g = NULL;
    net_run(&net, 5000);
    gen2 = net.now;
    node_start(&net, 4, gen2, GOSSIP_UP, (const char *const *)net.seeds, 5);
    took = run_until(&net, 10000, converged, 5);
    fprintf(stderr, "gossip: restarted node ALIVE for all in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 5000);
    for (int i = 0; i < 4; i++) {
        ck_assert(member_state(&net, i, 4, &m));
        ck_assert_int_eq(m.generation, gen2);
        ck_assert_uint_eq(gossip_version(net.nodes[i].g), v[i]);
    }
    net_free(&net);
}
END_TEST

START_TEST(partition_and_heal)
{
    struct net net;
    uint64_t v[MAXN];
    int64_t took;

    net_init(&net, 5, 17, 19);
    net_start_all(&net, 5);
    ck_assert_int_ge(run_until(&net, 10000, agree, 5), 0);
    net_run(&net, 30000);
    for (int i = 0; i < 5; i++) {
        v[i] = gossip_version(net.nodes[i].g);
    }
    /* {0, 1} | {2, 3, 4} */
    net.group[0] = net.group[1] = 1;
    took = run_until(&net, 40000, partition_seen, 0);
    fprintf(stderr, "gossip: partition seen by both sides in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 30000);
    net_run(&net, 60000);
    /* Membership unchanged on both sides. */
    ck_assert(tables_agree(&net, 5));
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(gossip_version(net.nodes[i].g), v[i]);
        for (int j = 0; j < 5; j++) {
            ck_assert_int_eq(view(&net, i, j),
                             net.group[i] == net.group[j] ? GOSSIP_ALIVE
                                                          : GOSSIP_DOWN);
        }
    }
    /* Heal. */
    net.group[0] = net.group[1] = 0;
    took = run_until(&net, 10000, everyone_alive, 0);
    fprintf(stderr, "gossip: partition healed, all ALIVE in %lld ms\n",
            (long long)took);
    ck_assert_int_ge(took, 0);
    ck_assert_int_le(took, 5000);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(gossip_version(net.nodes[i].g), v[i]);
    }
    net_free(&net);
}
END_TEST

/* Whether every running node's clock has reached hlc. */
static int
clocks_reached(struct net *net, uint64_t hlc)
{
    for (int i = 0; i < net->n; i++) {
        if (net->nodes[i].running && net->nodes[i].hlc < hlc) {
            return 0;
        }
    }
    return 1;
}

/*
 * Each message carries its sender's clock and the receiver observes it:
 * one node far ahead pulls every other past its clock through gossip
 * alone, also those that only hear it second hand (fanout 2 of 4 peers,
 * 20% loss), and the clocks stay together afterwards.
 */
START_TEST(clocks_follow_gossip)
{
    const uint64_t ahead = UINT64_C(1) << 60;
    struct net net;
    int64_t start;

    net_init(&net, 5, 77, 78);
    net.clocks = 1;
    net_set_loss(&net, 0.2);
    net_start_all(&net, 5);
    ck_assert_int_ge(run_until(&net, 10000, converged, 5), 0);
    ck_assert(!clocks_reached(&net, 1000));
    net.nodes[3].hlc = ahead;
    start = net.now;
    while (!clocks_reached(&net, ahead) && net.now - start < 10000) {
        net_step(&net);
    }
    fprintf(stderr, "gossip: clocks caught up in %lld ms\n",
            (long long)(net.now - start));
    ck_assert(clocks_reached(&net, ahead));
    ck_assert_int_le(net.now - start, 5000);
    /* node-3 ran ahead once more: the others follow again. */
    net.nodes[3].hlc += 1000000;
    net_run(&net, 5000);
    ck_assert(clocks_reached(&net, ahead + 1000000));
    net_free(&net);
}
END_TEST

/* ---- one node fed by hand --------------------------------------------- */

struct sink {
    uint64_t sent;
    char last_addr[64];
};

static int
sink_send(void *ctx, const char *addr, const char *data, size_t len)
{
    struct sink *s = ctx;

    (void)data;
    (void)len;
    s->sent++;
    snprintf(s->last_addr, sizeof(s->last_addr), "%s", addr);
    return 0;
}

/* Options of node "a" (UP, generation 100) with the given seeds; the
 * caller sets the transport. */
static void
lone_options(struct gossip_options *o, const char *const *seeds,
             size_t nseeds)
{
    memset(o, 0, sizeof(*o));
    o->id = "a";
    o->addr = "h:1";
    o->client_addr = "c:1";
    o->state = GOSSIP_UP;
    o->generation = 100;
    o->seeds = seeds;
    o->nseeds = nseeds;
}

static struct gossip *
lone_node(struct sink *s, const char *const *seeds, size_t nseeds)
{
    struct gossip_options o;
    struct gossip *g;

    lone_options(&o, seeds, nseeds);
    o.transport.ctx = s;
    o.transport.send = sink_send;
    g = gossip_create(&o);
    ck_assert_ptr_nonnull(g);
    return g;
}

static int
recv_strs(struct gossip *g, int64_t now, size_t argc,
          const char *const *argv)
{
    struct rk_slice v[64];

    ck_assert_uint_le(argc, 64);
    for (size_t i = 0; i < argc; i++) {
        v[i].ptr = argv[i];
        v[i].len = strlen(argv[i]);
    }
    return gossip_receive(g, argc, v, now);
}

/* A message from "b" holding b's entry and a's, so a does not answer. */
static int
heartbeat_from_b(struct gossip *g, int64_t now, uint64_t hb)
{
    char hbs[24];
    const char *argv[] = {
        "RKGOSSIP", "b", "2",
        "a", "h:1", "c:1", "", "UP", "100", "0",
        "b", "h:2", "c:2", "z", "UP", "7", hbs,
    };

    snprintf(hbs, sizeof(hbs), "%llu", (unsigned long long)hb);
    return recv_strs(g, now, 17, argv);
}

/* A transport that keeps the last message sent, with clock hooks. */
struct wire {
    uint64_t next;          /* clock() returns next++ */
    uint64_t observed;      /* last clock observe() got */
    uint64_t nobserved;
    uint64_t sent;
    size_t argc;            /* of the last message sent */
    char last_arg[32];      /* its last argument */
};

static int
wire_send(void *ctx, const char *addr, const char *data, size_t len)
{
    struct wire *w = ctx;
    struct resp_parser p;
    const struct rk_slice *last;

    (void)addr;
    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, data, len), RESP_OK);
    ck_assert_uint_eq(resp_parser_pending(&p), 0);
    last = &p.argv[p.argc - 1];
    ck_assert_uint_lt(last->len, sizeof(w->last_arg));
    memcpy(w->last_arg, last->ptr, last->len);
    w->last_arg[last->len] = '\0';
    w->argc = p.argc;
    w->sent++;
    resp_parser_deinit(&p);
    return 0;
}

static uint64_t
wire_clock(void *ctx)
{
    struct wire *w = ctx;

    return w->next++;
}

static void
wire_observe(void *ctx, uint64_t hlc)
{
    struct wire *w = ctx;

    w->observed = hlc;
    w->nobserved++;
}

/* Node "a" as lone_node() makes it, seeded with "h:9", sending through
 * w; with the clock hooks when hooks is set. */
static struct gossip *
wire_node(struct wire *w, int hooks)
{
    static const char *const seeds[] = { "h:9" };
    struct gossip_options o;
    struct gossip *g;

    lone_options(&o, seeds, 1);
    o.transport.ctx = w;
    o.transport.send = wire_send;
    if (hooks) {
        o.transport.clock = wire_clock;
        o.transport.observe = wire_observe;
    }
    g = gossip_create(&o);
    ck_assert_ptr_nonnull(g);
    return g;
}

/* b's heartbeat as g lists it. */
static uint64_t
heartbeat_of_b(struct gossip *g)
{
    struct gossip_member *v;
    size_t n;
    uint64_t hb;

    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[1].id, "b");
    hb = v[1].heartbeat;
    free(v);
    return hb;
}

/* The clock is the optional last argument: sent when the transport has
 * one, observed when there is one, checked like every number, and a
 * message without it (an older sender) still merged. */
START_TEST(clock_on_the_wire)
{
    struct wire w = { .next = 500 };
    struct gossip *g = wire_node(&w, 1);
    char hb[24];
    char clock[32];
    const char *msg[] = {
        "RKGOSSIP", "b", "2",
        "a", "h:1", "c:1", "", "UP", "100", "0",
        "b", "h:2", "c:2", "z", "UP", "7", hb,
        clock, "1",
    };
    const char *bad[] = {
        "", "-1", "+1", " 1", "abc", "12x", "1.5", "9223372036854775808",
        "18446744073709551616",
    };
    const char *unaware[] = {
        "RKGOSSIP", "c", "1", "c", "h:3", "c:3", "", "UP", "7", "1", "42",
    };

    /* A round: the table (a alone), then the clock. */
    ck_assert_int_eq(gossip_tick(g, 0), RK_OK);
    ck_assert_uint_eq(w.sent, 1);
    ck_assert_uint_eq(w.argc, 3 + 7 + 1);
    ck_assert_str_eq(w.last_arg, "500");

    /* An older sender's message: merged, nothing observed. */
    ck_assert_int_eq(heartbeat_from_b(g, 10, 1), RK_OK);
    ck_assert_uint_eq(w.nobserved, 0);
    ck_assert_uint_eq(heartbeat_of_b(g), 1);

    /* With a clock: merged and observed. */
    snprintf(hb, sizeof(hb), "5");
    snprintf(clock, sizeof(clock), "123456789");
    ck_assert_int_eq(recv_strs(g, 20, 18, msg), RK_OK);
    ck_assert_uint_eq(w.nobserved, 1);
    ck_assert_uint_eq(w.observed, 123456789);
    ck_assert_uint_eq(heartbeat_of_b(g), 5);

    /* A bad clock or one argument too many refuses the whole message. */
    snprintf(hb, sizeof(hb), "6");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(clock, sizeof(clock), "%s", bad[i]);
        ck_assert_msg(recv_strs(g, 30, 18, msg) == RK_EPROTO, "clock '%s'",
                      bad[i]);
    }
    snprintf(clock, sizeof(clock), "7");
    ck_assert_int_eq(recv_strs(g, 30, 19, msg), RK_EPROTO);
    ck_assert_uint_eq(w.nobserved, 1);
    ck_assert_uint_eq(heartbeat_of_b(g), 5);

    /* The largest clock the wire has. */
    snprintf(clock, sizeof(clock), "9223372036854775807");
    ck_assert_int_eq(recv_strs(g, 40, 18, msg), RK_OK);
    ck_assert_uint_eq(w.observed, (uint64_t)INT64_MAX);
    ck_assert_uint_eq(heartbeat_of_b(g), 6);

    /* The answer to a sender that does not know a carries a clock too. */
    ck_assert_int_eq(recv_strs(g, 50, 11, unaware), RK_OK);
    ck_assert_uint_eq(w.observed, 42);
    ck_assert_uint_eq(w.sent, 2);
    ck_assert_uint_eq(w.argc, 3 + 7 * 3 + 1);
    ck_assert_str_eq(w.last_arg, "501");
    gossip_destroy(g);

    /* Without the hooks: no clock sent; a received one is checked, then
     * ignored. */
    memset(&w, 0, sizeof(w));
    g = wire_node(&w, 0);
    ck_assert_int_eq(gossip_tick(g, 0), RK_OK);
    ck_assert_uint_eq(w.argc, 3 + 7);
    ck_assert_str_eq(w.last_arg, "1");     /* a's heartbeat */
    snprintf(hb, sizeof(hb), "5");
    snprintf(clock, sizeof(clock), "x");
    ck_assert_int_eq(recv_strs(g, 10, 18, msg), RK_EPROTO);
    snprintf(clock, sizeof(clock), "123");
    ck_assert_int_eq(recv_strs(g, 10, 18, msg), RK_OK);
    ck_assert_uint_eq(heartbeat_of_b(g), 5);
    ck_assert_uint_eq(w.nobserved, 0);
    gossip_destroy(g);
}
END_TEST

START_TEST(phi_regular_and_silent)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    int64_t t = 0;
    double prev;

    ck_assert_double_eq(gossip_phi(g, "b", 0), -1.0);
    ck_assert_double_eq(gossip_phi(g, "a", 0), 0.0);
    ck_assert_int_eq(heartbeat_from_b(g, t, 1), RK_OK);
    /* First sight: one bootstrap sample of two rounds. */
    ck_assert_double_eq_tol(gossip_phi(g, "b", 1000), 0.4343 / 2, 1e-3);
    /* 40 heartbeats 1 s apart, the same one repeated in between (no
     * arrival): phi stays low. */
    for (uint64_t hb = 2; hb <= 41; hb++) {
        ck_assert_int_eq(heartbeat_from_b(g, t + 500, hb - 1), RK_OK);
        t += 1000;
        ck_assert_double_lt(gossip_phi(g, "b", t), 0.5);
        ck_assert_int_eq(heartbeat_from_b(g, t, hb), RK_OK);
        ck_assert_double_eq(gossip_phi(g, "b", t), 0.0);
        ck_assert_int_eq(gossip_liveness(g, "b", t + 900), GOSSIP_ALIVE);
    }
    /* mean = (2000 + 40 * 1000) / 41 ms */
    ck_assert_double_eq_tol(gossip_phi(g, "b", t + 1000),
                            0.43429448 * 1000 / (42000.0 / 41), 1e-6);
    /* Silence: phi grows linearly; SUSPECT past 4, DOWN past 8. */
    prev = 0.0;
    for (int64_t d = 1000; d <= 30000; d += 1000) {
        double phi = gossip_phi(g, "b", t + d);

        ck_assert_double_gt(phi, prev);
        prev = phi;
    }
    ck_assert_int_eq(gossip_liveness(g, "b", t + 9000), GOSSIP_ALIVE);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 10000), GOSSIP_SUSPECT);
    ck_assert_int_eq(gossip_alive(g, "b", t + 10000), 1);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 18000), GOSSIP_SUSPECT);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 19000), GOSSIP_DOWN);
    ck_assert_int_eq(gossip_alive(g, "b", t + 19000), 0);
    /* A stale copy of the last heartbeat is no arrival. */
    ck_assert_int_eq(heartbeat_from_b(g, t + 20000, 41), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 20000), GOSSIP_DOWN);
    /* A fresh one is; the 20 s gap is clamped to 4 rounds. */
    ck_assert_int_eq(heartbeat_from_b(g, t + 20000, 42), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 20000), GOSSIP_ALIVE);
    ck_assert_double_eq_tol(gossip_phi(g, "b", t + 21000),
                            0.43429448 * 1000 / (46000.0 / 42), 1e-6);
    gossip_destroy(g);
}
END_TEST

START_TEST(request_failures)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    int64_t t = 0;

    for (uint64_t hb = 1; hb <= 10; hb++, t += 1000) {
        ck_assert_int_eq(heartbeat_from_b(g, t, hb), RK_OK);
    }
    t -= 1000;
    ck_assert_int_eq(gossip_liveness(g, "b", t), GOSSIP_ALIVE);
    /* One failure: SUSPECT at once, still worth a request. */
    ck_assert_int_eq(gossip_report_failure(g, "b", t + 10), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 10), GOSSIP_SUSPECT);
    ck_assert_int_eq(gossip_alive(g, "b", t + 10), 1);
    ck_assert_int_eq(gossip_report_failure(g, "b", t + 20), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 20), GOSSIP_SUSPECT);
    /* Three in a row: DOWN, although heartbeats are fresh. */
    ck_assert_int_eq(gossip_report_failure(g, "b", t + 30), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 30), GOSSIP_DOWN);
    ck_assert_int_eq(gossip_alive(g, "b", t + 30), 0);
    ck_assert_int_eq(heartbeat_from_b(g, t + 500, 11), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 500), GOSSIP_DOWN);
    /* A success clears them. */
    ck_assert_int_eq(gossip_report_success(g, "b", t + 600), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 600), GOSSIP_ALIVE);
    /* Failures expire fail_hold_ms (5 rounds) after the last one. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(gossip_report_failure(g, "b", t + 700), RK_OK);
    }
    ck_assert_int_eq(gossip_liveness(g, "b", t + 700), GOSSIP_DOWN);
    ck_assert_int_eq(heartbeat_from_b(g, t + 1500, 12), RK_OK);
    ck_assert_int_eq(heartbeat_from_b(g, t + 2500, 13), RK_OK);
    ck_assert_int_eq(heartbeat_from_b(g, t + 3500, 14), RK_OK);
    ck_assert_int_eq(heartbeat_from_b(g, t + 4500, 15), RK_OK);
    ck_assert_int_eq(heartbeat_from_b(g, t + 5500, 16), RK_OK);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 5600), GOSSIP_DOWN);
    ck_assert_int_eq(gossip_liveness(g, "b", t + 5700), GOSSIP_ALIVE);
    /* A success is a sign of life: it holds phi down. */
    ck_assert_double_gt(gossip_phi(g, "b", t + 25000), 8.0);
    ck_assert_int_eq(gossip_report_success(g, "b", t + 24900), RK_OK);
    ck_assert_double_lt(gossip_phi(g, "b", t + 25000), 0.5);
    /* Unknown ids and self. */
    ck_assert_int_eq(gossip_report_failure(g, "zz", t), RK_ERR);
    ck_assert_int_eq(gossip_report_success(g, "zz", t), RK_ERR);
    ck_assert_int_eq(gossip_liveness(g, "zz", t), RK_ERR);
    ck_assert_int_eq(gossip_alive(g, "zz", t), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(gossip_report_failure(g, "a", t), RK_OK);
    }
    ck_assert_int_eq(gossip_alive(g, "a", t), 1);
    ck_assert_int_eq(gossip_report_success(g, "a", t), RK_OK);
    gossip_destroy(g);
}
END_TEST

START_TEST(merge_rule)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    struct gossip_member *v;
    size_t n;
    const char *newer[] = {
        "RKGOSSIP", "c", "1", "b", "h:2", "c:2", "z", "UP", "7", "5",
    };
    const char *older[] = {
        "RKGOSSIP", "c", "1", "b", "h:9", "c:9", "y", "LEFT", "7", "4",
    };
    const char *moved[] = {
        "RKGOSSIP", "c", "1", "b", "h:3", "c:3", "z", "UP", "8", "0",
    };
    const char *tie_left[] = {
        "RKGOSSIP", "c", "1", "b", "h:3", "c:3", "z", "LEFT", "8", "0",
    };

    ck_assert_uint_eq(gossip_version(g), 1);
    ck_assert_int_eq(recv_strs(g, 0, 10, newer), RK_OK);
    ck_assert_uint_eq(gossip_version(g), 2);
    /* "a" is not in the message: a answers, but c is unknown to it. */
    ck_assert_uint_eq(s.sent, 0);
    ck_assert_int_eq(recv_strs(g, 0, 10, older), RK_OK);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[0].id, "a");
    ck_assert(v[0].self);
    ck_assert_str_eq(v[1].id, "b");
    ck_assert_str_eq(v[1].addr, "h:2");
    ck_assert_uint_eq(v[1].heartbeat, 5);
    free(v);
    ck_assert_uint_eq(gossip_version(g), 2);
    /* A higher generation wins over any heartbeat; the address moved. */
    ck_assert_int_eq(recv_strs(g, 0, 10, moved), RK_OK);
    ck_assert_uint_eq(gossip_version(g), 3);
    /* Equal (generation, heartbeat): LEFT is greater; both orders agree. */
    ck_assert_int_eq(recv_strs(g, 0, 10, tie_left), RK_OK);
    ck_assert_int_eq(recv_strs(g, 0, 10, moved), RK_OK);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_int_eq(v[1].state, GOSSIP_LEFT);
    ck_assert_str_eq(v[1].addr, "h:3");
    ck_assert_int_eq(v[1].generation, 8);
    free(v);
    ck_assert_uint_eq(gossip_version(g), 4);
    gossip_destroy(g);
}
END_TEST

/* The client address travels with the entry, takes part in the merge
 * rule like addr and moves the membership version. */
START_TEST(client_addr_propagates)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    struct gossip_member *v;
    size_t n;
    const char *first[] = {
        "RKGOSSIP", "c", "1", "b", "h:2", "10.1.1.1:7002", "", "UP", "7", "5",
    };
    const char *tie[] = {
        "RKGOSSIP", "c", "1", "b", "h:2", "10.1.1.1:7009", "", "UP", "7", "5",
    };
    const char *moved[] = {
        "RKGOSSIP", "c", "1", "b", "h:2", "10.1.1.2:7002", "", "UP", "7", "6",
    };

    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].client_addr, "c:1");
    free(v);
    ck_assert_int_eq(recv_strs(g, 0, 10, first), RK_OK);
    ck_assert_uint_eq(gossip_version(g), 2);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[1].client_addr, "10.1.1.1:7002");
    free(v);
    /* Equal (generation, heartbeat), state and addr: the greater client
     * address wins, in either order of arrival. */
    ck_assert_int_eq(recv_strs(g, 0, 10, tie), RK_OK);
    ck_assert_int_eq(recv_strs(g, 0, 10, first), RK_OK);
    ck_assert_uint_eq(gossip_version(g), 3);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_str_eq(v[1].client_addr, "10.1.1.1:7009");
    free(v);
    /* A newer heartbeat with a new client address replaces it. */
    ck_assert_int_eq(recv_strs(g, 0, 10, moved), RK_OK);
    ck_assert_uint_eq(gossip_version(g), 4);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_str_eq(v[1].client_addr, "10.1.1.2:7002");
    ck_assert_str_eq(v[1].addr, "h:2");
    free(v);
    gossip_destroy(g);
}
END_TEST

START_TEST(answers_who_does_not_know_it)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    struct gossip_stats st;
    const char *unaware[] = {
        "RKGOSSIP", "b", "1", "b", "h:2", "c:2", "", "UP", "7", "1",
    };
    const char *stale_me[] = {
        "RKGOSSIP", "b", "2",
        "a", "h:1", "c:1", "", "UP", "99", "500",
        "b", "h:2", "c:2", "", "UP", "7", "2",
    };
    const char *aware[] = {
        "RKGOSSIP", "b", "2",
        "a", "h:1", "c:1", "", "UP", "100", "0",
        "b", "h:2", "c:2", "", "UP", "7", "3",
    };

    ck_assert_int_eq(recv_strs(g, 0, 10, unaware), RK_OK);
    ck_assert_uint_eq(s.sent, 1);
    ck_assert_str_eq(s.last_addr, "h:2");
    ck_assert_int_eq(recv_strs(g, 0, 17, stale_me), RK_OK);
    ck_assert_uint_eq(s.sent, 2);
    ck_assert_int_eq(recv_strs(g, 0, 17, aware), RK_OK);
    ck_assert_uint_eq(s.sent, 2);
    /* A message from our own id changes nothing. */
    {
        const char *me[] = {
            "RKGOSSIP", "a", "1", "q", "h:7", "c:7", "", "UP", "1", "1",
        };

        ck_assert_int_eq(recv_strs(g, 0, 10, me), RK_OK);
        ck_assert_int_eq(gossip_liveness(g, "q", 0), RK_ERR);
    }
    gossip_stats(g, &st);
    ck_assert_uint_eq(st.received, 3);
    ck_assert_uint_eq(st.sent, 2);
    ck_assert_uint_eq(st.refuted, 0);
    gossip_destroy(g);
}
END_TEST

START_TEST(refutes_greater_entries_about_itself)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    struct gossip_member *v;
    struct gossip_stats st;
    size_t n;
    const char *removed[] = {
        "RKGOSSIP", "b", "2",
        "a", "h:1", "c:1", "", "LEFT", "100", "3",
        "b", "h:2", "c:2", "", "UP", "7", "1",
    };
    const char *newer_gen[] = {
        "RKGOSSIP", "b", "1", "a", "h:1", "c:1", "", "UP", "200", "9",
    };

    ck_assert_int_eq(recv_strs(g, 0, 17, removed), RK_OK);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_int_eq(v[0].state, GOSSIP_UP);
    ck_assert_int_eq(v[0].generation, 100);
    ck_assert_uint_eq(v[0].heartbeat, 4);
    free(v);
    ck_assert_int_eq(recv_strs(g, 0, 10, newer_gen), RK_OK);
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_int_eq(v[0].generation, 200);
    ck_assert_uint_eq(v[0].heartbeat, 10);
    free(v);
    gossip_stats(g, &st);
    ck_assert_uint_eq(st.refuted, 2);
    ck_assert_uint_eq(gossip_version(g), 2);
    gossip_destroy(g);
}
END_TEST

START_TEST(remove_dead_and_refute_alive)
{
    struct net net;
    struct gossip_stats st;
    uint64_t v0;

    net_init(&net, 5, 23, 29);
    net_start_all(&net, 5);
    ck_assert_int_ge(run_until(&net, 10000, agree, 5), 0);
    net_run(&net, 20000);
    ck_assert_int_eq(gossip_remove(net.nodes[0].g, "node-0"), RK_ERR);
    ck_assert_int_eq(gossip_remove(net.nodes[0].g, "nobody"), RK_ERR);

    /* Removing a live node: it refutes, everyone ends with it UP. */
    v0 = gossip_version(net.nodes[0].g);
    ck_assert_int_eq(gossip_remove(net.nodes[0].g, "node-2"), RK_OK);
    ck_assert_uint_eq(gossip_version(net.nodes[0].g), v0 + 1);
    net_run(&net, 10000);
    ck_assert(all_state(&net, 2, GOSSIP_UP));
    ck_assert(all_alive(&net));
    /* Either newer heartbeats overtook the removal or node-2 refuted it
     * (removal at a heartbeat equal to node-2's own). */
    gossip_stats(net.nodes[2].g, &st);
    fprintf(stderr, "gossip: removal of a live node refuted %llu times\n",
            (unsigned long long)st.refuted);

    /* Removing a dead one sticks. */
    net.nodes[3].running = 0;
    ck_assert_int_ge(run_until(&net, 40000, down, 3),
                     0);
    ck_assert_int_eq(gossip_remove(net.nodes[1].g, "node-3"), RK_OK);
    ck_assert_int_eq(gossip_remove(net.nodes[1].g, "node-3"), RK_OK);
    ck_assert_int_ge(run_until(&net, 10000, in_state, 3 * 16 + GOSSIP_LEFT),
                     0);
    net_run(&net, 20000);
    ck_assert(all_state(&net, 3, GOSSIP_LEFT));
    ck_assert(tables_agree(&net, 5));
    net_free(&net);
}
END_TEST

/* ---- bad input -------------------------------------------------------- */

struct bad {
    const char *what;
    size_t argc;
    const char *argv[20];
};

static const struct bad bad_messages[] = {
    { "one arg", 1, { "RKGOSSIP" } },
    { "two args", 2, { "RKGOSSIP", "b" } },
    { "count without entries", 3, { "RKGOSSIP", "b", "1" } },
    { "other command", 3, { "PING", "b", "0" } },
    { "longer name", 3, { "RKGOSSIPX", "b", "0" } },
    { "empty sender", 3, { "RKGOSSIP", "", "0" } },
    { "sender with space", 3, { "RKGOSSIP", "b c", "0" } },
    { "count not numeric", 3, { "RKGOSSIP", "b", "abc" } },
    { "count negative", 3, { "RKGOSSIP", "b", "-1" } },
    { "count plus", 3, { "RKGOSSIP", "b", "+0" } },
    { "count space", 3, { "RKGOSSIP", "b", " 0" } },
    { "count empty", 3, { "RKGOSSIP", "b", "" } },
    { "count huge", 3, { "RKGOSSIP", "b", "99999999999999999999" } },
    { "count 2^64", 3, { "RKGOSSIP", "b", "18446744073709551616" } },
    { "count above limit", 3, { "RKGOSSIP", "b", "4097" } },
    { "count too small", 10,
      { "RKGOSSIP", "b", "0", "x", "h:5", "c:5", "", "UP", "1", "1" } },
    { "count too large", 10,
      { "RKGOSSIP", "b", "2", "x", "h:5", "c:5", "", "UP", "1", "1" } },
    { "short entry", 9,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "UP", "1" } },
    { "generation not numeric", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "UP", "12x", "1" } },
    { "generation negative", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "UP", "-5", "1" } },
    { "heartbeat above 2^63-1", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "UP", "1",
        "9223372036854775808" } },
    { "heartbeat float", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "UP", "1", "1.5" } },
    { "unknown state", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "UPP", "1", "1" } },
    { "empty state", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "", "", "1", "1" } },
    { "empty id", 10,
      { "RKGOSSIP", "b", "1", "", "h:5", "c:5", "", "UP", "1", "1" } },
    { "id with space", 10,
      { "RKGOSSIP", "b", "1", "x y", "h:5", "c:5", "", "UP", "1", "1" } },
    { "empty addr", 10,
      { "RKGOSSIP", "b", "1", "x", "", "c:5", "", "UP", "1", "1" } },
    { "empty client addr", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "", "", "UP", "1", "1" } },
    { "client addr with space", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c 5", "", "UP", "1", "1" } },
    { "zone with control byte", 10,
      { "RKGOSSIP", "b", "1", "x", "h:5", "c:5", "z\001", "UP", "1",
        "1" } },
    { "good entry then bad", 17,
      { "RKGOSSIP", "b", "2", "x", "h:5", "c:5", "", "UP", "1", "1",
        "y", "h:6", "c:6", "", "UP", "1", "nope" } },
};

START_TEST(malformed_messages)
{
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    struct gossip_stats st;
    struct gossip_member *v;
    size_t n;
    char longid[GOSSIP_ID_MAX + 2];
    const char *too_long[] = {
        "RKGOSSIP", "b", "1", longid, "h:5", "c:5", "", "UP", "1", "1",
    };

    ck_assert_int_eq(heartbeat_from_b(g, 0, 1), RK_OK);
    for (size_t i = 0; i < sizeof(bad_messages) / sizeof(bad_messages[0]);
         i++) {
        const struct bad *b = &bad_messages[i];
        int rc = recv_strs(g, 10, b->argc, b->argv);

        ck_assert_msg(rc == RK_EPROTO, "%s: %d", b->what, rc);
    }
    memset(longid, 'i', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    ck_assert_int_eq(recv_strs(g, 10, 10, too_long), RK_EPROTO);
    longid[GOSSIP_ID_MAX] = '\0';
    ck_assert_int_eq(recv_strs(g, 10, 10, too_long), RK_OK);
    /* NUL inside a field, and a NULL argv. */
    {
        struct rk_slice nul[3] = {
            { "RKGOSSIP", 8 }, { "b\0c", 3 }, { "0", 1 },
        };

        ck_assert_int_eq(gossip_receive(g, 3, nul, 10), RK_EPROTO);
        ck_assert_int_eq(gossip_receive(g, 0, NULL, 10), RK_EPROTO);
    }
    /* Nothing changed: two members (a, b) and the long id only. */
    ck_assert_int_eq(gossip_members(g, &v, &n), RK_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[0].id, "a");
    ck_assert_str_eq(v[1].id, "b");
    ck_assert_uint_eq(v[1].heartbeat, 1);
    ck_assert_str_eq(v[2].id, longid);
    free(v);
    ck_assert_int_eq(gossip_liveness(g, "x", 10), RK_ERR);
    ck_assert_uint_eq(gossip_version(g), 3);
    gossip_stats(g, &st);
    ck_assert_uint_eq(st.rejected,
                      sizeof(bad_messages) / sizeof(bad_messages[0]) + 3);
    ck_assert_uint_eq(st.received, 2);
    /* The long-id message lacks a's entry: it was answered, to b. */
    ck_assert_uint_eq(s.sent, 1);
    ck_assert_str_eq(s.last_addr, "h:2");
    gossip_destroy(g);
}
END_TEST

/* Random byte flips, truncations and duplications of real messages: never
 * a crash, only RK_OK or RK_EPROTO, and a rejected one changes nothing. */
START_TEST(mutated_messages)
{
    struct net net;
    struct sink s = { 0 };
    struct gossip *g = lone_node(&s, NULL, 0);
    uint64_t rng = 99;
    size_t tried = 0;

    net_init(&net, 5, 31, 37);
    net.clocks = 1;     /* mutations hit the clock argument too */
    net_start_all(&net, 5);
    net_run(&net, 5000);
    for (int round = 0; round < 2000; round++) {
        struct resp_parser p;
        struct gossip_member *before;
        struct gossip_member *after;
        size_t nb;
        size_t na;
        uint64_t vb;
        char *buf;
        size_t len;
        int rc;

        /* A fresh message from a random node. */
        net_step(&net);
        if (net.nq == 0) {
            continue;
        }
        len = net.q[0].len;
        buf = malloc(len);
        ck_assert_ptr_nonnull(buf);
        memcpy(buf, net.q[0].data, len);
        resp_parser_init(&p);
        ck_assert_int_eq(resp_parse(&p, buf, len), RESP_OK);
        /* Mutate argument bytes in place (the views point into p.buf). */
        for (int k = 0; k < 3; k++) {
            size_t a;
            struct rk_slice *sl;

            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            a = (size_t)(rng >> 33) % p.argc;
            sl = &p.argv[a];
            if (sl->len == 0) {
                continue;
            }
            ((char *)sl->ptr)[(rng >> 13) % sl->len] =
                (char)(rng >> 40);
            if ((rng >> 20) % 4 == 0) {
                sl->len = (rng >> 24) % (sl->len + 1);
            }
        }
        if ((rng >> 50) % 5 == 0 && p.argc > 3) {
            p.argc -= (size_t)(rng >> 45) % 3 + 1;
        }
        ck_assert_int_eq(gossip_members(g, &before, &nb), RK_OK);
        vb = gossip_version(g);
        rc = gossip_receive(g, p.argc, p.argv, round);
        ck_assert(rc == RK_OK || rc == RK_EPROTO);
        if (rc == RK_EPROTO) {
            ck_assert_int_eq(gossip_members(g, &after, &na), RK_OK);
            ck_assert_uint_eq(na, nb);
            ck_assert_uint_eq(gossip_version(g), vb);
            ck_assert_int_eq(memcmp(before, after, nb * sizeof(*after)), 0);
            free(after);
        }
        free(before);
        resp_parser_deinit(&p);
        free(buf);
        tried++;
    }
    ck_assert_uint_gt(tried, 100);
    gossip_destroy(g);
    net_free(&net);
}
END_TEST

/* ---- options, seeds, determinism -------------------------------------- */

START_TEST(bad_options)
{
    struct sink s = { 0 };
    struct gossip_options o;
    const char *seeds[] = { "h:2", "bad seed" };

    memset(&o, 0, sizeof(o));
    o.id = "a";
    o.addr = "h:1";
    o.client_addr = "c:1";
    o.transport.ctx = &s;
    o.transport.send = sink_send;
    gossip_destroy(gossip_create(&o));
    ck_assert_ptr_null(gossip_create(NULL));
    o.id = "";
    ck_assert_ptr_null(gossip_create(&o));
    o.id = "a b";
    ck_assert_ptr_null(gossip_create(&o));
    o.id = "a";
    o.addr = NULL;
    ck_assert_ptr_null(gossip_create(&o));
    o.addr = "h:1";
    o.client_addr = NULL;
    ck_assert_ptr_null(gossip_create(&o));
    o.client_addr = "c 1";
    ck_assert_ptr_null(gossip_create(&o));
    o.client_addr = "c:1";
    o.client_addr = "c:1";
    o.zone = "z z";
    ck_assert_ptr_null(gossip_create(&o));
    o.zone = "";
    o.transport.send = NULL;
    ck_assert_ptr_null(gossip_create(&o));
    o.transport.send = sink_send;
    o.generation = -1;
    ck_assert_ptr_null(gossip_create(&o));
    o.generation = 0;
    o.state = (enum gossip_state)4;
    ck_assert_ptr_null(gossip_create(&o));
    o.state = GOSSIP_JOINING;
    o.seeds = seeds;
    o.nseeds = 2;
    ck_assert_ptr_null(gossip_create(&o));
    o.nseeds = 1;
    o.phi_threshold = 3;
    o.phi_suspect = 4;
    ck_assert_ptr_null(gossip_create(&o));
    o.phi_threshold = -1;
    o.phi_suspect = 0;
    ck_assert_ptr_null(gossip_create(&o));
    o.phi_threshold = 0;
    o.interval_ms = -5;
    ck_assert_ptr_null(gossip_create(&o));
    o.interval_ms = 0;
    gossip_destroy(gossip_create(&o));
    gossip_destroy(NULL);
    ck_assert_str_eq(gossip_state_name(GOSSIP_LEAVING), "leaving");
    ck_assert_str_eq(gossip_state_name((enum gossip_state)7), "?");
    ck_assert_str_eq(gossip_liveness_name(GOSSIP_SUSPECT), "suspect");
    ck_assert_str_eq(gossip_liveness_name((enum gossip_liveness)7), "?");
}
END_TEST

START_TEST(seeds_skip_self_and_known)
{
    struct sink s = { 0 };
    const char *only_me[] = { "h:1", "h:1" };
    const char *seeds[] = { "h:1", "h:2", "h:2", "h:3" };
    struct gossip *g = lone_node(&s, only_me, 2);
    struct gossip_stats st;

    /* Alone: rounds run, nothing is sent. */
    for (int64_t t = 0; t < 10000; t += 100) {
        ck_assert_int_eq(gossip_tick(g, t), RK_OK);
    }
    gossip_stats(g, &st);
    ck_assert_uint_eq(st.rounds, 10);
    ck_assert_uint_eq(s.sent, 0);
    gossip_destroy(g);

    /* Two unknown seeds (one listed twice): two messages per round until
     * one is known, then the known one gets gossip as a peer. */
    g = lone_node(&s, seeds, 4);
    ck_assert_int_eq(gossip_tick(g, 0), RK_OK);
    ck_assert_uint_eq(s.sent, 2);
    ck_assert_int_eq(gossip_tick(g, 500), RK_OK);
    ck_assert_uint_eq(s.sent, 2);
    ck_assert_int_eq(heartbeat_from_b(g, 600, 1), RK_OK);
    ck_assert_uint_eq(s.sent, 2);
    ck_assert_int_eq(gossip_tick(g, 1000), RK_OK);
    ck_assert_uint_eq(s.sent, 4);   /* b as a peer, h:3 as a seed */
    gossip_stats(g, &st);
    ck_assert_uint_eq(st.rounds, 2);
    ck_assert_uint_eq(st.sent, 4);
    gossip_destroy(g);
}
END_TEST

static uint64_t
trace_of(uint64_t gossip_seed, uint64_t *nsent)
{
    struct net net;
    uint64_t trace;

    net_init(&net, 5, gossip_seed, 4242);
    net_set_loss(&net, 0.2);
    net_start_all(&net, 5);
    net_run(&net, 20000);
    net.nodes[3].running = 0;
    net_run(&net, 20000);
    net.nodes[3].running = 1;
    net_run(&net, 5000);
    trace = net.trace;
    *nsent = net.nsent;
    net_free(&net);
    return trace;
}

START_TEST(same_seed_same_trace)
{
    uint64_t n1;
    uint64_t n2;
    uint64_t n3;
    uint64_t t1 = trace_of(1234, &n1);
    uint64_t t2 = trace_of(1234, &n2);
    uint64_t t3 = trace_of(1235, &n3);

    ck_assert_uint_eq(t1, t2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_gt(n1, 100);
    ck_assert_uint_ne(t1, t3);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("gossip");
    TCase *tn = tcase_create("node");
    TCase *tc = tcase_create("cluster");
    SRunner *sr;
    int failed;

    tcase_add_test(tn, phi_regular_and_silent);
    tcase_add_test(tn, request_failures);
    tcase_add_test(tn, merge_rule);
    tcase_add_test(tn, client_addr_propagates);
    tcase_add_test(tn, answers_who_does_not_know_it);
    tcase_add_test(tn, refutes_greater_entries_about_itself);
    tcase_add_test(tn, malformed_messages);
    tcase_add_test(tn, clock_on_the_wire);
    tcase_add_test(tn, bad_options);
    tcase_add_test(tn, seeds_skip_self_and_known);
    suite_add_tcase(s, tn);

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, five_nodes_converge);
    tcase_add_test(tc, converge_with_loss);
    tcase_add_test(tc, thirty_nodes_three_seeds);
    tcase_add_test(tc, join_through_one_seed_and_leave);
    tcase_add_test(tc, crash_resume_restart);
    tcase_add_test(tc, partition_and_heal);
    tcase_add_test(tc, clocks_follow_gossip);
    tcase_add_test(tc, remove_dead_and_refute_alive);
    tcase_add_test(tc, mutated_messages);
    tcase_add_test(tc, same_seed_same_trace);
    suite_add_tcase(s, tc);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
