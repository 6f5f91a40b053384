/*
 * cluster/gossip.c - the member table, its merge rule, push gossip over a
 * caller-supplied transport and the phi-accrual failure detector. The
 * rules are described in gossip.h; this file keeps to them.
 *
 * The table is an array of pointers to members sorted by id, so lookups
 * are binary searches and every walk over it (messages, target choice,
 * listings) runs in one deterministic order. Each member carries its
 * detector state: a ring of the last `window` inter-arrival times in ms
 * and their sum.
 *
 * A received message is checked completely before any of it is applied,
 * so a malformed one changes nothing; applying it allocates only for
 * members not seen before.
 */
#include "gossip.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"
#include "rk.h"

#define LOG10_E 0.43429448190325182765  /* log10(e) = 1 / ln(10) */
#define FIELDS 7                        /* wire fields per entry */
#define HEADER 3                        /* RKGOSSIP sender n */
#define MAX_FANOUT 64
#define MAX_WINDOW 100000u
#define NO_TIME INT64_MIN

static const char *const wire_states[] = {
    "JOINING", "UP", "LEAVING", "LEFT"
};

struct member {
    char id[GOSSIP_ID_MAX + 1];
    char addr[GOSSIP_ADDR_MAX + 1];
    char client_addr[GOSSIP_ADDR_MAX + 1];
    char zone[GOSSIP_ZONE_MAX + 1];
    size_t id_len;
    enum gossip_state state;
    int64_t generation;
    uint64_t heartbeat;

    /* Local failure detector state; never gossiped. */
    enum gossip_liveness liveness;
    int64_t last_arrival;   /* last heartbeat increase seen */
    int64_t last_success;   /* last reported request success or NO_TIME */
    uint32_t *samples;      /* [window] inter-arrival times, a ring */
    unsigned nsamples;      /* valid samples */
    unsigned next;          /* ring slot the next sample goes to */
    uint64_t sum;           /* of the valid samples */
    unsigned fails;         /* request failures in a row */
    int64_t last_fail;      /* time of the last one */
};

struct gossip {
    struct member **members;    /* [n], sorted by id */
    size_t n;
    size_t cap;
    size_t *scratch;            /* [cap] candidate indexes for a round */
    struct member *self;

    char **seeds;               /* [nseeds], deduplicated, self excluded */
    size_t nseeds;

    struct gossip_transport tr;
    uint64_t rng;               /* splitmix64 state */

    int64_t interval;
    int64_t max_interval;
    int64_t fail_hold;
    unsigned fanout;
    unsigned window;
    unsigned fail_limit;
    double phi_threshold;
    double phi_suspect;

    unsigned started : 1;       /* a round has run */
    int64_t next_round;
    uint64_t version;           /* membership version */
    struct gossip_stats stats;
    struct resp_buf msg;        /* the encoded table, reused */
};

/* One entry of a received message, as views into argv. */
struct entry {
    struct rk_slice id;
    struct rk_slice addr;
    struct rk_slice client_addr;
    struct rk_slice zone;
    enum gossip_state state;
    int64_t generation;
    uint64_t heartbeat;
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t
rng_next(struct gossip *g)
{
    uint64_t x = (g->rng += 0x9e3779b97f4a7c15ull);

    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Uniform-enough integer in [0, k), k > 0 (bias below 2^-40 for k < 2^24). */
static size_t
rng_below(struct gossip *g, size_t k)
{
    return (size_t)(rng_next(g) % k);
}

static uint64_t
fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* len in [min, max] bytes, each printable ASCII other than space. */
static int
valid_name(const char *p, size_t len, size_t min, size_t max)
{
    if (len < min || len > max) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

static int
valid_cstr(const char *s, size_t min, size_t max)
{
    return s != NULL && valid_name(s, strnlen(s, max + 1), min, max);
}

/* Byte-wise order of a slice against a C string. */
static int
slice_cmp(struct rk_slice a, const char *s, size_t slen)
{
    size_t n = a.len < slen ? a.len : slen;
    int c = n > 0 ? memcmp(a.ptr, s, n) : 0;

    if (c != 0) {
        return c;
    }
    return a.len < slen ? -1 : a.len > slen;
}

/* Parse a decimal in [0, INT64_MAX]: digits only, no sign or spaces. */
static int
parse_u63(struct rk_slice s, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0 || s.len > 19) {
        return RK_EPROTO;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.ptr[i] - '0';

        if (d > 9 || v > ((uint64_t)INT64_MAX - d) / 10) {
            return RK_EPROTO;
        }
        v = v * 10 + d;
    }
    *out = v;
    return RK_OK;
}

static int
parse_state(struct rk_slice s, enum gossip_state *out)
{
    for (int i = GOSSIP_JOINING; i <= GOSSIP_LEFT; i++) {
        if (s.len == strlen(wire_states[i]) &&
            strncasecmp(s.ptr, wire_states[i], s.len) == 0) {
            *out = (enum gossip_state)i;
            return RK_OK;
        }
    }
    return RK_EPROTO;
}

/* Check and convert the FIELDS arguments of one entry. */
static int
parse_entry(const struct rk_slice *f, struct entry *e)
{
    uint64_t gen;

    if (!valid_name(f[0].ptr, f[0].len, 1, GOSSIP_ID_MAX) ||
        !valid_name(f[1].ptr, f[1].len, 1, GOSSIP_ADDR_MAX) ||
        !valid_name(f[2].ptr, f[2].len, 1, GOSSIP_ADDR_MAX) ||
        !valid_name(f[3].ptr, f[3].len, 0, GOSSIP_ZONE_MAX) ||
        parse_state(f[4], &e->state) != RK_OK ||
        parse_u63(f[5], &gen) != RK_OK ||
        parse_u63(f[6], &e->heartbeat) != RK_OK) {
        return RK_EPROTO;
    }
    e->id = f[0];
    e->addr = f[1];
    e->client_addr = f[2];
    e->zone = f[3];
    e->generation = (int64_t)gen;
    return RK_OK;
}

/* Index of the member with this id, or where it would be inserted, with
 * *found set accordingly. */
static size_t
find_slot(const struct gossip *g, struct rk_slice id, int *found)
{
    size_t lo = 0;
    size_t hi = g->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct member *m = g->members[mid];
        int c = slice_cmp(id, m->id, m->id_len);

        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    *found = 0;
    return lo;
}

static struct member *
find_slice(const struct gossip *g, struct rk_slice id)
{
    int found;
    size_t i = find_slot(g, id, &found);

    return found ? g->members[i] : NULL;
}

static struct member *
find(const struct gossip *g, const char *id)
{
    struct rk_slice s;

    if (id == NULL) {
        return NULL;
    }
    s.ptr = id;
    s.len = strlen(id);
    return find_slice(g, s);
}

/* Order of a received entry against a stored one (see gossip.h). */
static int
entry_cmp(const struct entry *e, const struct member *m)
{
    int c;

    if (e->generation != m->generation) {
        return e->generation < m->generation ? -1 : 1;
    }
    if (e->heartbeat != m->heartbeat) {
        return e->heartbeat < m->heartbeat ? -1 : 1;
    }
    if (e->state != m->state) {
        return e->state < m->state ? -1 : 1;
    }
    c = slice_cmp(e->addr, m->addr, strlen(m->addr));
    if (c != 0) {
        return c;
    }
    c = slice_cmp(e->client_addr, m->client_addr, strlen(m->client_addr));
    if (c != 0) {
        return c;
    }
    return slice_cmp(e->zone, m->zone, strlen(m->zone));
}

static void
copy_slice(char *dst, struct rk_slice s)
{
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = '\0';
}

/* Raise the own (generation, heartbeat) by one step. */
static void
self_bump(struct gossip *g)
{
    struct member *s = g->self;

    if (s->heartbeat < (uint64_t)INT64_MAX) {
        s->heartbeat++;
    } else if (s->generation < INT64_MAX) {
        s->generation++;
        s->heartbeat = 0;
    }
}

/* ---- failure detector ------------------------------------------------- */

static void
fd_push(struct gossip *g, struct member *m, int64_t iv)
{
    if (iv < 0) {
        iv = 0;
    }
    if (iv > g->max_interval) {
        iv = g->max_interval;
    }
    if (m->nsamples == g->window) {
        m->sum -= m->samples[m->next];
    } else {
        m->nsamples++;
    }
    m->samples[m->next] = (uint32_t)iv;
    m->sum += (uint64_t)iv;
    m->next = (m->next + 1) % g->window;
}

/* A member first seen, or seen with a new generation: one bootstrap
 * sample of two rounds, an arrival now, no failures. */
static void
fd_reset(struct gossip *g, struct member *m, int64_t now)
{
    m->nsamples = 0;
    m->next = 0;
    m->sum = 0;
    fd_push(g, m, 2 * g->interval);
    m->last_arrival = now;
    m->last_success = NO_TIME;
    m->fails = 0;
    m->last_fail = NO_TIME;
}

/*
 * The heartbeat rose by `steps` (>= 1) at now: the time since the last
 * arrival is split evenly over the heartbeats it covers, so the window
 * estimates the owner's heartbeat period, not how often gossip happened
 * to bring a new value (which misses some when several rounds' worth
 * arrive in one message).
 */
static void
fd_arrival(struct gossip *g, struct member *m, uint64_t steps, int64_t now)
{
    int64_t iv;

    if (now <= m->last_arrival) {
        return;
    }
    iv = now - m->last_arrival;
    if (steps > g->window) {
        steps = g->window;
    }
    for (uint64_t i = 0; i < steps; i++) {
        fd_push(g, m, iv / (int64_t)steps);
    }
    m->last_arrival = now;
}

static double
fd_phi(const struct gossip *g, const struct member *m, int64_t now)
{
    int64_t last = m->last_arrival;
    double mean;
    double t;

    if (m == g->self || m->state == GOSSIP_LEFT) {
        return 0.0;
    }
    if (m->last_success != NO_TIME && m->last_success > last) {
        last = m->last_success;
    }
    t = now > last ? (double)(now - last) : 0.0;
    mean = (double)m->sum / (double)m->nsamples;
    if (mean < (double)g->interval / 2) {
        mean = (double)g->interval / 2;
    }
    return LOG10_E * t / mean;
}

static enum gossip_liveness
fd_liveness(struct gossip *g, struct member *m, int64_t now)
{
    enum gossip_liveness l = GOSSIP_ALIVE;
    double phi;

    if (m == g->self) {
        return GOSSIP_ALIVE;
    }
    if (m->state == GOSSIP_LEFT) {
        return GOSSIP_DOWN;
    }
    phi = fd_phi(g, m, now);
    if (phi >= g->phi_threshold) {
        l = GOSSIP_DOWN;
    } else if (phi >= g->phi_suspect) {
        l = GOSSIP_SUSPECT;
    }
    if (m->fails > 0 && now - m->last_fail >= g->fail_hold) {
        m->fails = 0;
    }
    if (m->fails >= g->fail_limit) {
        l = GOSSIP_DOWN;
    } else if (m->fails > 0 && l == GOSSIP_ALIVE) {
        l = GOSSIP_SUSPECT;
    }
    return l;
}

static void
refresh_all(struct gossip *g, int64_t now)
{
    for (size_t i = 0; i < g->n; i++) {
        g->members[i]->liveness = fd_liveness(g, g->members[i], now);
    }
}

/* ---- the table -------------------------------------------------------- */

static void
member_free(struct member *m)
{
    if (m != NULL) {
        free(m->samples);
        free(m);
    }
}

/*
 * Insert a new member at index `at` with the given fields. Returns it, or
 * NULL when memory runs out (the table is unchanged then).
 */
static struct member *
member_insert(struct gossip *g, size_t at, struct rk_slice id,
              struct rk_slice addr, struct rk_slice client_addr,
              struct rk_slice zone)
{
    struct member *m = NULL;

    if (g->n == g->cap) {
        size_t cap = g->cap == 0 ? 8 : g->cap * 2;
        struct member **mv;
        size_t *sv;

        mv = realloc(g->members, cap * sizeof(*mv));
        if (mv == NULL) {
            goto out;
        }
        g->members = mv;
        sv = realloc(g->scratch, cap * sizeof(*sv));
        if (sv == NULL) {
            goto out;
        }
        g->scratch = sv;
        g->cap = cap;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        goto out;
    }
    m->samples = calloc(g->window, sizeof(*m->samples));
    if (m->samples == NULL) {
        free(m);
        m = NULL;
        goto out;
    }
    copy_slice(m->id, id);
    m->id_len = id.len;
    copy_slice(m->addr, addr);
    copy_slice(m->client_addr, client_addr);
    copy_slice(m->zone, zone);
    memmove(g->members + at + 1, g->members + at,
            (g->n - at) * sizeof(*g->members));
    g->members[at] = m;
    g->n++;
out:
    return m;
}

/* Overrule a greater entry about this node (see gossip.h). */
static void
refute(struct gossip *g, const struct entry *e)
{
    struct member *s = g->self;

    if (e->generation > s->generation) {
        s->generation = e->generation;
    }
    s->heartbeat = e->heartbeat;
    self_bump(g);
    g->stats.refuted++;
}

/* Merge one checked entry. Returns RK_OK or RK_ENOMEM. */
static int
merge(struct gossip *g, const struct entry *e, int64_t now)
{
    struct member *m;
    int found;
    size_t at = find_slot(g, e->id, &found);
    int changed;

    if (!found) {
        if (g->n >= GOSSIP_MAX_MEMBERS) {
            g->stats.dropped++;
            return RK_OK;
        }
        m = member_insert(g, at, e->id, e->addr, e->client_addr,
                          e->zone);
        if (m == NULL) {
            return RK_ENOMEM;
        }
        m->state = e->state;
        m->generation = e->generation;
        m->heartbeat = e->heartbeat;
        fd_reset(g, m, now);
        g->version++;
        return RK_OK;
    }
    m = g->members[at];
    if (entry_cmp(e, m) <= 0) {
        return RK_OK;
    }
    if (m == g->self) {
        refute(g, e);
        return RK_OK;
    }
    changed = e->state != m->state ||
              slice_cmp(e->addr, m->addr, strlen(m->addr)) != 0 ||
              slice_cmp(e->client_addr, m->client_addr,
                        strlen(m->client_addr)) != 0 ||
              slice_cmp(e->zone, m->zone, strlen(m->zone)) != 0;
    if (e->generation != m->generation) {
        fd_reset(g, m, now);
    } else if (e->heartbeat > m->heartbeat) {
        fd_arrival(g, m, e->heartbeat - m->heartbeat, now);
    }
    m->state = e->state;
    m->generation = e->generation;
    m->heartbeat = e->heartbeat;
    copy_slice(m->addr, e->addr);
    copy_slice(m->client_addr, e->client_addr);
    copy_slice(m->zone, e->zone);
    if (changed) {
        g->version++;
    }
    return RK_OK;
}

/* ---- messages --------------------------------------------------------- */

/* Encode the whole table into g->msg. RK_OK or RK_ENOMEM. */
static int
encode(struct gossip *g)
{
    struct resp_buf *b = &g->msg;
    int rc = RK_OK;

    /* Every add returns RK_OK (0) or RK_ENOMEM: OR-ing keeps a failure. */
    resp_buf_clear(b);
    rc |= resp_add_array(b, (long long)(HEADER + FIELDS * g->n +
                                        (g->tr.clock != NULL)));
    rc |= resp_add_bulk_str(b, "RKGOSSIP");
    rc |= resp_add_bulk(b, g->self->id, g->self->id_len);
    rc |= resp_add_bulk_ll(b, (long long)g->n);
    for (size_t i = 0; i < g->n && rc == RK_OK; i++) {
        const struct member *m = g->members[i];

        rc |= resp_add_bulk(b, m->id, m->id_len);
        rc |= resp_add_bulk_str(b, m->addr);
        rc |= resp_add_bulk_str(b, m->client_addr);
        rc |= resp_add_bulk_str(b, m->zone);
        rc |= resp_add_bulk_str(b, wire_states[m->state]);
        rc |= resp_add_bulk_ll(b, (long long)m->generation);
        rc |= resp_add_bulk_ll(b, (long long)m->heartbeat);
    }
    if (g->tr.clock != NULL && rc == RK_OK) {
        uint64_t hlc = g->tr.clock(g->tr.ctx);

        /* Clamped to what the wire allows (an HLC reaches 2^63 in
         * 2091), so the message stays well-formed. */
        rc |= resp_add_bulk_ll(b, (long long)(hlc <= INT64_MAX
                                              ? hlc : INT64_MAX));
    }
    if (rc != RK_OK) {
        resp_buf_clear(b);
        return RK_ENOMEM;
    }
    return RK_OK;
}

/* Hand the encoded table to the transport for addr. */
static void
send_to(struct gossip *g, const char *addr)
{
    g->stats.sent++;
    if (g->tr.send(g->tr.ctx, addr, g->msg.ptr, g->msg.len) != 0) {
        g->stats.send_errors++;
    }
}

/*
 * Whether a member other than this node listens on addr. LEFT members
 * count: a seed that was decommissioned is not contacted forever, and a
 * new node at its address contacts its own seeds anyway.
 */
static int
addr_known(const struct gossip *g, const char *addr)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct member *m = g->members[i];

        if (m != g->self && strcmp(m->addr, addr) == 0) {
            return 1;
        }
    }
    return 0;
}

/* One gossip round: see gossip.h. */
static int
round_run(struct gossip *g)
{
    size_t nlive = 0;
    size_t ndown = 0;
    size_t k;
    int rc;

    self_bump(g);
    g->stats.rounds++;
    rc = encode(g);
    if (rc != RK_OK) {
        return rc;
    }
    /* Live peers first in scratch, DOWN ones from the end. */
    for (size_t i = 0; i < g->n; i++) {
        const struct member *m = g->members[i];

        if (m == g->self || m->state == GOSSIP_LEFT) {
            continue;
        }
        if (m->liveness == GOSSIP_DOWN) {
            g->scratch[g->n - 1 - ndown++] = i;
        } else {
            g->scratch[nlive++] = i;
        }
    }
    k = nlive < g->fanout ? nlive : g->fanout;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + rng_below(g, nlive - i);
        size_t t = g->scratch[i];

        g->scratch[i] = g->scratch[j];
        g->scratch[j] = t;
        send_to(g, g->members[g->scratch[i]]->addr);
    }
    if (ndown > 0 && rng_below(g, nlive + 1) < ndown) {
        size_t j = g->n - 1 - rng_below(g, ndown);

        send_to(g, g->members[g->scratch[j]]->addr);
    }
    for (size_t i = 0; i < g->nseeds; i++) {
        if (!addr_known(g, g->seeds[i])) {
            send_to(g, g->seeds[i]);
        }
    }
    return RK_OK;
}

/* ---- public API ------------------------------------------------------- */

static void
options_defaults(struct gossip *g, const struct gossip_options *o)
{
    g->interval = o->interval_ms > 0 ? o->interval_ms
                                     : GOSSIP_DEFAULT_INTERVAL_MS;
    g->fanout = o->fanout > 0 ? o->fanout : GOSSIP_DEFAULT_FANOUT;
    g->phi_threshold = o->phi_threshold > 0 ? o->phi_threshold
                                            : GOSSIP_DEFAULT_PHI_THRESHOLD;
    g->phi_suspect = o->phi_suspect > 0 ? o->phi_suspect
                                        : g->phi_threshold / 2;
    g->window = o->window > 0 ? o->window : GOSSIP_DEFAULT_WINDOW;
    g->max_interval = o->max_interval_ms > 0 ? o->max_interval_ms
                                             : 4 * g->interval;
    g->fail_limit = o->fail_limit > 0 ? o->fail_limit
                                      : GOSSIP_DEFAULT_FAIL_LIMIT;
    g->fail_hold = o->fail_hold_ms > 0 ? o->fail_hold_ms : 5 * g->interval;
}

static int
options_valid(const struct gossip_options *o)
{
    if (o == NULL || !valid_cstr(o->id, 1, GOSSIP_ID_MAX) ||
        !valid_cstr(o->addr, 1, GOSSIP_ADDR_MAX) ||
        !valid_cstr(o->client_addr, 1, GOSSIP_ADDR_MAX) ||
        (o->zone != NULL && !valid_cstr(o->zone, 0, GOSSIP_ZONE_MAX)) ||
        o->transport.send == NULL || o->generation < 0 ||
        (unsigned)o->state > GOSSIP_LEFT || o->nseeds > GOSSIP_MAX_SEEDS ||
        (o->nseeds > 0 && o->seeds == NULL) ||
        o->interval_ms < 0 || o->interval_ms > INT32_MAX ||
        o->max_interval_ms < 0 || o->max_interval_ms > INT32_MAX ||
        o->fail_hold_ms < 0 || o->fanout > MAX_FANOUT ||
        o->window > MAX_WINDOW || !(o->phi_threshold >= 0) ||
        !(o->phi_suspect >= 0)) {
        return 0;
    }
    if (o->phi_suspect > 0 &&
        o->phi_suspect > (o->phi_threshold > 0
                              ? o->phi_threshold
                              : GOSSIP_DEFAULT_PHI_THRESHOLD)) {
        return 0;
    }
    for (size_t i = 0; i < o->nseeds; i++) {
        if (!valid_cstr(o->seeds[i], 1, GOSSIP_ADDR_MAX)) {
            return 0;
        }
    }
    return 1;
}

struct gossip *
gossip_create(const struct gossip_options *o)
{
    struct gossip *g = NULL;
    struct rk_slice id;
    struct rk_slice addr;
    struct rk_slice client_addr;
    struct rk_slice zone;
    struct member *self;
    int ok = 0;

    if (!options_valid(o)) {
        goto out;
    }
    g = calloc(1, sizeof(*g));
    if (g == NULL) {
        goto out;
    }
    resp_buf_init(&g->msg);
    options_defaults(g, o);
    g->tr = o->transport;
    g->rng = o->seed ^ fnv1a64(o->id);
    g->version = 1;

    id.ptr = o->id;
    id.len = strlen(o->id);
    addr.ptr = o->addr;
    addr.len = strlen(o->addr);
    client_addr.ptr = o->client_addr;
    client_addr.len = strlen(o->client_addr);
    zone.ptr = o->zone != NULL ? o->zone : "";
    zone.len = strlen(zone.ptr);
    self = member_insert(g, 0, id, addr, client_addr, zone);
    if (self == NULL) {
        goto out;
    }
    self->state = o->state;
    self->generation = o->generation;
    self->heartbeat = 0;
    self->liveness = GOSSIP_ALIVE;
    fd_reset(g, self, 0);
    g->self = self;

    g->seeds = calloc(o->nseeds > 0 ? o->nseeds : 1, sizeof(*g->seeds));
    if (g->seeds == NULL) {
        goto out;
    }
    for (size_t i = 0; i < o->nseeds; i++) {
        int dup = strcmp(o->seeds[i], o->addr) == 0;

        for (size_t j = 0; j < g->nseeds && !dup; j++) {
            dup = strcmp(g->seeds[j], o->seeds[i]) == 0;
        }
        if (dup) {
            continue;
        }
        g->seeds[g->nseeds] = strdup(o->seeds[i]);
        if (g->seeds[g->nseeds] == NULL) {
            goto out;
        }
        g->nseeds++;
    }
    ok = 1;
out:
    if (!ok) {
        gossip_destroy(g);
        g = NULL;
    }
    return g;
}

void
gossip_destroy(struct gossip *g)
{
    if (g == NULL) {
        return;
    }
    for (size_t i = 0; i < g->n; i++) {
        member_free(g->members[i]);
    }
    free(g->members);
    free(g->scratch);
    if (g->seeds != NULL) {
        for (size_t i = 0; i < g->nseeds; i++) {
            free(g->seeds[i]);
        }
        free(g->seeds);
    }
    resp_buf_deinit(&g->msg);
    free(g);
}

int
gossip_tick(struct gossip *g, int64_t now_ms)
{
    int rc = RK_OK;

    refresh_all(g, now_ms);
    if (!g->started || now_ms >= g->next_round) {
        if (!g->started) {
            g->started = 1;
            g->next_round = now_ms;
        }
        g->next_round += g->interval;
        if (g->next_round <= now_ms) {
            g->next_round = now_ms + g->interval;
        }
        rc = round_run(g);
    }
    return rc;
}

int
gossip_receive(struct gossip *g, size_t argc, const struct rk_slice *argv,
               int64_t now_ms)
{
    struct entry e;
    struct rk_slice sender;
    struct member *from;
    uint64_t n;
    uint64_t hlc = 0;
    int has_clock;
    int knows_me = 0;
    int rc = RK_OK;

    if (argc < HEADER || argv == NULL ||
        argv[0].len != 8 || strncasecmp(argv[0].ptr, "RKGOSSIP", 8) != 0 ||
        !valid_name(argv[1].ptr, argv[1].len, 1, GOSSIP_ID_MAX) ||
        parse_u63(argv[2], &n) != RK_OK || n > GOSSIP_MAX_MEMBERS ||
        (argc != HEADER + FIELDS * (size_t)n &&
         argc != HEADER + FIELDS * (size_t)n + 1)) {
        goto bad;
    }
    for (size_t i = 0; i < n; i++) {
        if (parse_entry(argv + HEADER + FIELDS * i, &e) != RK_OK) {
            goto bad;
        }
    }
    /* The sender's clock is the optional last argument. */
    has_clock = argc == HEADER + FIELDS * (size_t)n + 1;
    if (has_clock && parse_u63(argv[argc - 1], &hlc) != RK_OK) {
        goto bad;
    }
    if (has_clock && g->tr.observe != NULL) {
        g->tr.observe(g->tr.ctx, hlc);
    }
    sender = argv[1];
    if (slice_cmp(sender, g->self->id, g->self->id_len) == 0) {
        /* Our own message came back (a seed spelt differently). */
        return RK_OK;
    }
    for (size_t i = 0; i < n; i++) {
        int r;

        parse_entry(argv + HEADER + FIELDS * i, &e);
        if (slice_cmp(e.id, g->self->id, g->self->id_len) == 0 &&
            e.generation >= g->self->generation) {
            knows_me = 1;
        }
        r = merge(g, &e, now_ms);
        if (r != RK_OK) {
            rc = r;
        }
    }
    g->stats.received++;
    refresh_all(g, now_ms);
    from = find_slice(g, sender);
    if (!knows_me && from != NULL && from->state != GOSSIP_LEFT &&
        strcmp(from->addr, g->self->addr) != 0 && encode(g) == RK_OK) {
        send_to(g, from->addr);
    }
    return rc;
bad:
    g->stats.rejected++;
    return RK_EPROTO;
}

int
gossip_set_state(struct gossip *g, enum gossip_state state)
{
    if ((unsigned)state > GOSSIP_LEFT || state < g->self->state) {
        return RK_ERR;
    }
    if (state != g->self->state) {
        g->self->state = state;
        self_bump(g);
        g->version++;
    }
    return RK_OK;
}

int
gossip_remove(struct gossip *g, const char *id)
{
    struct member *m = find(g, id);

    if (m == NULL || m == g->self) {
        return RK_ERR;
    }
    if (m->state == GOSSIP_LEFT) {
        return RK_OK;
    }
    if (m->heartbeat >= (uint64_t)INT64_MAX) {
        return RK_ERR;
    }
    m->heartbeat++;
    m->state = GOSSIP_LEFT;
    m->liveness = GOSSIP_DOWN;
    g->version++;
    return RK_OK;
}

int
gossip_report_failure(struct gossip *g, const char *id, int64_t now_ms)
{
    struct member *m = find(g, id);

    if (m == NULL) {
        return RK_ERR;
    }
    if (m == g->self) {
        return RK_OK;
    }
    if (m->fails > 0 && now_ms - m->last_fail >= g->fail_hold) {
        m->fails = 0;
    }
    if (m->fails < UINT_MAX) {
        m->fails++;
    }
    m->last_fail = now_ms;
    m->liveness = fd_liveness(g, m, now_ms);
    return RK_OK;
}

int
gossip_report_success(struct gossip *g, const char *id, int64_t now_ms)
{
    struct member *m = find(g, id);

    if (m == NULL) {
        return RK_ERR;
    }
    if (m == g->self) {
        return RK_OK;
    }
    m->fails = 0;
    if (m->last_success == NO_TIME || now_ms > m->last_success) {
        m->last_success = now_ms;
    }
    m->liveness = fd_liveness(g, m, now_ms);
    return RK_OK;
}

int
gossip_liveness(struct gossip *g, const char *id, int64_t now_ms)
{
    struct member *m = find(g, id);

    if (m == NULL) {
        return RK_ERR;
    }
    m->liveness = fd_liveness(g, m, now_ms);
    return (int)m->liveness;
}

int
gossip_alive(struct gossip *g, const char *id, int64_t now_ms)
{
    int l = gossip_liveness(g, id, now_ms);

    return l == GOSSIP_ALIVE || l == GOSSIP_SUSPECT;
}

double
gossip_phi(const struct gossip *g, const char *id, int64_t now_ms)
{
    const struct member *m = find(g, id);

    return m == NULL ? -1.0 : fd_phi(g, m, now_ms);
}

int
gossip_members(const struct gossip *g, struct gossip_member **out,
               size_t *n)
{
    struct gossip_member *v = calloc(g->n, sizeof(*v));

    *out = NULL;
    *n = 0;
    if (v == NULL) {
        return RK_ENOMEM;
    }
    for (size_t i = 0; i < g->n; i++) {
        const struct member *m = g->members[i];

        memcpy(v[i].id, m->id, sizeof(v[i].id));
        memcpy(v[i].addr, m->addr, sizeof(v[i].addr));
        memcpy(v[i].client_addr, m->client_addr, sizeof(v[i].client_addr));
        memcpy(v[i].zone, m->zone, sizeof(v[i].zone));
        v[i].state = m->state;
        v[i].liveness = m->liveness;
        v[i].generation = m->generation;
        v[i].heartbeat = m->heartbeat;
        v[i].self = m == g->self;
    }
    *out = v;
    *n = g->n;
    return RK_OK;
}

uint64_t
gossip_version(const struct gossip *g)
{
    return g->version;
}

void
gossip_stats(const struct gossip *g, struct gossip_stats *st)
{
    *st = g->stats;
}

const char *
gossip_state_name(enum gossip_state s)
{
    static const char *const names[] = {
        "joining", "up", "leaving", "left"
    };

    return (unsigned)s <= GOSSIP_LEFT ? names[s] : "?";
}

const char *
gossip_liveness_name(enum gossip_liveness l)
{
    static const char *const names[] = { "alive", "suspect", "down" };

    return (unsigned)l <= GOSSIP_DOWN ? names[l] : "?";
}
