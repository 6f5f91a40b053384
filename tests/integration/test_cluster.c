/*
 * tests/integration/test_cluster.c - ringkv only: CLUSTER MYID, KEYSLOT,
 * INFO, NODES, SLOTS, SHARDS and HELP on one node; three nodes on
 * loopback that find each other by gossip, agree on the ring (SLOTS,
 * SHARDS and NODES cover every slot once, three replicas each), see a
 * kill -9'd node go down and come back; the cluster port refuses a wrong
 * secret; internal commands are unknown on the client port. Gossip alone
 * carries the hybrid logical clock from node to node; cluster-wide
 * DBSIZE, KEYS and SCAN count every key once after a node joins.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NNODES 3
#define SECRET "rk-cluster-test"
#define NSLOTS 16384
#define TEXT_MAX (1 << 20)      /* CLUSTER NODES of three nodes: ~60 KB */

/* A raw blocking socket to a loopback port; fails the test if it can't. */
static int
raw_connect_port(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
                  "can't connect to the cluster port %d", port);
    return fd;
}

/* Lines of a CLUSTER NODES text. */
static int
count_lines(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++) {
        n += *s == '\n';
    }
    return n;
}

/* INFO cluster's cluster_alive of srv, or -1 when it can't be read. */
static int
cluster_alive(struct rk_server *srv)
{
    redisContext *c = rk_try_connect(srv);
    redisReply *r;
    char val[32];
    int n = -1;

    if (c == NULL) {
        return -1;
    }
    r = redisCommand(c, "INFO cluster");
    if (r != NULL && r->type == REDIS_REPLY_STRING &&
        rk_info_field(r->str, "cluster_alive", val, sizeof(val))) {
        n = atoi(val);
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    redisFree(c);
    return n;
}

/* CLUSTER NODES of srv into buf ("" when it can't be read). */
static void
cluster_nodes(struct rk_server *srv, char *buf, size_t len)
{
    redisContext *c = rk_try_connect(srv);
    redisReply *r;

    buf[0] = '\0';
    if (c == NULL) {
        return;
    }
    r = redisCommand(c, "CLUSTER NODES");
    if (r != NULL && r->type == REDIS_REPLY_STRING) {
        snprintf(buf, len, "%s", r->str);
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    redisFree(c);
}

/*
 * Wait up to timeout_ms until every node in nodes[0..n) has cluster_alive
 * equal to want (and, when want == n, CLUSTER NODES lists n members).
 * Returns the milliseconds it took, or -1 on timeout.
 */
static long long
wait_alive(struct rk_server **nodes, int n, int want, long long timeout_ms)
{
    long long start = rk_now_ms();
    char *text = malloc(TEXT_MAX);

    ck_assert_ptr_nonnull(text);
    while (rk_now_ms() - start < timeout_ms) {
        int ok = 1;

        for (int i = 0; i < n && ok; i++) {
            if (nodes[i] == NULL) {
                continue;
            }
            ok = cluster_alive(nodes[i]) == want;
            if (ok) {
                cluster_nodes(nodes[i], text, TEXT_MAX);
                ok = count_lines(text) == NNODES;
            }
        }
        if (ok) {
            free(text);
            return rk_now_ms() - start;
        }
        rk_sleep_ms(100);
    }
    free(text);
    return -1;
}

/* Whether two replies are equal in type and content, recursively. */
static int
reply_equal(const redisReply *a, const redisReply *b)
{
    if (a->type != b->type) {
        return 0;
    }
    switch (a->type) {
    case REDIS_REPLY_INTEGER:
        return a->integer == b->integer;
    case REDIS_REPLY_ARRAY:
        if (a->elements != b->elements) {
            return 0;
        }
        for (size_t i = 0; i < a->elements; i++) {
            if (!reply_equal(a->element[i], b->element[i])) {
                return 0;
            }
        }
        return 1;
    case REDIS_REPLY_NIL:
        return 1;
    default:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    }
}

/* Index of the node with client port `port` and 40-hex name `hex` among
 * n nodes, or -1. */
static int
node_of(const int *ports, char hexes[][41], int n, long long port,
        const char *hex)
{
    for (int i = 0; i < n; i++) {
        if (ports[i] == port && strcmp(hexes[i], hex) == 0) {
            return i;
        }
    }
    return -1;
}

/*
 * Check a CLUSTER SLOTS reply against n nodes with client ports ports[]
 * and names hexes[]: ranges in order, covering every slot exactly once,
 * each with `want` distinct known nodes as [ip, port, id, []]. Returns 1
 * if it holds; 0 (with a note on stderr) if not.
 */
static int
slots_ok(const redisReply *r, const int *ports, char hexes[][41], int n,
         int want)
{
    long long next = 0;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        return 0;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        int seen[NNODES] = { 0 };

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 + (size_t)want ||
            e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER ||
            e->element[0]->integer != next ||
            e->element[1]->integer < next) {
            fprintf(stderr, "slots: bad range %zu\n", i);
            return 0;
        }
        next = e->element[1]->integer + 1;
        for (int k = 0; k < want; k++) {
            const redisReply *nd = e->element[2 + k];
            int idx;

            if (nd->type != REDIS_REPLY_ARRAY || nd->elements != 4 ||
                nd->element[0]->type != REDIS_REPLY_STRING ||
                strcmp(nd->element[0]->str, "127.0.0.1") != 0 ||
                nd->element[1]->type != REDIS_REPLY_INTEGER ||
                nd->element[2]->type != REDIS_REPLY_STRING ||
                nd->element[3]->type != REDIS_REPLY_ARRAY ||
                nd->element[3]->elements != 0) {
                fprintf(stderr, "slots: bad node in range %zu\n", i);
                return 0;
            }
            idx = node_of(ports, hexes, n, nd->element[1]->integer,
                          nd->element[2]->str);
            if (idx < 0 || seen[idx]) {
                fprintf(stderr, "slots: unknown or repeated node\n");
                return 0;
            }
            seen[idx] = 1;
        }
    }
    return next == NSLOTS;
}

/*
 * Parse CLUSTER NODES text of n nodes: every line is
 * "<hex> 127.0.0.1:<port>@<cport> <flags> - 0 0 0 connected <slots>",
 * with a known (port, hex), cport = cports[i]; the slot ranges of all
 * lines cover every slot exactly once. Fills hexes[] from the lines.
 */
static void
check_nodes_text(const char *text, const int *ports, const int *cports,
                 char hexes[][41], int n)
{
    static unsigned char owner[NSLOTS];
    const char *line = text;
    int lines = 0;

    memset(owner, 0, sizeof(owner));
    while (*line != '\0') {
        const char *eol = strchr(line, '\n');
        char hex[41];
        char flags[64];
        int port;
        int cport;
        int pos = 0;
        int idx = -1;

        ck_assert_ptr_nonnull(eol);
        ck_assert_int_eq(sscanf(line, "%40s 127.0.0.1:%d@%d %63s - 0 0 0 "
                                "connected%n", hex, &port, &cport, flags,
                                &pos), 4);
        ck_assert_int_gt(pos, 0);
        ck_assert_int_eq((int)strspn(hex, "0123456789abcdef"), 40);
        ck_assert(strcmp(flags, "master") == 0 ||
                  strcmp(flags, "myself,master") == 0);
        for (int i = 0; i < n; i++) {
            if (ports[i] == port) {
                idx = i;
            }
        }
        ck_assert_int_ge(idx, 0);
        ck_assert_int_eq(cport, cports[idx]);
        if (hexes[idx][0] == '\0') {
            snprintf(hexes[idx], 41, "%s", hex);
        }
        ck_assert_str_eq(hexes[idx], hex);
        for (const char *p = line + pos; p < eol;) {
            long a;
            long b;
            char *end;

            ck_assert_int_eq(*p, ' ');
            a = strtol(p + 1, &end, 10);
            b = a;
            if (*end == '-') {
                b = strtol(end + 1, &end, 10);
            }
            ck_assert(a >= 0 && a <= b && b < NSLOTS);
            for (long s = a; s <= b; s++) {
                ck_assert_int_eq(owner[s], 0);
                owner[s] = (unsigned char)(idx + 1);
            }
            p = end;
        }
        lines++;
        line = eol + 1;
    }
    ck_assert_int_eq(lines, n);
    for (int s = 0; s < NSLOTS; s++) {
        ck_assert_msg(owner[s] != 0, "slot %d has no primary", s);
    }
}

/* The value of field `name` in a flat RESP2 map, or NULL. */
static const redisReply *
map_get(const redisReply *m, const char *name)
{
    ck_assert_int_eq(m->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(m->elements % 2, 0);
    for (size_t i = 0; i < m->elements; i += 2) {
        if (m->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(m->element[i]->str, name) == 0) {
            return m->element[i + 1];
        }
    }
    return NULL;
}

/*
 * Check a CLUSTER SHARDS reply: every shard has "slots" (pairs) and
 * "nodes" (want maps of id, port, ip, endpoint, role, replication-offset,
 * health; the first the master); the slots cover every slot once.
 */
static void
check_shards(const redisReply *r, const int *ports, char hexes[][41], int n,
             int want)
{
    static unsigned char seen[NSLOTS];

    memset(seen, 0, sizeof(seen));
    rk_assert_array(r, -1);
    ck_assert_uint_gt(r->elements, 0);
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *sh = r->element[i];
        const redisReply *slots;
        const redisReply *nodes;

        ck_assert_uint_eq(sh->elements, 4);
        slots = map_get(sh, "slots");
        nodes = map_get(sh, "nodes");
        ck_assert_ptr_nonnull(slots);
        ck_assert_ptr_nonnull(nodes);
        ck_assert_uint_eq(slots->elements % 2, 0);
        for (size_t k = 0; k < slots->elements; k += 2) {
            long long a = slots->element[k]->integer;
            long long b = slots->element[k + 1]->integer;

            ck_assert(a >= 0 && a <= b && b < NSLOTS);
            for (long long s = a; s <= b; s++) {
                ck_assert_int_eq(seen[s], 0);
                seen[s] = 1;
            }
        }
        ck_assert_uint_eq(nodes->elements, (size_t)want);
        for (size_t k = 0; k < nodes->elements; k++) {
            const redisReply *nd = nodes->element[k];
            const redisReply *v;

            ck_assert_uint_eq(nd->elements, 14);
            v = map_get(nd, "port");
            ck_assert_ptr_nonnull(v);
            ck_assert_int_ge(node_of(ports, hexes, n, v->integer,
                                     map_get(nd, "id")->str), 0);
            ck_assert_str_eq(map_get(nd, "ip")->str, "127.0.0.1");
            ck_assert_str_eq(map_get(nd, "endpoint")->str, "127.0.0.1");
            ck_assert_str_eq(map_get(nd, "role")->str,
                             k == 0 ? "master" : "replica");
            ck_assert_int_eq(map_get(nd, "replication-offset")->integer, 0);
            ck_assert_str_eq(map_get(nd, "health")->str, "online");
        }
    }
    for (int s = 0; s < NSLOTS; s++) {
        ck_assert_msg(seen[s], "slot %d in no shard", s);
    }
}

START_TEST(single_node_commands)
{
    struct rk_server *srv;
    redisContext *c;
    redisReply *r;
    char val[96];
    char hex[1][41];
    const char *const args[] = { "--node-id", "solo", NULL };

    RK_REQUIRE_RINGKV();
    srv = rk_server_start(args);
    c = rk_connect(srv);
    rk_cmd_int(c, 11058, "CLUSTER KEYSLOT somekey");
    rk_cmd_int(c, 2515, "CLUSTER KEYSLOT foo{hash_tag}");
    rk_cmd_int(c, 0, "CLUSTER KEYSLOT %b", "", (size_t)0);
    rk_cmd_bulk(c, "solo", "CLUSTER MYID");
    rk_cmd_bulk(c, "solo", "cluster myid");
    rk_cmd_error(c, "ERR wrong number of arguments for 'cluster|keyslot' "
                 "command", "CLUSTER KEYSLOT");
    rk_cmd_error(c, "ERR unknown subcommand 'nosuch'. Try CLUSTER HELP.",
                 "CLUSTER nosuch");
    rk_cmd_error(c, "ERR wrong number of arguments for 'cluster' command",
                 "CLUSTER");

    r = rk_cmd(c, "CLUSTER INFO");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_ptr_nonnull(strstr(r->str, "cluster_state:ok\r\n"));
    ck_assert_ptr_nonnull(strstr(r->str, "cluster_slots_assigned:16384\r\n"));
    ck_assert_ptr_nonnull(strstr(r->str, "cluster_known_nodes:1\r\n"));
    ck_assert_ptr_nonnull(strstr(r->str, "cluster_my_epoch:0\r\n"));
    freeReplyObject(r);

    r = rk_cmd(c, "CLUSTER NODES");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(count_lines(r->str), 1);
    ck_assert_uint_gt(strlen(r->str), 41);
    ck_assert_int_eq(r->str[40], ' ');
    ck_assert_int_eq((int)strspn(r->str, "0123456789abcdef"), 40);
    snprintf(val, sizeof(val), " 127.0.0.1:%d@%d myself,master - 0 0 0 "
             "connected 0-16383\n", srv->port, srv->port + 10000);
    ck_assert_str_eq(r->str + 40, val);
    snprintf(hex[0], sizeof(hex[0]), "%.40s", r->str);
    freeReplyObject(r);

    /* One range, the node itself as primary, no replicas. */
    r = rk_cmd(c, "CLUSTER SLOTS");
    ck_assert(slots_ok(r, &srv->port, hex, 1, 1));
    ck_assert_uint_eq(r->elements, 1);
    ck_assert_int_eq(r->element[0]->element[1]->integer, NSLOTS - 1);
    freeReplyObject(r);
    r = rk_cmd(c, "CLUSTER SHARDS");
    check_shards(r, &srv->port, hex, 1, 1);
    ck_assert_uint_eq(r->elements, 1);
    freeReplyObject(r);
    rk_cmd_error(c, "ERR wrong number of arguments for 'cluster|slots' "
                 "command", "CLUSTER SLOTS x");

    r = rk_cmd(c, "CLUSTER HELP");
    rk_assert_array(r, -1);
    ck_assert_uint_gt(r->elements, 4);
    freeReplyObject(r);

    r = rk_cmd(c, "INFO cluster");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert(rk_info_field(r->str, "cluster_enabled", val, sizeof(val)));
    ck_assert_str_eq(val, "0");
    ck_assert(rk_info_field(r->str, "cluster_members", val, sizeof(val)));
    ck_assert_str_eq(val, "1");
    ck_assert(rk_info_field(r->str, "cluster_alive", val, sizeof(val)));
    ck_assert_str_eq(val, "1");
    ck_assert(rk_info_field(r->str, "member_0", val, sizeof(val)));
    ck_assert_ptr_nonnull(strstr(val, "id=solo,"));
    freeReplyObject(r);

    /* Internal commands do not exist on the client port. */
    rk_cmd_error(c, "ERR unknown command 'RKGOSSIP', with args beginning "
                 "with: 'n1' '0' ", "RKGOSSIP n1 0");
    rk_cmd_error(c, "ERR unknown command 'RKAUTH', with args beginning "
                 "with: 'secret' 'x' ", "RKAUTH secret x");
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(three_nodes_gossip)
{
    struct rk_server *nodes[NNODES];
    char cport[NNODES][16];
    char id[NNODES][8];
    char seeds[128];
    char *text = malloc(TEXT_MAX);
    char hexes[NNODES][41];
    int ports[NNODES];
    int cports[NNODES];
    long long took;
    int fd;

    RK_REQUIRE_RINGKV();
    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < NNODES; i++) {
        int p;
        int dup;

        do {
            p = rk_free_port();
            dup = 0;
            for (int k = 0; k < i; k++) {
                dup |= atoi(cport[k]) == p;
            }
        } while (dup);
        snprintf(cport[i], sizeof(cport[i]), "%d", p);
        snprintf(id[i], sizeof(id[i]), "n%d", i + 1);
    }
    snprintf(seeds, sizeof(seeds), "127.0.0.1:%s,127.0.0.1:%s,127.0.0.1:%s",
             cport[0], cport[1], cport[2]);
    for (int i = 0; i < NNODES; i++) {
        const char *const args[] = {
            "--node-id", id[i], "--cluster-port", cport[i], "--seeds", seeds,
            "--cluster-secret", SECRET, "--gossip-interval-ms", "100",
            "--threads", "1", "--replicas", "3", NULL
        };
        nodes[i] = rk_server_start(args);
        ports[i] = nodes[i]->port;
        cports[i] = atoi(cport[i]);
        hexes[i][0] = '\0';
    }

    /* Everyone finds everyone. */
    took = wait_alive(nodes, NNODES, NNODES, 10000);
    ck_assert_msg(took >= 0, "3 nodes did not see each other in 10 s");
    cluster_nodes(nodes[0], text, TEXT_MAX);
    ck_assert_ptr_nonnull(strstr(text, "myself,master"));

    /* Every node shows the same ring: each slot once, three replicas. */
    for (int i = 0; i < NNODES; i++) {
        cluster_nodes(nodes[i], text, TEXT_MAX);
        check_nodes_text(text, ports, cports, hexes, NNODES);
    }
    {
        redisContext *c[NNODES];
        redisReply *r[NNODES];
        long long start = rk_now_ms();
        int same = 0;

        for (int i = 0; i < NNODES; i++) {
            c[i] = rk_connect(nodes[i]);
        }
        while (!same && rk_now_ms() - start < 10000) {
            for (int i = 0; i < NNODES; i++) {
                r[i] = rk_cmd(c[i], "CLUSTER SLOTS");
            }
            same = slots_ok(r[0], ports, hexes, NNODES, NNODES) &&
                   reply_equal(r[0], r[1]) && reply_equal(r[0], r[2]);
            for (int i = 0; i < NNODES; i++) {
                freeReplyObject(r[i]);
            }
            if (!same) {
                rk_sleep_ms(100);
            }
        }
        ck_assert_msg(same, "CLUSTER SLOTS differ or are wrong after 10 s");
        r[0] = rk_cmd(c[1], "CLUSTER SHARDS");
        check_shards(r[0], ports, hexes, NNODES, NNODES);
        freeReplyObject(r[0]);
        for (int i = 0; i < NNODES; i++) {
            redisFree(c[i]);
        }
    }
    {
        redisContext *c = rk_connect(nodes[1]);
        redisReply *r = rk_cmd(c, "INFO cluster");
        char val[16];

        ck_assert(rk_info_field(r->str, "cluster_enabled", val,
                                sizeof(val)));
        ck_assert_str_eq(val, "1");
        freeReplyObject(r);
        rk_cmd_bulk(c, "n2", "CLUSTER MYID");
        redisFree(c);
    }

    /* A peer with the wrong secret is refused and cut off. */
    fd = raw_connect_port(atoi(cport[0]));
    rk_raw_send_str(fd, "*3\r\n$6\r\nRKAUTH\r\n$5\r\nwrong\r\n"
                    "$1\r\nx\r\n");
    rk_raw_expect(fd, "-ERR cluster secret mismatch\r\n", 5000);
    ck_assert(rk_raw_wait_closed(fd, 5000));
    close(fd);

    /* So is gossip before RKAUTH, and an unknown internal command. */
    fd = raw_connect_port(atoi(cport[0]));
    rk_raw_send_str(fd, "RKGOSSIP x 0\r\n");
    rk_raw_expect(fd, "-ERR cluster secret mismatch\r\n", 5000);
    ck_assert(rk_raw_wait_closed(fd, 5000));
    close(fd);
    fd = raw_connect_port(atoi(cport[0]));
    rk_raw_send_str(fd, "RKAUTH " SECRET " x\r\nPING\r\nGET k\r\n");
    rk_raw_expect(fd, "+OK\r\n+PONG\r\n-ERR unknown internal command\r\n",
                  5000);
    ck_assert(rk_raw_wait_closed(fd, 5000));
    close(fd);

    /* kill -9 n3: the others see it down. */
    rk_server_kill9(nodes[2]);
    {
        struct rk_server *rest[NNODES] = { nodes[0], nodes[1], NULL };

        long long start = rk_now_ms();

        took = wait_alive(rest, NNODES, NNODES - 1, 40000);
        ck_assert_msg(took >= 0, "n3 not seen down within 40 s");
        /* Not ALIVE may still be SUSPECT; DOWN shows as fail?. */
        for (int i = 0; i < NNODES - 1; i++) {
            do {
                rk_sleep_ms(100);
                cluster_nodes(nodes[i], text, TEXT_MAX);
            } while (strstr(text, "master,fail? - 0 0 0 disconnected")
                     == NULL && rk_now_ms() - start < 40000);
            ck_assert_msg(strstr(text, "master,fail? - 0 0 0 "
                                 "disconnected") != NULL,
                          "n3 not DOWN for n%d within 40 s", i + 1);
        }
    }

    /* Restart it: alive again everywhere (links back off up to 5 s). */
    rk_server_restart(nodes[2]);
    took = wait_alive(nodes, NNODES, NNODES, 20000);
    ck_assert_msg(took >= 0, "n3 not alive again within 20 s");

    for (int i = 0; i < NNODES; i++) {
        rk_server_stop(nodes[i]);
    }
    free(text);
}
END_TEST

/* A cluster port for a new node, not among the n taken ones. */
static int
free_cport(const int *taken, int n)
{
    int p;
    int dup;

    do {
        p = rk_free_port();
        dup = 0;
        for (int k = 0; k < n; k++) {
            dup |= taken[k] == p;
        }
    } while (dup);
    return p;
}

/* Start node `id` on cluster port cport with the seed list seeds, keeping
 * `replicas` copies of each key. */
static struct rk_server *
start_member_n(const char *id, int cport, const char *seeds,
               const char *replicas)
{
    char cp[16];
    const char *const args[] = {
        "--node-id", id, "--cluster-port", cp, "--seeds", seeds,
        "--cluster-secret", SECRET, "--gossip-interval-ms", "100",
        "--threads", "1", "--replicas", replicas, NULL
    };

    snprintf(cp, sizeof(cp), "%d", cport);
    return rk_server_start(args);
}

static struct rk_server *
start_member(const char *id, int cport, const char *seeds)
{
    return start_member_n(id, cport, seeds, "3");
}

/* Wait up to timeout_ms until each of the n nodes has cluster_alive ==
 * want; 1 when they do. */
static int
wait_alive_n(struct rk_server **nodes, int n, int want, long long timeout_ms)
{
    long long start = rk_now_ms();

    while (rk_now_ms() - start < timeout_ms) {
        int ok = 1;

        for (int i = 0; i < n && ok; i++) {
            ok = cluster_alive(nodes[i]) == want;
        }
        if (ok) {
            return 1;
        }
        rk_sleep_ms(100);
    }
    return 0;
}

/* Start n1..n3 (`replicas` copies of each key) on fresh cluster ports and
 * wait until each sees all three alive. */
static void
start_three(struct rk_server **nodes, const char *replicas)
{
    int cports[NNODES];
    char seeds[96];

    for (int i = 0; i < NNODES; i++) {
        cports[i] = free_cport(cports, i);
    }
    snprintf(seeds, sizeof(seeds), "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d",
             cports[0], cports[1], cports[2]);
    for (int i = 0; i < NNODES; i++) {
        char id[8];

        snprintf(id, sizeof(id), "n%d", i + 1);
        nodes[i] = start_member_n(id, cports[i], seeds, replicas);
    }
    ck_assert_msg(wait_alive_n(nodes, NNODES, NNODES, 10000),
                  "3 nodes did not see each other in 10 s");
}

/* A data link to the cluster port cport, as a peer's worker opens one. */
static redisContext *
data_link(int cport)
{
    struct timeval tv = { 5, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", cport, tv);

    ck_assert_msg(c != NULL && !c->err, "can't connect to cluster port %d",
                  cport);
    redisSetTimeout(c, tv);
    rk_cmd_status(c, "OK", "RKAUTH %s clock-test data", SECRET);
    return c;
}

/*
 * Send the clock `sent` on the data link c (RKDBSIZE, whose reply starts
 * with the node's clock) and return the clock the node answers with: a
 * version greater than every one it has issued or seen.
 */
static uint64_t
node_clock(redisContext *c, uint64_t sent)
{
    redisReply *r = rk_cmd(c, "RKDBSIZE %" PRIu64, sent);
    uint64_t v;

    rk_assert_array(r, 2);
    ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_INTEGER);
    ck_assert_int_gt(r->element[0]->integer, 0);
    v = (uint64_t)r->element[0]->integer;
    freeReplyObject(r);
    return v;
}

/*
 * Two nodes and no client traffic, so nothing but gossip passes between
 * them: n1's clock is pushed an hour ahead through its data link, and n2's
 * clock follows within a few gossip rounds (DESIGN.md: every peer message
 * carries the sender's clock).
 */
START_TEST(gossip_carries_clock)
{
    const uint64_t hour = (uint64_t)3600 * 1000000 << 12;   /* HLC units */
    struct rk_server *nodes[2];
    redisContext *c[2];
    int cports[2];
    char seeds[64];
    uint64_t ahead;
    uint64_t seen = 0;
    long long start;

    RK_REQUIRE_RINGKV();
    cports[0] = free_cport(NULL, 0);
    cports[1] = free_cport(cports, 1);
    snprintf(seeds, sizeof(seeds), "127.0.0.1:%d,127.0.0.1:%d", cports[0],
             cports[1]);
    nodes[0] = start_member("n1", cports[0], seeds);
    nodes[1] = start_member("n2", cports[1], seeds);
    ck_assert_msg(wait_alive_n(nodes, 2, 2, 10000),
                  "2 nodes did not see each other in 10 s");
    c[0] = data_link(cports[0]);
    c[1] = data_link(cports[1]);

    /* Sending 0 moves no clock. */
    ahead = node_clock(c[0], 0) + hour;
    ck_assert_uint_lt(node_clock(c[1], 0), ahead);
    ck_assert_uint_gt(node_clock(c[0], ahead), ahead);
    start = rk_now_ms();
    while (rk_now_ms() - start < 5000) {
        seen = node_clock(c[1], 0);
        if (seen > ahead) {
            break;
        }
        rk_sleep_ms(100);
    }
    ck_assert_msg(seen > ahead, "n2's clock did not follow n1's through "
                  "gossip in 5 s (%" PRIu64 " <= %" PRIu64 ")", seen, ahead);
    fprintf(stderr, "cluster: gossip carried the clock in %lld ms\n",
            rk_now_ms() - start);
    redisFree(c[0]);
    redisFree(c[1]);
    rk_server_stop(nodes[0]);
    rk_server_stop(nodes[1]);
}
END_TEST

/* DBSIZE on c must be want, KEYS * must list want distinct keys "k:<i>",
 * and so must a whole SCAN. */
static void
check_keyspace(redisContext *c, int want, const char *who)
{
    char *seen = calloc((size_t)want, 1);
    redisReply *r;
    char cursor[32] = "0";
    int nscan = 0;

    ck_assert_ptr_nonnull(seen);
    rk_cmd_int(c, want, "DBSIZE");
    r = rk_cmd(c, "KEYS *");
    rk_assert_array(r, want);
    for (size_t i = 0; i < r->elements; i++) {
        int k = atoi(r->element[i]->str + 2);

        ck_assert_msg(k >= 0 && k < want && !seen[k], "%s: KEYS listed %s "
                      "twice or wrongly", who, r->element[i]->str);
        seen[k] = 1;
    }
    freeReplyObject(r);
    memset(seen, 0, (size_t)want);
    do {
        r = rk_cmd(c, "SCAN %s COUNT 50", cursor);
        rk_assert_array(r, 2);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *key = r->element[1]->element[i]->str;
            int k = atoi(key + 2);

            ck_assert_msg(k >= 0 && k < want, "%s: SCAN gave %s", who, key);
            nscan += !seen[k];
            seen[k] = 1;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    ck_assert_msg(nscan == want, "%s: SCAN found %d of %d keys", who, nscan,
                  want);
    free(seen);
}

/*
 * Each member answers for the slots it is the primary of, which change
 * when the ring does: n1 and n2 answer DBSIZE, KEYS and SCAN as a pair
 * first, then n3 joins and takes part of their slots. Every key, written
 * to all three afterwards, is still counted and listed once, from every
 * node (a primary-slot mask kept from the two-node ring counts the keys
 * of n3's slots twice).
 */
START_TEST(keyspace_follows_ring_change)
{
    enum { NKEYS = 200 };
    struct rk_server *nodes[NNODES];
    redisContext *c[NNODES];
    int cports[NNODES];
    char seeds[64];
    char seed1[32];

    RK_REQUIRE_RINGKV();
    for (int i = 0; i < NNODES; i++) {
        cports[i] = free_cport(cports, i);
    }
    snprintf(seeds, sizeof(seeds), "127.0.0.1:%d,127.0.0.1:%d", cports[0],
             cports[1]);
    snprintf(seed1, sizeof(seed1), "127.0.0.1:%d", cports[0]);
    nodes[0] = start_member("n1", cports[0], seeds);
    nodes[1] = start_member("n2", cports[1], seeds);
    ck_assert_msg(wait_alive_n(nodes, 2, 2, 10000),
                  "2 nodes did not see each other in 10 s");
    for (int i = 0; i < 2; i++) {
        c[i] = rk_connect(nodes[i]);
        rk_cmd_status(c[i], "OK", "CONSISTENCY WRITE ALL");
    }
    for (int i = 0; i < NKEYS; i++) {
        rk_cmd_status(c[0], "OK", "SET k:%d v", i);
    }
    for (int i = 0; i < 2; i++) {
        check_keyspace(c[i], NKEYS, i == 0 ? "n1 of 2" : "n2 of 2");
    }
    rk_cmd_status(c[1], "OK", "FLUSHALL");
    rk_cmd_int(c[0], 0, "DBSIZE");

    /* n3 joins through n1: every ring now has three members. */
    nodes[2] = start_member("n3", cports[2], seed1);
    ck_assert_msg(wait_alive_n(nodes, NNODES, NNODES, 10000),
                  "n3 did not join in 10 s");
    c[2] = rk_connect(nodes[2]);
    rk_cmd_status(c[2], "OK", "CONSISTENCY WRITE ALL");
    for (int i = 0; i < NKEYS; i++) {
        rk_cmd_status(c[i % NNODES], "OK", "SET k:%d v", i);
    }
    for (int i = 0; i < NNODES; i++) {
        char who[16];

        snprintf(who, sizeof(who), "n%d of 3", i + 1);
        check_keyspace(c[i], NKEYS, who);
    }
    for (int i = 0; i < NNODES; i++) {
        redisFree(c[i]);
        rk_server_stop(nodes[i]);
    }
}
END_TEST

/*
 * One copy of each key (--replicas 1), so most nodes hold none of a given
 * key: RANDOMKEY through any node still finds the keys of the others, is
 * always a key that exists, and is nil only for an empty cluster.
 */
START_TEST(randomkey_is_cluster_wide)
{
    enum { NKEYS = 30 };
    struct rk_server *nodes[NNODES];
    redisContext *c[NNODES];
    int seen[NKEYS] = { 0 };
    int distinct = 0;

    RK_REQUIRE_RINGKV();
    start_three(nodes, "1");
    for (int i = 0; i < NNODES; i++) {
        c[i] = rk_connect(nodes[i]);
        rk_cmd_nil(c[i], "RANDOMKEY");
    }
    rk_cmd_status(c[0], "OK", "SET rk:only v");
    for (int i = 0; i < NNODES; i++) {
        for (int k = 0; k < 5; k++) {
            rk_cmd_bulk(c[i], "rk:only", "RANDOMKEY");
        }
    }
    rk_cmd_int(c[1], 1, "DEL rk:only");
    for (int i = 0; i < NKEYS; i++) {
        rk_cmd_status(c[i % NNODES], "OK", "SET rk:%d v", i);
    }
    for (int i = 0; i < NNODES; i++) {
        for (int k = 0; k < 40; k++) {
            redisReply *r = rk_cmd(c[i], "RANDOMKEY");
            int n = -1;

            ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
            ck_assert_msg(sscanf(r->str, "rk:%d", &n) == 1 && n >= 0 &&
                          n < NKEYS, "RANDOMKEY answered %s", r->str);
            distinct += !seen[n];
            seen[n] = 1;
            freeReplyObject(r);
        }
    }
    ck_assert_int_gt(distinct, 5);
    for (int i = 0; i < NKEYS; i++) {
        rk_cmd_int(c[0], 1, "DEL rk:%d", i);
    }
    for (int i = 0; i < NNODES; i++) {
        rk_cmd_nil(c[i], "RANDOMKEY");
    }
    for (int i = 0; i < NNODES; i++) {
        redisFree(c[i]);
        rk_server_stop(nodes[i]);
    }
}
END_TEST

/*
 * MULTI/EXEC within one slot through every node, also when the slot's
 * primary is another node (EXEC is coordinated where the queue is, never
 * forwarded), and WATCH aborting EXEC after another client's write.
 */
START_TEST(transactions_through_any_node)
{
    struct rk_server *nodes[NNODES];
    redisContext *c[NNODES];

    RK_REQUIRE_RINGKV();
    start_three(nodes, "3");
    for (int i = 0; i < NNODES; i++) {
        c[i] = rk_connect(nodes[i]);
    }
    for (int t = 0; t < 12; t++) {
        redisContext *x = c[t % NNODES];
        redisReply *r;

        rk_cmd_status(x, "OK", "MULTI");
        rk_cmd_status(x, "QUEUED", "SET {tx%d}:a v%d", t, t);
        rk_cmd_status(x, "QUEUED", "INCR {tx%d}:n", t);
        rk_cmd_status(x, "QUEUED", "GET {tx%d}:a", t);
        r = rk_cmd(x, "EXEC");
        rk_assert_array(r, 3);
        ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_STATUS);
        ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_INTEGER);
        ck_assert_int_eq(r->element[1]->integer, 1);
        ck_assert_int_eq(r->element[2]->type, REDIS_REPLY_STRING);
        freeReplyObject(r);
        rk_cmd_int(c[(t + 1) % NNODES], 1, "EXISTS {tx%d}:n", t);
    }
    for (int t = 0; t < 6; t++) {
        redisContext *x = c[t % NNODES];
        redisContext *other = c[(t + 1) % NNODES];
        redisReply *r;

        rk_cmd_status(x, "OK", "SET {tw%d}:k 0", t);
        rk_cmd_status(x, "OK", "WATCH {tw%d}:k", t);
        rk_cmd_status(other, "OK", "SET {tw%d}:k 100", t);
        rk_cmd_status(x, "OK", "MULTI");
        rk_cmd_status(x, "QUEUED", "SET {tw%d}:k 1", t);
        r = rk_cmd(x, "EXEC");
        ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
        rk_cmd_bulk(x, "100", "GET {tw%d}:k", t);
        rk_cmd_status(x, "OK", "WATCH {tw%d}:k", t);
        rk_cmd_status(x, "OK", "MULTI");
        rk_cmd_status(x, "QUEUED", "SET {tw%d}:k 101", t);
        r = rk_cmd(x, "EXEC");
        rk_assert_array(r, 1);
        freeReplyObject(r);
        rk_cmd_bulk(other, "101", "GET {tw%d}:k", t);
    }
    for (int i = 0; i < NNODES; i++) {
        redisFree(c[i]);
    }
    for (int i = 0; i < NNODES; i++) {
        rk_server_stop(nodes[i]);
    }
}
END_TEST

/*
 * client-output-buffer-limit holds in a cluster too, where GET replies
 * arrive from the replicas after the client's commands were read: a
 * client that sends 200 GETs of 100 KB and never reads is closed.
 */
START_TEST(output_limit_with_replicas)
{
    enum { VLEN = 100 * 1000, NGETS = 200 };
    struct rk_server *nodes[NNODES];
    redisContext *admin;
    char *v = malloc(VLEN);
    redisReply *r;
    int fd;

    RK_REQUIRE_RINGKV();
    ck_assert_ptr_nonnull(v);
    start_three(nodes, "3");
    admin = rk_connect(nodes[0]);
    memset(v, 'o', VLEN);
    r = rk_cmd(admin, "SET ol:big %b", v, (size_t)VLEN);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    rk_cmd_status(admin, "OK", "CONFIG SET client-output-buffer-limit %s",
                  "normal 1mb 0 0");
    fd = rk_raw_connect(nodes[0]);
    for (int i = 0; i < NGETS; i++) {
        rk_raw_send_str(fd, "GET ol:big\r\n");
    }
    rk_sleep_ms(2000);
    ck_assert_msg(rk_raw_wait_closed(fd, 10000), "a client over the hard "
                  "output limit was not closed");
    close(fd);
    rk_cmd_bulk(admin, "oo", "GETRANGE ol:big 0 1");
    r = rk_cmd(admin, "INFO stats");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_ptr_nonnull(strstr(r->str, "client_output_buffer_limit_"
                                 "disconnections:1\r\n"));
    freeReplyObject(r);
    free(v);
    redisFree(admin);
    for (int i = 0; i < NNODES; i++) {
        rk_server_stop(nodes[i]);
    }
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = rk_tcase(s, "cluster", 90);

    tcase_add_test(tc, single_node_commands);
    tcase_add_test(tc, three_nodes_gossip);
    tcase_add_test(tc, gossip_carries_clock);
    tcase_add_test(tc, keyspace_follows_ring_change);
    tcase_add_test(tc, randomkey_is_cluster_wide);
    tcase_add_test(tc, transactions_through_any_node);
    tcase_add_test(tc, output_limit_with_replicas);
    return rk_run_suite(s);
}
