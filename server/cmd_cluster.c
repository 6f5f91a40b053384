/*
 * server/cmd_cluster.c - CLUSTER MYID, KEYSLOT, INFO, NODES and HELP, in
 * Redis Cluster's formats, answered from the member snapshot that the main
 * thread refreshes (peer.h). Slots are not yet shown per node: every node
 * coordinates every key, so the cluster reports all 16384 slots as served.
 */
#include "command.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * One line per member that is not LEFT:
 *   <hex id> <host>:<port>@<cport> <flags> - 0 0 0 <link>
 * The client port of other nodes is not gossiped yet: it shows as 0.
 */
static void
cluster_nodes(struct cmd_ctx *x)
{
    struct srv_cluster_view v;
    struct resp_buf text;
    char line[GOSSIP_ADDR_MAX + 200];
    char hex[HEX_ID_LEN + 1];
    int ok = 1;

    if (!get_view(x, &v)) {
        return;
    }
    resp_buf_init(&text);
    for (size_t i = 0; i < v.n && ok; i++) {
        const struct gossip_member *m = &v.members[i];
        const char *colon = strrchr(m->addr, ':');
        int hlen = colon != NULL ? (int)(colon - m->addr)
                                 : (int)strlen(m->addr);
        int down = m->liveness == GOSSIP_DOWN;
        int n;

        if (m->state == GOSSIP_LEFT) {
            continue;
        }
        hex_id(m->id, hex);
        n = snprintf(line, sizeof(line), "%s %.*s:%d@%s %s%s - 0 0 0 %s\n",
                     hex, hlen, m->addr, m->self ? x->srv->cfg.port : 0,
                     colon != NULL ? colon + 1 : "0",
                     m->self ? "myself,master" : "master",
                     down ? ",fail?" : "",
                     down ? "disconnected" : "connected");
        ok = n > 0 && (size_t)n < sizeof(line) &&
             resp_add_raw(&text, line, (size_t)n) == RK_OK;
    }
    if (!ok) {
        reply_error(x, "-OOM out of memory");
        goto out;
    }
    resp_add_verbatim(x->out, "txt", text.ptr, text.len);
out:
    resp_buf_deinit(&text);
    srv_peers_view_free(&v);
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
    {"cluster|help", cluster_help},
};

/* CLUSTER MYID|KEYSLOT|INFO|NODES|HELP ... */
void
cmd_cluster(struct cmd_ctx *x)
{
    cmd_run_sub(x, cluster_subcmds, NELEM(cluster_subcmds), "CLUSTER");
}
