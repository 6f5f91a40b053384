/*
 * tests/integration/test_cluster.c - ringkv only: CLUSTER MYID, KEYSLOT,
 * INFO, NODES and HELP on one node; three nodes on loopback that find
 * each other by gossip, see a kill -9'd node go down and come back; the
 * cluster port refuses a wrong secret; internal commands are unknown on
 * the client port.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NNODES 3
#define SECRET "rk-cluster-test"

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
    char text[4096];

    while (rk_now_ms() - start < timeout_ms) {
        int ok = 1;

        for (int i = 0; i < n && ok; i++) {
            if (nodes[i] == NULL) {
                continue;
            }
            ok = cluster_alive(nodes[i]) == want;
            if (ok) {
                cluster_nodes(nodes[i], text, sizeof(text));
                ok = count_lines(text) == NNODES;
            }
        }
        if (ok) {
            return rk_now_ms() - start;
        }
        rk_sleep_ms(100);
    }
    return -1;
}

START_TEST(single_node_commands)
{
    struct rk_server *srv;
    redisContext *c;
    redisReply *r;
    char val[64];
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
             "connected\n", srv->port, srv->port + 10000);
    ck_assert_str_eq(r->str + 40, val);
    freeReplyObject(r);

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
    char text[4096];
    long long took;
    int fd;

    RK_REQUIRE_RINGKV();
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
            "--threads", "1", NULL
        };
        nodes[i] = rk_server_start(args);
    }

    /* Everyone finds everyone. */
    took = wait_alive(nodes, NNODES, NNODES, 10000);
    ck_assert_msg(took >= 0, "3 nodes did not see each other in 10 s");
    cluster_nodes(nodes[0], text, sizeof(text));
    ck_assert_ptr_nonnull(strstr(text, "myself,master"));
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
                cluster_nodes(nodes[i], text, sizeof(text));
            } while (strstr(text, "master,fail? - 0 0 0 disconnected\n")
                     == NULL && rk_now_ms() - start < 40000);
            ck_assert_msg(strstr(text, "master,fail? - 0 0 0 "
                                 "disconnected\n") != NULL,
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
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = rk_tcase(s, "cluster", 90);

    tcase_add_test(tc, single_node_commands);
    tcase_add_test(tc, three_nodes_gossip);
    return rk_run_suite(s);
}
