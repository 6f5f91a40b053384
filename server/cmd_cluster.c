/*
 * server/cmd_cluster.c - CLUSTER MYID, KEYSLOT, INFO, NODES, SLOTS, SHARDS
 * and HELP, in Redis Cluster 7.0's formats, answered from the member
 * snapshot and the ring that the main thread refreshes (peer.h).
 *
 * A slot's preference list is shown as a Redis replica set: its first
 * member is the primary, the others are replicas. Consecutive slots with
 * the same preference list form one range. Nodes appear with their client
 * address as gossiped and the 40-character name hex_id() gives them.
 */
#include "command.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "coord.h"
#include "gossip.h"
#include "peer.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "srv.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define CLUSTER_SLOTS 16384
#define HEX_ID_LEN 40

/*
 * Redis's 40-character node name for a ringkv node id: three 64-bit
 * FNV-1a hashes with different bases, each mixed by splitmix64's
 * finaliser, as hex. Stable across restarts and equal on every node.
 * out needs HEX_ID_LEN + 1 bytes.
 */
static void
hex_id(const char *id, char *out)
{
    static const uint64_t base[3] = {
        0xcbf29ce484222325ull, 0x84222325cbf29ce4ull, 0x9e3779b97f4a7c15ull
    };
    char tmp[3 * 16 + 1];

    for (int k = 0; k < 3; k++) {
        uint64_t h = base[k];

        for (const char *p = id; *p != '\0'; p++) {
            h ^= (unsigned char)*p;
            h *= 0x100000001b3ull;
        }
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebull;
        h ^= h >> 31;
        snprintf(tmp + 16 * k, 17, "%016" PRIx64, h);
    }
    memcpy(out, tmp, HEX_ID_LEN);
    out[HEX_ID_LEN] = '\0';
}

/* The snapshot, or an error reply (then 0 is returned). */
static int
get_view(struct cmd_ctx *x, struct srv_cluster_view *v)
{
    if (srv_peers_view(x->srv, v) != RK_OK) {
        reply_error(x, "-OOM out of memory");
        return 0;
    }
    return 1;
}

/* Client address of m split into host (brackets of IPv6 removed) and
 * port. host needs GOSSIP_ADDR_MAX + 1 bytes. */
static void
client_endpoint(const struct gossip_member *m, char *host, int *port)
{
    const char *a = m->client_addr;
    const char *colon = strrchr(a, ':');
    size_t len = colon != NULL ? (size_t)(colon - a) : strlen(a);

    if (len >= 2 && a[0] == '[' && a[len - 1] == ']') {
        a++;
        len -= 2;
    }
    memcpy(host, a, len);
    host[len] = '\0';
    *port = colon != NULL ? atoi(colon + 1) : 0;
}

/* One run of consecutive slots sharing a preference list. */
struct slot_range {
    uint16_t start;
    uint16_t end;
    unsigned n;                 /* length of pref */
    const uint16_t *pref;       /* ring member indexes, owned by the ring */
};

/* A ring member as the replies show it. */
struct node_info {
    const struct gossip_member *m;  /* in the view */
    char hex[HEX_ID_LEN + 1];
    char host[GOSSIP_ADDR_MAX + 1];
    int port;
};

/* The ring and its ranges as one CLUSTER reply sees them. */
struct topo {
    struct srv_cluster_view v;
    const struct ring *ring;    /* NULL when no member owns slots */
    unsigned nrep;              /* length of every preference list */
    struct node_info *nodes;    /* [ring_nmembers()], by ring index */
    struct slot_range *ranges;
    size_t nranges;
};

static void
topo_deinit(struct topo *t)
{
    free(t->nodes);
    free(t->ranges);
    srv_peers_view_free(&t->v);
}

/*
 * Take the snapshot and cut the ring into ranges. Returns 1, or 0 after
 * replying with an error (nothing to release then).
 */
static int
topo_init(struct cmd_ctx *x, struct topo *t)
{
    const char *err = "-OOM out of memory";
    size_t nmem;

    memset(t, 0, sizeof(*t));
    if (!get_view(x, &t->v)) {
        return 0;
    }
    t->ring = t->v.ring;
    if (t->ring == NULL) {
        return 1;
    }
    t->nrep = ring_replicas(t->ring);
    nmem = ring_nmembers(t->ring);
    t->nodes = calloc(nmem, sizeof(*t->nodes));
    t->ranges = calloc(RING_SLOTS, sizeof(*t->ranges));
    if (t->nodes == NULL || t->ranges == NULL) {
        goto oom;
    }
    for (size_t i = 0; i < nmem; i++) {
        const char *id = ring_member_id(t->ring, i);
        size_t j = 0;

        while (j < t->v.n && strcmp(t->v.members[j].id, id) != 0) {
            j++;
        }
        if (j == t->v.n) {
            /* The ring and members are swapped together: cannot be. */
            err = "cluster topology and members disagree";
            goto oom;
        }
        t->nodes[i].m = &t->v.members[j];
        hex_id(id, t->nodes[i].hex);
        client_endpoint(&t->v.members[j], t->nodes[i].host,
                        &t->nodes[i].port);
    }
    for (unsigned s = 0; s < RING_SLOTS; s++) {
        const uint16_t *p = ring_preference(t->ring, (uint16_t)s);
        struct slot_range *last = t->nranges > 0
                                      ? &t->ranges[t->nranges - 1] : NULL;

        if (last != NULL &&
            memcmp(last->pref, p, t->nrep * sizeof(*p)) == 0) {
            last->end = (uint16_t)s;
        } else {
            t->ranges[t->nranges].start = (uint16_t)s;
            t->ranges[t->nranges].end = (uint16_t)s;
            t->ranges[t->nranges].n = t->nrep;
            t->ranges[t->nranges].pref = p;
            t->nranges++;
        }
    }
    return 1;
oom:
    topo_deinit(t);
    reply_error(x, err);
    return 0;
}

/* Order of ranges by preference list, then start. */
static int
range_cmp(const void *a, const void *b)
{
    const struct slot_range *x = a;
    const struct slot_range *y = b;

    for (unsigned i = 0; i < x->n; i++) {
        if (x->pref[i] != y->pref[i]) {
            return x->pref[i] < y->pref[i] ? -1 : 1;
        }
    }
    return x->start < y->start ? -1 : x->start > y->start;
}

/* "online", or "failed" for a member this node holds DOWN. */
static const char *
node_health(const struct gossip_member *m)
{
    return !m->self && m->liveness == GOSSIP_DOWN ? "failed" : "online";
}

/* Members that are not LEFT. */
static size_t
known_nodes(const struct srv_cluster_view *v)
{
    size_t n = 0;

    for (size_t i = 0; i < v->n; i++) {
        n += v->members[i].state != GOSSIP_LEFT;
    }
    return n;
}

static void
cluster_myid(struct cmd_ctx *x)
{
    reply_bulk_str(x, x->srv->node_id);
}

static void
cluster_keyslot(struct cmd_ctx *x)
{
    reply_int(x, ring_key_slot(x->argv[2].ptr, x->argv[2].len));
}

static void
cluster_info(struct cmd_ctx *x)
{
    struct srv_cluster_view v;
    char text[1024];
    size_t known;
    int n;

    if (!get_view(x, &v)) {
        return;
    }
    known = known_nodes(&v);
    n = snprintf(text, sizeof(text),
                 "cluster_state:ok\r\n"
                 "cluster_slots_assigned:%d\r\n"
                 "cluster_slots_ok:%d\r\n"
                 "cluster_slots_pfail:0\r\n"
                 "cluster_slots_fail:0\r\n"
                 "cluster_known_nodes:%zu\r\n"
                 "cluster_size:%zu\r\n"
                 "cluster_current_epoch:0\r\n"
                 "cluster_my_epoch:0\r\n"
                 "cluster_stats_messages_sent:%" PRIu64 "\r\n"
                 "cluster_stats_messages_received:%" PRIu64 "\r\n"
                 "total_cluster_links_buffer_limit_exceeded:0\r\n",
                 CLUSTER_SLOTS, CLUSTER_SLOTS, known, known, v.sent,
                 v.received);
    srv_peers_view_free(&v);
    resp_add_verbatim(x->out, "txt", text, (size_t)n);
}

/*
 * Append " start-end" (or " slot") to text for every run of slots whose
 * primary is ring member idx; ranges that touch are written as one.
 * Returns RK_OK or RK_ENOMEM.
 */
static int
primary_slots(const struct topo *t, uint16_t idx, struct resp_buf *text)
{
    char buf[32];
    long start = -1;
    long end = -1;
    int rc = RK_OK;

    for (size_t r = 0; r <= t->nranges; r++) {
        const struct slot_range *sr = r < t->nranges ? &t->ranges[r] : NULL;
        int n;

        if (sr != NULL && sr->pref[0] != idx) {
            continue;
        }
        if (sr != NULL && start >= 0 && sr->start == end + 1) {
            end = sr->end;
            continue;
        }
        if (start >= 0) {
            n = start == end ? snprintf(buf, sizeof(buf), " %ld", start)
                             : snprintf(buf, sizeof(buf), " %ld-%ld", start,
                                        end);
            rc |= resp_add_raw(text, buf, (size_t)n);
        }
        if (sr != NULL) {
            start = sr->start;
            end = sr->end;
        }
    }
    return rc;
}

/*
 * One line per member that is not LEFT, as Redis 7.0 writes them:
 *   <hex id> <ip>:<port>@<cport> <flags> - 0 0 0 <link> [<slots> ...]
 * ip and port are the member's client address, cport the port of its
 * cluster address; the slots are the ranges it is the primary of.
 */
static void
cluster_nodes(struct cmd_ctx *x)
{
    struct topo t;
    struct resp_buf text;
    char line[2 * GOSSIP_ADDR_MAX + 200];
    char host[GOSSIP_ADDR_MAX + 1];
    char hex[HEX_ID_LEN + 1];
    int rc = RK_OK;

    if (!topo_init(x, &t)) {
        return;
    }
    resp_buf_init(&text);
    for (size_t i = 0; i < t.v.n && rc == RK_OK; i++) {
        const struct gossip_member *m = &t.v.members[i];
        const char *colon = strrchr(m->addr, ':');
        int down = !m->self && m->liveness == GOSSIP_DOWN;
        int idx = t.ring != NULL ? ring_member_index(t.ring, m->id) : -1;
        int port;
        int n;

        if (m->state == GOSSIP_LEFT) {
            continue;
        }
        hex_id(m->id, hex);
        client_endpoint(m, host, &port);
        n = snprintf(line, sizeof(line), "%s %s:%d@%s %s%s - 0 0 0 %s",
                     hex, host, port, colon != NULL ? colon + 1 : "0",
                     m->self ? "myself,master" : "master",
                     down ? ",fail?" : "",
                     down ? "disconnected" : "connected");
        if (n <= 0 || (size_t)n >= sizeof(line)) {
            rc = RK_ERR;
            break;
        }
        rc |= resp_add_raw(&text, line, (size_t)n);
        if (idx >= 0) {
            rc |= primary_slots(&t, (uint16_t)idx, &text);
        }
        rc |= resp_add_raw(&text, "\n", 1);
    }
    if (rc != RK_OK) {
        reply_error(x, "-OOM out of memory");
        goto out;
    }
    resp_add_verbatim(x->out, "txt", text.ptr, text.len);
out:
    resp_buf_deinit(&text);
    topo_deinit(&t);
}

/* One node of a preference list: [ip, port, id, {}] as Redis 7.0. */
static void
slots_node(struct cmd_ctx *x, const struct node_info *ni)
{
    reply_array(x, 4);
    reply_bulk_str(x, ni->host);
    reply_int(x, ni->port);
    reply_bulk_str(x, ni->hex);
    resp_add_map(x->out, 0);
}

/*
 * CLUSTER SLOTS: one entry per range,
 *   [start, end, primary, replica, ...]
 * each node as slots_node() writes it. Empty when no member owns slots.
 */
static void
cluster_slots(struct cmd_ctx *x)
{
    struct topo t;

    if (!topo_init(x, &t)) {
        return;
    }
    reply_array(x, (long long)t.nranges);
    for (size_t r = 0; r < t.nranges; r++) {
        const struct slot_range *sr = &t.ranges[r];

        reply_array(x, 2 + (long long)t.nrep);
        reply_int(x, sr->start);
        reply_int(x, sr->end);
        for (unsigned k = 0; k < t.nrep; k++) {
            slots_node(x, &t.nodes[sr->pref[k]]);
        }
    }
    topo_deinit(&t);
}

/* One node of a shard: a map of 7 fields as Redis 7.0 writes it. */
static void
shards_node(struct cmd_ctx *x, const struct node_info *ni, int primary)
{
    resp_add_map(x->out, 7);
    reply_bulk_str(x, "id");
    reply_bulk_str(x, ni->hex);
    reply_bulk_str(x, "port");
    reply_int(x, ni->port);
    reply_bulk_str(x, "ip");
    reply_bulk_str(x, ni->host);
    reply_bulk_str(x, "endpoint");
    reply_bulk_str(x, ni->host);
    reply_bulk_str(x, "role");
    reply_bulk_str(x, primary ? "master" : "replica");
    reply_bulk_str(x, "replication-offset");
    reply_int(x, 0);
    reply_bulk_str(x, "health");
    reply_bulk_str(x, node_health(ni->m));
}

/*
 * CLUSTER SHARDS: a shard is one distinct preference list, with every
 * range that has it:
 *   [{slots: [start, end, ...], nodes: [primary, replica, ...]}, ...]
 */
static void
cluster_shards(struct cmd_ctx *x)
{
    struct topo t;
    size_t nshards = 0;

    if (!topo_init(x, &t)) {
        return;
    }
    qsort(t.ranges, t.nranges, sizeof(*t.ranges), range_cmp);
    for (size_t r = 0; r < t.nranges; r++) {
        nshards += r == 0 || memcmp(t.ranges[r].pref, t.ranges[r - 1].pref,
                                    t.nrep * sizeof(uint16_t)) != 0;
    }
    reply_array(x, (long long)nshards);
    for (size_t r = 0; r < t.nranges;) {
        const uint16_t *pref = t.ranges[r].pref;
        size_t e = r;

        while (e < t.nranges &&
               memcmp(t.ranges[e].pref, pref,
                      t.nrep * sizeof(uint16_t)) == 0) {
            e++;
        }
        resp_add_map(x->out, 2);
        reply_bulk_str(x, "slots");
        reply_array(x, 2 * (long long)(e - r));
        for (size_t k = r; k < e; k++) {
            reply_int(x, t.ranges[k].start);
            reply_int(x, t.ranges[k].end);
        }
        reply_bulk_str(x, "nodes");
        reply_array(x, t.nrep);
        for (unsigned k = 0; k < t.nrep; k++) {
            shards_node(x, &t.nodes[pref[k]], k == 0);
        }
        r = e;
    }
    topo_deinit(&t);
}

static void
cluster_help(struct cmd_ctx *x)
{
    static const char *const lines[] = {
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "MYID",
        "    Return the node id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port@bus-port> <flags> <master> <pings> <pongs> "
        "<epoch> <link> <slot> ...",
        "SHARDS",
        "    Return information about slot range mappings and the nodes "
        "associated with them.",
        "SLOTS",
        "    Return information about slots range mappings. Each range is "
        "made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "HELP",
        "    Prints this help.",
    };

    reply_array(x, (long long)NELEM(lines));
    for (size_t i = 0; i < NELEM(lines); i++) {
        reply_status(x, lines[i]);
    }
}

static const struct cmd_sub cluster_subcmds[] = {
    {"cluster|myid", cluster_myid},
    {"cluster|keyslot", cluster_keyslot},
    {"cluster|info", cluster_info},
    {"cluster|nodes", cluster_nodes},
    {"cluster|slots", cluster_slots},
    {"cluster|shards", cluster_shards},
    {"cluster|help", cluster_help},
};

/* CLUSTER MYID|KEYSLOT|INFO|NODES|SLOTS|SHARDS|HELP ... */
void
cmd_cluster(struct cmd_ctx *x)
{
    cmd_run_sub(x, cluster_subcmds, NELEM(cluster_subcmds), "CLUSTER");
}

/*
 * CONSISTENCY                       *4 read <level> write <level>
 * CONSISTENCY [READ level] [WRITE level]   +OK
 * The levels of this connection (DESIGN.md): ONE, QUORUM, ALL, a replica
 * count, or DEFAULT for the server's --read-quorum / --write-quorum.
 * Nothing changes unless every argument is valid.
 */
void
cmd_consistency(struct cmd_ctx *x)
{
    struct conn *c = x->c;
    int level[2] = { c->read_level, c->write_level };
    char name[16];

    if (x->argc == 1) {
        int r = c->read_level ? c->read_level
                              : atomic_load(&x->srv->read_level);
        int w = c->write_level ? c->write_level
                               : atomic_load(&x->srv->write_level);

        reply_array(x, 4);
        reply_bulk_str(x, "read");
        coord_level_name(r, name, sizeof(name));
        reply_bulk_str(x, name);
        reply_bulk_str(x, "write");
        coord_level_name(w, name, sizeof(name));
        reply_bulk_str(x, name);
        return;
    }
    if (x->argc % 2 == 0) {
        reply_syntax_error(x);
        return;
    }
    for (int i = 1; i < x->argc; i += 2) {
        const struct rk_slice *k = &x->argv[i];
        const struct rk_slice *v = &x->argv[i + 1];
        int which;

        if (k->len == 4 && strncasecmp(k->ptr, "read", 4) == 0) {
            which = 0;
        } else if (k->len == 5 && strncasecmp(k->ptr, "write", 5) == 0) {
            which = 1;
        } else {
            reply_syntax_error(x);
            return;
        }
        if (v->len == 7 && strncasecmp(v->ptr, "default", 7) == 0) {
            level[which] = 0;
        } else if (coord_level_parse(v->ptr, v->len, &level[which]) !=
                       RK_OK ||
                   level[which] > x->srv->cfg.replicas) {
            reply_errorf(x, "invalid consistency level '%.*s': use ONE, "
                         "QUORUM, ALL, DEFAULT or a replica count up to "
                         "--replicas",
                         (int)(v->len < 64 ? v->len : 64), v->ptr);
            return;
        }
    }
    c->read_level = level[0];
    c->write_level = level[1];
    reply_ok(x);
}
