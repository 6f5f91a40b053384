/*
 * tests/integration/test_cluster_faults.c - ringkv only: the quorum
 * coordinator under faults, on loopback clusters of three (and five)
 * nodes that each start a fresh cluster. A write through one node is read
 * through every other, a write that follows another through any node wins,
 * and every replica ends with every write; concurrent writers converge; a
 * kill -9'd replica misses writes that the coordinators keep as hints and
 * hand over when it is back (with their expiry deadlines, newest version
 * winning), also in the middle of a long pipeline; two dead replicas of
 * three make QUORUM reads and writes fail with -NOQUORUM at once while ONE
 * still works; a DEL is not undone by a replica that missed it; a TTL ends
 * on every replica; a QUORUM read repairs a stale replica when no hint can;
 * a SIGSTOPped replica costs QUORUM writes nothing and ALL a request
 * timeout, and clients leaving mid-op are harmless; with five nodes and
 * three replicas, exactly the keys whose replicas include both of two dead
 * nodes fail, with -NOQUORUM; a node with the wrong cluster secret serves
 * nothing of the others'.
 */
#include "harness.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAXN 5
#define SECRET "rk-faults-test"
#define REQ_TIMEOUT_MS 2000      /* the server's default --request-timeout */
#define OP_MAX_MS 3000           /* a failed quorum must be told within */
#define NSLOTS 16384

/* A loopback cluster of n nodes n1..n<n> (node[0..n)). */
struct cluster {
    int n;
    struct rk_server *node[MAXN];
    char cport[MAXN][16];
    char id[MAXN][8];
    char seeds[MAXN * 24];      /* the harness keeps pointers to these */
    int dead[MAXN];             /* kill -9'd, not restarted yet */
    int stopped[MAXN];          /* SIGSTOPped */
};

/*
 * Start n nodes n1..n<n> sharing one seed list and SECRET, in zones
 * zone-a/b/c round-robin, gossiping every 100 ms, with --replicas 3 and
 * the default quorums and request timeout.
 */
static void
cluster_start(struct cluster *cl, int n)
{
    static const char *const zones[] = { "zone-a", "zone-b", "zone-c" };

    ck_assert_int_le(n, MAXN);
    memset(cl, 0, sizeof(*cl));
    cl->n = n;
    for (int i = 0; i < n; i++) {
        int p;
        int dup;

        do {
            p = rk_free_port();
            dup = 0;
            for (int k = 0; k < i; k++) {
                dup |= atoi(cl->cport[k]) == p;
            }
        } while (dup);
        snprintf(cl->cport[i], sizeof(cl->cport[i]), "%d", p);
        snprintf(cl->id[i], sizeof(cl->id[i]), "n%d", i + 1);
        snprintf(cl->seeds + strlen(cl->seeds),
                 sizeof(cl->seeds) - strlen(cl->seeds), "%s127.0.0.1:%d",
                 i == 0 ? "" : ",", p);
    }
    for (int i = 0; i < n; i++) {
        const char *const args[] = {
            "--node-id", cl->id[i], "--cluster-port", cl->cport[i],
            "--seeds", cl->seeds, "--cluster-secret", SECRET,
            "--zone", zones[i % 3], "--gossip-interval-ms", "100",
            "--threads", "1", "--replicas", "3", NULL
        };

        cl->node[i] = rk_server_start(args);
    }
}

static void
cluster_stop(struct cluster *cl)
{
    for (int i = 0; i < cl->n; i++) {
        if (cl->stopped[i]) {
            kill(cl->node[i]->pid, SIGCONT);
        }
        rk_server_stop(cl->node[i]);
        cl->node[i] = NULL;
    }
}

/* A field of INFO cluster of srv as a number, or -1 when unavailable. */
static long long
info_ll(struct rk_server *srv, const char *field)
{
    redisContext *c = rk_try_connect(srv);
    redisReply *r;
    char val[64];
    long long n = -1;

    if (c == NULL) {
        return -1;
    }
    r = redisCommand(c, "INFO cluster");
    if (r != NULL && r->type == REDIS_REPLY_STRING &&
        rk_info_field(r->str, field, val, sizeof(val))) {
        n = atoll(val);
    }
    if (r != NULL) {
        freeReplyObject(r);
    }
    redisFree(c);
    return n;
}

/* The sum of an INFO cluster counter over the running nodes. */
static long long
info_sum(struct cluster *cl, const char *field)
{
    long long sum = 0;

    for (int i = 0; i < cl->n; i++) {
        if (!cl->dead[i] && !cl->stopped[i]) {
            long long v = info_ll(cl->node[i], field);

            sum += v > 0 ? v : 0;
        }
    }
    return sum;
}

/*
 * Wait up to timeout_ms until every running node has cluster_alive ==
 * want. Fails the test naming what (e.g. "n3 back") on timeout.
 */
static void
wait_alive(struct cluster *cl, int want, long long timeout_ms,
           const char *what)
{
    long long start = rk_now_ms();
    int ok = 0;

    while (!ok && rk_now_ms() - start < timeout_ms) {
        ok = 1;
        for (int i = 0; i < cl->n && ok; i++) {
            if (!cl->dead[i] && !cl->stopped[i]) {
                ok = info_ll(cl->node[i], "cluster_alive") == want;
            }
        }
        if (!ok) {
            rk_sleep_ms(50);
        }
    }
    ck_assert_msg(ok, "%s: cluster_alive is not %d on every running node "
                  "after %lld ms", what, want, timeout_ms);
}

static void
kill9(struct cluster *cl, int i)
{
    rk_server_kill9(cl->node[i]);
    cl->dead[i] = 1;
}

/* Wait (bounded) until node i knows every member of the cluster. */
static void
wait_members(struct cluster *cl, int i)
{
    long long start = rk_now_ms();

    while (info_ll(cl->node[i], "cluster_members") != cl->n &&
           rk_now_ms() - start < 10000) {
        rk_sleep_ms(20);
    }
    ck_assert_msg(info_ll(cl->node[i], "cluster_members") == cl->n,
                  "n%d knows %lld of %d members after 10 s", i + 1,
                  info_ll(cl->node[i], "cluster_members"), cl->n);
}

/*
 * Restart a kill -9'd node (on a new client port, same cluster port) and
 * wait until it knows every member again (until then it answers
 * -CLUSTERDOWN: see restarted_node_waits_for_ring).
 */
static void
restart(struct cluster *cl, int i)
{
    rk_server_restart(cl->node[i]);
    cl->dead[i] = 0;
    wait_members(cl, i);
}

/*
 * A connection to node i with consistency levels rl and wl (NULL: the
 * server's defaults).
 */
static redisContext *
nconn(struct cluster *cl, int i, const char *rl, const char *wl)
{
    redisContext *c = rk_connect(cl->node[i]);

    if (rl != NULL) {
        rk_cmd_status(c, "OK", "CONSISTENCY READ %s", rl);
    }
    if (wl != NULL) {
        rk_cmd_status(c, "OK", "CONSISTENCY WRITE %s", wl);
    }
    return c;
}

/*
 * redisCommand() that fails the test when the connection breaks or the
 * reply takes longer than max_ms; the caller frees the reply.
 */
#define timed_cmd(c, max_ms, ...)                                       \
    timed_cmd_at(__FILE__, __LINE__, (c), (max_ms), __VA_ARGS__)

static redisReply *
timed_cmd_at(const char *file, int line, redisContext *c, long long max_ms,
             const char *fmt, ...)
{
    long long start = rk_now_ms();
    redisReply *r;
    long long took;
    va_list ap;

    va_start(ap, fmt);
    r = redisvCommand(c, fmt, ap);
    va_end(ap);
    took = rk_now_ms() - start;
    ck_assert_msg(r != NULL, "%s:%d: '%s': connection error: %s", file, line,
                  fmt, c->errstr);
    ck_assert_msg(took <= max_ms, "%s:%d: '%s' took %lld ms (max %lld)",
                  file, line, fmt, took, max_ms);
    return r;
}

/* Whether r is an error reply starting with "NOQUORUM" (and then what). */
static int
is_noquorum(const redisReply *r, const char *what)
{
    size_t n = strlen("NOQUORUM ");

    return r->type == REDIS_REPLY_ERROR &&
           strncmp(r->str, "NOQUORUM ", n) == 0 &&
           (what == NULL || strncmp(r->str + n, what, strlen(what)) == 0);
}

#define assert_noquorum(r, what)                                        \
    do {                                                                \
        char d_[256];                                                   \
        ck_assert_msg(is_noquorum((r), (what)),                         \
                      "expected -NOQUORUM %s..., got %s",               \
                      (what) != NULL ? (what) : "",                     \
                      rk_reply_describe((r), d_, sizeof(d_)));          \
    } while (0)

#define assert_contains(r, sub)                                         \
    ck_assert_msg(strstr((r)->str, (sub)) != NULL,                      \
                  "'%s' does not contain '%s'", (r)->str, (sub))

/*
 * Whether GET key through c returns want (NULL: nil) within timeout_ms,
 * asking every 50 ms. Error replies count as "not yet".
 */
static int
get_becomes(redisContext *c, const char *key, const char *want,
            long long timeout_ms)
{
    long long start = rk_now_ms();

    for (;;) {
        redisReply *r = rk_cmd(c, "GET %s", key);
        int ok = want == NULL ? r->type == REDIS_REPLY_NIL
                              : r->type == REDIS_REPLY_STRING &&
                                strcmp(r->str, want) == 0;

        freeReplyObject(r);
        if (ok) {
            return 1;
        }
        if (rk_now_ms() - start >= timeout_ms) {
            return 0;
        }
        rk_sleep_ms(50);
    }
}

/* Wait (bounded) until node i has key with value want in its own copy. */
static void
wait_local(struct cluster *cl, int i, const char *key, const char *want,
           long long timeout_ms)
{
    redisContext *c = nconn(cl, i, "ONE", NULL);

    ck_assert_msg(get_becomes(c, key, want, timeout_ms),
                  "n%d's own copy of %s is not %s after %lld ms", i + 1, key,
                  want != NULL ? want : "nil", timeout_ms);
    redisFree(c);
}

/* Wait (bounded) until hints_pending is 0 on node i. */
static void
wait_no_hints(struct cluster *cl, int i, long long timeout_ms)
{
    long long start = rk_now_ms();

    while (info_ll(cl->node[i], "hints_pending") != 0 &&
           rk_now_ms() - start < timeout_ms) {
        rk_sleep_ms(100);
    }
    ck_assert_msg(info_ll(cl->node[i], "hints_pending") == 0,
                  "n%d still has %lld hints pending after %lld ms "
                  "(delivered %lld)", i + 1,
                  info_ll(cl->node[i], "hints_pending"), timeout_ms,
                  info_ll(cl->node[i], "hints_delivered"));
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(write_one_read_all)
{
    struct cluster cl;
    redisContext *c[3];
    redisReply *r;
    char key[32];
    char val[32];

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    for (int i = 0; i < 3; i++) {
        c[i] = nconn(&cl, i, NULL, NULL);
    }
    r = rk_cmd(c[0], "CONSISTENCY");
    rk_assert_array(r, 4);
    ck_assert_str_eq(r->element[1]->str, "QUORUM");
    ck_assert_str_eq(r->element[3]->str, "QUORUM");
    freeReplyObject(r);

    /* SET through each node, GET through each node. */
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "w1:set:%d", i);
        snprintf(val, sizeof(val), "from-n%d", i + 1);
        rk_cmd_status(c[i], "OK", "SET %s %s", key, val);
        for (int k = 0; k < 3; k++) {
            rk_cmd_bulk(c[k], val, "GET %s", key);
        }
    }

    /* MSET through n2, MGET through all. */
    rk_cmd_status(c[1], "OK", "MSET w1:a va w1:b vb w1:c vc");
    for (int k = 0; k < 3; k++) {
        r = rk_cmd(c[k], "MGET w1:a w1:b w1:nosuch w1:c");
        rk_assert_array(r, 4);
        rk_assert_bulk(r->element[0], "va");
        rk_assert_bulk(r->element[1], "vb");
        rk_assert_nil(r->element[2]);
        rk_assert_bulk(r->element[3], "vc");
        freeReplyObject(r);
    }

    /* INCR through n1, n2, n3 in turn: each sees the one before. */
    for (int i = 0; i < 6; i++) {
        rk_cmd_int(c[i % 3], i + 1, "INCR w1:counter");
    }
    rk_cmd_int(c[1], 16, "INCRBY w1:counter 10");
    for (int k = 0; k < 3; k++) {
        rk_cmd_bulk(c[k], "16", "GET w1:counter");
    }

    /* APPEND, DEL and EXPIRE through one node, seen through the others. */
    rk_cmd_int(c[2], 4, "APPEND w1:c XY");
    rk_cmd_bulk(c[0], "vcXY", "GET w1:c");
    rk_cmd_int(c[2], 2, "DEL w1:b w1:nosuch w1:a");
    for (int k = 0; k < 3; k++) {
        rk_cmd_nil(c[k], "GET w1:b");
        rk_cmd_nil(c[k], "GET w1:a");
        rk_cmd_int(c[k], 0, "EXISTS w1:a w1:b");
        rk_cmd_int(c[k], 1, "EXISTS w1:c");
    }
    rk_cmd_int(c[0], 1, "EXPIRE w1:c 100");
    for (int k = 1; k < 3; k++) {
        r = rk_cmd(c[k], "TTL w1:c");
        ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
        ck_assert(r->integer > 90 && r->integer <= 100);
        freeReplyObject(r);
    }
    rk_cmd_int(c[1], 1, "PERSIST w1:c");
    rk_cmd_int(c[2], -1, "TTL w1:c");
    rk_cmd_status(c[2], "OK", "SET w1:nx first NX");
    rk_cmd_nil(c[0], "SET w1:nx second NX");
    rk_cmd_bulk(c[1], "first", "GET w1:nx");

    /* A write that follows another through any node wins over it. */
    for (int i = 0; i < 150; i++) {
        snprintf(val, sizeof(val), "pp%d", i);
        rk_cmd_status(c[i % 3], "OK", "SET w1:pingpong %s", val);
        rk_cmd_bulk(c[(i + 1) % 3], val, "GET w1:pingpong");
    }

    /* Every replica holds every write, not just a quorum of them. */
    for (int k = 0; k < 3; k++) {
        wait_local(&cl, k, "w1:set:0", "from-n1", 5000);
        wait_local(&cl, k, "w1:counter", "16", 5000);
        wait_local(&cl, k, "w1:c", "vcXY", 5000);
        wait_local(&cl, k, "w1:b", NULL, 5000);
        wait_local(&cl, k, "w1:nx", "first", 5000);
        wait_local(&cl, k, "w1:pingpong", "pp149", 5000);
    }
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(info_ll(cl.node[k], "quorum_writes_failed"), 0);
        ck_assert_int_eq(info_ll(cl.node[k], "quorum_reads_failed"), 0);
        redisFree(c[k]);
    }
    ck_assert_int_gt(info_sum(&cl, "quorum_writes_ok"), 10);
    ck_assert_int_gt(info_sum(&cl, "quorum_reads_ok"), 10);
    cluster_stop(&cl);
}
END_TEST

START_TEST(kill9_replica_gets_hints)
{
    enum { NKEYS = 10 };
    struct cluster cl;
    redisContext *a;
    redisContext *b;
    redisContext *c;
    char key[32];
    char val[32];
    redisReply *r;
    long long start;
    long long ttl_set_at;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    b = nconn(&cl, 1, NULL, NULL);
    rk_cmd_status(a, "OK", "SET h2:old before");
    rk_cmd_status(a, "OK", "SET h2:gone before");
    wait_local(&cl, 2, "h2:gone", "before", 5000);

    kill9(&cl, 2);
    for (int i = 0; i < NKEYS; i++) {
        redisContext *w = i % 2 == 0 ? a : b;
        redisContext *rd = i % 2 == 0 ? b : a;

        snprintf(key, sizeof(key), "h2:k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        r = timed_cmd(w, OP_MAX_MS, "SET %s %s", key, val);
        rk_assert_status(r, "OK");
        freeReplyObject(r);
        r = timed_cmd(rd, OP_MAX_MS, "GET %s", key);
        rk_assert_bulk(r, val);
        freeReplyObject(r);
    }
    /* Hints from two coordinators for one key: the newer must win on n3
     * whichever arrives first. */
    rk_cmd_status(a, "OK", "SET h2:flip one");
    rk_cmd_int(b, 1, "DEL h2:flip");
    rk_cmd_status(a, "OK", "SET h2:flip three");
    rk_cmd_status(b, "OK", "SET h2:flop one");
    rk_cmd_int(a, 1, "DEL h2:flop");
    ttl_set_at = rk_now_ms();
    rk_cmd_status(a, "OK", "SET h2:ttl v PX 20000");
    rk_cmd_status(b, "OK", "SET h2:old after");
    rk_cmd_int(a, 1, "DEL h2:gone");
    rk_cmd_int(b, 1, "INCR h2:n");
    rk_cmd_bulk(a, "after", "GET h2:old");
    ck_assert_int_ge(info_sum(&cl, "hints_stored"), NKEYS + 9);
    ck_assert_int_ge(info_sum(&cl, "hints_pending"), 1);
    ck_assert_int_eq(info_sum(&cl, "quorum_writes_failed"), 0);

    restart(&cl, 2);
    wait_alive(&cl, 3, 20000, "n3 back");

    /* The coordinators hand their hints over. */
    start = rk_now_ms();
    while ((info_ll(cl.node[0], "hints_pending") != 0 ||
            info_ll(cl.node[1], "hints_pending") != 0) &&
           rk_now_ms() - start < 15000) {
        rk_sleep_ms(100);
    }
    ck_assert_msg(info_ll(cl.node[0], "hints_pending") == 0 &&
                  info_ll(cl.node[1], "hints_pending") == 0,
                  "hints_pending is still %lld on n1 and %lld on n2 15 s "
                  "after n3 came back (hints_delivered %lld)",
                  info_ll(cl.node[0], "hints_pending"),
                  info_ll(cl.node[1], "hints_pending"),
                  info_sum(&cl, "hints_delivered"));
    ck_assert_int_ge(info_sum(&cl, "hints_delivered"), NKEYS + 4);

    /* n3's own copy now equals its peers'. */
    c = nconn(&cl, 2, "ONE", NULL);
    for (int i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "h2:k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        rk_cmd_bulk(c, val, "GET %s", key);
    }
    rk_cmd_bulk(c, "after", "GET h2:old");
    rk_cmd_nil(c, "GET h2:gone");
    rk_cmd_bulk(c, "1", "GET h2:n");
    rk_cmd_bulk(c, "three", "GET h2:flip");
    rk_cmd_nil(c, "GET h2:flop");
    /* The hint kept the deadline: the TTL did not start again. */
    rk_cmd_bulk(c, "v", "GET h2:ttl");
    r = rk_cmd(c, "PTTL h2:ttl");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_msg(r->integer > 0 &&
                  r->integer <= 20000 - (rk_now_ms() - ttl_set_at) + 100,
                  "n3's PTTL of h2:ttl is %lld, %lld ms after SET PX 20000",
                  r->integer, rk_now_ms() - ttl_set_at);
    freeReplyObject(r);
    redisFree(c);
    redisFree(a);
    redisFree(b);
    cluster_stop(&cl);
}
END_TEST

START_TEST(two_down_noquorum)
{
    struct cluster cl;
    redisContext *a;
    redisContext *one;
    redisReply *r;
    long long failed;
    long long start;
    int ok = 0;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    rk_cmd_status(a, "OK", "SET q3:k v0");
    failed = info_ll(cl.node[0], "quorum_writes_failed");
    ck_assert_int_eq(failed, 0);

    kill9(&cl, 1);
    kill9(&cl, 2);

    /* Right away, before gossip sees them down. */
    r = timed_cmd(a, OP_MAX_MS, "SET q3:k v1");
    assert_noquorum(r, "write");
    assert_contains(r, "of 3 replicas, 2 required");
    freeReplyObject(r);
    r = timed_cmd(a, OP_MAX_MS, "GET q3:k");
    assert_noquorum(r, "read");
    assert_contains(r, "of 3 replicas, 2 required");
    freeReplyObject(r);
    ck_assert_int_eq(info_ll(cl.node[0], "quorum_writes_failed"), 1);
    ck_assert_int_ge(info_ll(cl.node[0], "quorum_reads_failed"), 1);

    /* And once it does. */
    wait_alive(&cl, 1, 20000, "n2, n3 down");
    r = timed_cmd(a, OP_MAX_MS, "MSET q3:k v2 q3:other x");
    assert_noquorum(r, "write");
    freeReplyObject(r);
    r = timed_cmd(a, OP_MAX_MS, "INCR q3:n");
    assert_noquorum(r, NULL);
    freeReplyObject(r);
    r = timed_cmd(a, OP_MAX_MS, "DEL q3:k");
    assert_noquorum(r, NULL);
    freeReplyObject(r);
    ck_assert_int_ge(info_ll(cl.node[0], "quorum_writes_failed"), 2);

    /* ONE needs nobody else. */
    one = nconn(&cl, 0, "ONE", "ONE");
    r = timed_cmd(one, OP_MAX_MS, "SET q3:one alone");
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = timed_cmd(one, OP_MAX_MS, "GET q3:one");
    rk_assert_bulk(r, "alone");
    freeReplyObject(r);
    rk_cmd_int(one, 1, "INCR q3:n1");
    r = timed_cmd(a, OP_MAX_MS, "GET q3:one");
    assert_noquorum(r, "read");
    freeReplyObject(r);

    /* n2 back: QUORUM works again through n1 and n2. */
    restart(&cl, 1);
    start = rk_now_ms();
    while (!ok && rk_now_ms() - start < 15000) {
        r = timed_cmd(a, OP_MAX_MS, "SET q3:k v3");
        ok = r->type == REDIS_REPLY_STATUS;
        if (!ok) {
            assert_noquorum(r, "write");
            rk_sleep_ms(100);
        }
        freeReplyObject(r);
    }
    ck_assert_msg(ok, "QUORUM SET still fails 15 s after n2 came back");
    redisFree(a);
    a = nconn(&cl, 1, NULL, NULL);
    rk_cmd_bulk(a, "v3", "GET q3:k");
    rk_cmd_bulk(a, "alone", "GET q3:one");
    redisFree(a);
    redisFree(one);

    /* n3 back too: n1's hints for two replicas reach both. */
    restart(&cl, 2);
    wait_alive(&cl, 3, 20000, "n2, n3 back");
    wait_no_hints(&cl, 0, 15000);
    wait_no_hints(&cl, 1, 15000);
    for (int i = 1; i < 3; i++) {
        wait_local(&cl, i, "q3:one", "alone", 5000);
        wait_local(&cl, i, "q3:n1", "1", 5000);
        wait_local(&cl, i, "q3:k", "v3", 5000);
    }
    cluster_stop(&cl);
}
END_TEST

START_TEST(del_not_resurrected)
{
    struct cluster cl;
    redisContext *a;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    rk_cmd_status(a, "OK", "SET d4:k alive");
    rk_cmd_status(a, "OK", "MSET d4:m1 x d4:m2 y");
    wait_local(&cl, 2, "d4:k", "alive", 5000);
    wait_local(&cl, 2, "d4:m2", "y", 5000);

    kill9(&cl, 2);
    rk_cmd_int(a, 1, "DEL d4:k");
    rk_cmd_int(a, 2, "DEL d4:m1 d4:m2");
    rk_cmd_nil(a, "GET d4:k");
    restart(&cl, 2);
    wait_alive(&cl, 3, 20000, "n3 back");

    for (int round = 0; round < 3; round++) {
        for (int i = 2; i >= 0; i--) {
            redisContext *c = nconn(&cl, i, NULL, NULL);
            redisReply *r = rk_cmd(c, "MGET d4:k d4:m1 d4:m2");

            rk_cmd_nil(c, "GET d4:k");
            rk_cmd_int(c, 0, "EXISTS d4:k d4:m1 d4:m2");
            rk_assert_array(r, 3);
            for (int k = 0; k < 3; k++) {
                rk_assert_nil(r->element[k]);
            }
            freeReplyObject(r);
            redisFree(c);
        }
        rk_sleep_ms(100);
    }
    /* n3's own copy: the tombstone, by hint or by read repair. */
    wait_local(&cl, 2, "d4:k", NULL, 5000);
    wait_local(&cl, 2, "d4:m2", NULL, 5000);
    /* A later write of the key is not hidden by the tombstone. */
    rk_cmd_status(a, "OK", "SET d4:k again");
    {
        redisContext *c = nconn(&cl, 2, NULL, NULL);

        rk_cmd_bulk(c, "again", "GET d4:k");
        redisFree(c);
    }
    redisFree(a);
    cluster_stop(&cl);
}
END_TEST

START_TEST(ttl_expires_everywhere)
{
    struct cluster cl;
    redisContext *a;
    redisContext *c[3];
    long long set_at;
    long long wait;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    set_at = rk_now_ms();
    rk_cmd_status(a, "OK", "SET t5:px v PX 1500");
    rk_cmd_status(a, "OK", "SET t5:ex v");
    rk_cmd_int(a, 1, "PEXPIRE t5:ex 1500");
    rk_cmd_status(a, "OK", "SET t5:keep v");
    for (int i = 0; i < 3; i++) {
        c[i] = nconn(&cl, i, "ONE", NULL);
    }
    /* Every replica has the value and its TTL... */
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(get_becomes(c[i], "t5:px", "v", 1000),
                      "n%d's own copy of t5:px never appeared", i + 1);
        ck_assert_msg(rk_now_ms() - set_at < 1400, "too slow to see t5:px "
                      "on every replica before its TTL ends");
    }
    /* ...and it ends on every replica. */
    wait = 2000 - (rk_now_ms() - set_at);
    if (wait > 0) {
        rk_sleep_ms((long)wait);
    }
    for (int i = 0; i < 3; i++) {
        rk_cmd_nil(c[i], "GET t5:px");
        rk_cmd_nil(c[i], "GET t5:ex");
        rk_cmd_int(c[i], -2, "PTTL t5:px");
        rk_cmd_int(c[i], 0, "EXISTS t5:px t5:ex");
        rk_cmd_bulk(c[i], "v", "GET t5:keep");
        redisFree(c[i]);
    }
    rk_cmd_nil(a, "GET t5:px");
    redisFree(a);
    cluster_stop(&cl);
}
END_TEST

/*
 * n3 misses a write whose only hint is on n1, and n1 dies before it can
 * hand it over: a QUORUM read through n3 (n3 and n2 answer) must repair
 * n3 before it answers. When n1 is back, its hint (durable across kill -9)
 * still reaches n3.
 */
START_TEST(quorum_read_repairs)
{
    struct cluster cl;
    redisContext *a;
    redisContext *c;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    rk_cmd_status(a, "OK", "SET r6:k old");
    rk_cmd_int(a, 1, "INCR r6:n");
    wait_local(&cl, 2, "r6:k", "old", 5000);
    wait_local(&cl, 2, "r6:n", "1", 5000);

    kill9(&cl, 2);
    rk_cmd_status(a, "OK", "SET r6:k new");
    rk_cmd_int(a, 5, "INCRBY r6:n 4");
    rk_cmd_status(a, "OK", "SET r6:unread hinted");
    ck_assert_int_eq(info_ll(cl.node[0], "hints_pending"), 3);
    ck_assert_int_eq(info_ll(cl.node[1], "hints_pending"), 0);
    redisFree(a);
    kill9(&cl, 0);
    restart(&cl, 2);
    /* n3 must reach n2 to read at QUORUM. */
    wait_alive(&cl, 2, 20000, "n3 back, n1 down");

    c = nconn(&cl, 2, NULL, NULL);
    rk_cmd_bulk(c, "new", "GET r6:k");
    ck_assert_int_ge(info_ll(cl.node[2], "read_repairs_sent"), 1);
    ck_assert_int_eq(info_sum(&cl, "hints_delivered"), 0);
    /* A read-modify-write through the stale node starts from the newest. */
    rk_cmd_int(c, 6, "INCR r6:n");
    redisFree(c);
    /* The repair was written, not just answered. */
    c = nconn(&cl, 2, "ONE", NULL);
    rk_cmd_bulk(c, "new", "GET r6:k");
    rk_cmd_nil(c, "GET r6:unread");
    redisFree(c);

    /* n1 back: the hint it kept reaches n3. */
    restart(&cl, 0);
    wait_alive(&cl, 3, 20000, "n1 back");
    wait_no_hints(&cl, 0, 15000);
    ck_assert_int_ge(info_ll(cl.node[0], "hints_delivered"), 1);
    wait_local(&cl, 2, "r6:unread", "hinted", 5000);
    wait_local(&cl, 2, "r6:k", "new", 1000);
    for (int i = 0; i < 3; i++) {
        wait_local(&cl, i, "r6:n", "6", 5000);
    }
    cluster_stop(&cl);
}
END_TEST

/*
 * Three clients write the same keys through three nodes at once: every
 * replica ends with the same value (last write wins identically), and it
 * is one of the values written.
 */
START_TEST(concurrent_writers_converge)
{
    enum { NKEYS = 5, ROUNDS = 100 };
    struct cluster cl;
    redisContext *c[3];
    redisReply *r;
    char want[NKEYS][32];

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    for (int i = 0; i < 3; i++) {
        c[i] = nconn(&cl, i, NULL, NULL);
    }
    /* Pipelined, so the three nodes' writes interleave. */
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < NKEYS; k++) {
                redisAppendCommand(c[i], "SET c9:k%d n%d-%d", k, i + 1,
                                   round);
            }
        }
    }
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < NKEYS; k++) {
                r = rk_get_reply(c[i]);
                rk_assert_status(r, "OK");
                freeReplyObject(r);
            }
        }
    }
    for (int k = 0; k < NKEYS; k++) {
        r = rk_cmd(c[0], "GET c9:k%d", k);
        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        snprintf(want[k], sizeof(want[k]), "%s", r->str);
        freeReplyObject(r);
        ck_assert_msg(strstr(want[k], "-99") != NULL, "c9:k%d is %s, not "
                      "one of the last writes", k, want[k]);
        for (int i = 1; i < 3; i++) {
            rk_cmd_bulk(c[i], want[k], "GET c9:k%d", k);
        }
    }
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < NKEYS; k++) {
            char key[16];

            snprintf(key, sizeof(key), "c9:k%d", k);
            wait_local(&cl, i, key, want[k], 5000);
        }
        redisFree(c[i]);
    }
    cluster_stop(&cl);
}
END_TEST

/*
 * Read-modify-write through one node is atomic: its writes of a key take
 * the key in turn (server/keylock.h), so pipelined INCRs from several
 * connections lose nothing, and a SET never slips between an INCR's read
 * and its write. (Across coordinators it is last-write-wins:
 * redis-compat.md.)
 */
START_TEST(incr_through_one_node_is_atomic)
{
    enum { NCONN = 4, PER = 250 };
    struct cluster cl;
    redisContext *c[NCONN];
    redisReply *r;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    for (int i = 0; i < NCONN; i++) {
        c[i] = nconn(&cl, 0, NULL, NULL);
    }
    for (int n = 0; n < PER; n++) {
        for (int i = 0; i < NCONN; i++) {
            redisAppendCommand(c[i], "INCR ia:n");
            redisAppendCommand(c[i], "APPEND ia:s x");
        }
    }
    for (int n = 0; n < PER; n++) {
        for (int i = 0; i < NCONN; i++) {
            r = rk_get_reply(c[i]);
            ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
            freeReplyObject(r);
            r = rk_get_reply(c[i]);
            ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
            freeReplyObject(r);
        }
    }
    {
        char want[16];

        snprintf(want, sizeof(want), "%d", NCONN * PER);
        rk_cmd_bulk(c[0], want, "GET ia:n");
    }
    rk_cmd_int(c[1], NCONN * PER, "STRLEN ia:s");

    /* Through every node at once: read-modify-writes go to the key's
     * primary, whose key lock takes them in turn (forward-writes). */
    for (int i = 0; i < NCONN; i++) {
        redisFree(c[i]);
        c[i] = nconn(&cl, i % 3, NULL, NULL);
    }
    for (int n = 0; n < PER; n++) {
        for (int i = 0; i < NCONN; i++) {
            redisAppendCommand(c[i], "INCR ia:all");
        }
    }
    for (int n = 0; n < PER; n++) {
        for (int i = 0; i < NCONN; i++) {
            r = rk_get_reply(c[i]);
            ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
            freeReplyObject(r);
        }
    }
    {
        char want[16];

        snprintf(want, sizeof(want), "%d", NCONN * PER);
        for (int i = 0; i < 3; i++) {
            rk_cmd_bulk(c[i], want, "GET ia:all");
        }
    }

    /* One client's pipelined commands run in order: each sees the one
     * before it, though each waits for the replicas. */
    for (int round = 0; round < 20; round++) {
        redisAppendCommand(c[2], "SET po:%d 1", round);
        redisAppendCommand(c[2], "INCR po:%d", round);
        redisAppendCommand(c[2], "GET po:%d", round);
        redisAppendCommand(c[2], "APPEND po:%d x", round);
        redisAppendCommand(c[2], "DEL po:%d", round);
        redisAppendCommand(c[2], "GET po:%d", round);
    }
    for (int round = 0; round < 20; round++) {
        rk_assert_status(r = rk_get_reply(c[2]), "OK");
        freeReplyObject(r);
        r = rk_get_reply(c[2]);
        ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
        ck_assert_int_eq(r->integer, 2);
        freeReplyObject(r);
        rk_assert_bulk(r = rk_get_reply(c[2]), "2");
        freeReplyObject(r);
        r = rk_get_reply(c[2]);
        ck_assert_int_eq(r->integer, 2);
        freeReplyObject(r);
        r = rk_get_reply(c[2]);
        ck_assert_int_eq(r->integer, 1);
        freeReplyObject(r);
        r = rk_get_reply(c[2]);
        ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
    }
    for (int i = 0; i < NCONN; i++) {
        redisFree(c[i]);
    }
    cluster_stop(&cl);
}
END_TEST

START_TEST(sigstopped_replica)
{
    struct cluster cl;
    redisContext *a;
    redisContext *b;
    redisContext *all;
    redisReply *r;
    char key[32];
    char val[32];
    long long start;
    long long took;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    b = nconn(&cl, 1, NULL, NULL);
    all = nconn(&cl, 0, "ALL", "ALL");
    rk_cmd_status(a, "OK", "SET s7:k before");
    wait_local(&cl, 2, "s7:k", "before", 5000);
    rk_cmd_bulk(all, "before", "GET s7:k");

    ck_assert_int_eq(kill(cl.node[2]->pid, SIGSTOP), 0);
    cl.stopped[2] = 1;

    /* ALL waits for n3 until the request timeout... */
    start = rk_now_ms();
    r = timed_cmd(all, REQ_TIMEOUT_MS + 1500, "GET s7:k");
    took = rk_now_ms() - start;
    assert_noquorum(r, "read");
    assert_contains(r, "2 of 3 replicas, 3 required");
    ck_assert_int_ge(took, REQ_TIMEOUT_MS - 200);
    freeReplyObject(r);
    /* ...and then fails (at once or by the timeout again). */
    r = timed_cmd(all, REQ_TIMEOUT_MS + 1500, "SET s7:all x");
    assert_noquorum(r, "write");
    assert_contains(r, "of 3 replicas, 3 required");
    freeReplyObject(r);

    /*
     * QUORUM writes do not wait for n3, and neither do reads: one that
     * asked n3 among its first R replicas asks the third one after
     * request-timeout / 20 (speculative retry).
     */
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "s7:k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        r = timed_cmd(i % 2 ? a : b, REQ_TIMEOUT_MS + 500, "SET %s %s",
                      key, val);
        rk_assert_status(r, "OK");
        freeReplyObject(r);
        start = rk_now_ms();
        r = timed_cmd(i % 2 ? b : a, REQ_TIMEOUT_MS + 500, "GET %s", key);
        rk_assert_bulk(r, val);
        ck_assert_int_lt(rk_now_ms() - start, REQ_TIMEOUT_MS / 2);
        freeReplyObject(r);
    }
    wait_alive(&cl, 2, 20000, "n3 stopped");
    r = timed_cmd(b, REQ_TIMEOUT_MS + 500, "SET s7:k during");
    rk_assert_status(r, "OK");
    freeReplyObject(r);

    /* Clients that leave while their ops wait for n3. */
    for (int i = 0; i < 5; i++) {
        int fd = rk_raw_connect(cl.node[i % 2]);

        rk_raw_send_str(fd, "CONSISTENCY READ ALL WRITE ALL\r\n"
                        "SET s7:left x\r\nGET s7:k\r\nINCR s7:n\r\n");
        if (i % 2) {
            rk_sleep_ms(50);
        }
        close(fd);
    }
    rk_sleep_ms(REQ_TIMEOUT_MS + 300);
    rk_cmd_status(a, "PONG", "PING");
    rk_cmd_status(b, "PONG", "PING");

    ck_assert_int_eq(kill(cl.node[2]->pid, SIGCONT), 0);
    cl.stopped[2] = 0;
    wait_alive(&cl, 3, 20000, "n3 continued");
    {
        redisContext *c = nconn(&cl, 2, NULL, NULL);

        for (int i = 0; i < 10; i++) {
            snprintf(val, sizeof(val), "v%d", i);
            rk_cmd_bulk(c, val, "GET s7:k%d", i);
        }
        rk_cmd_bulk(c, "during", "GET s7:k");
        redisFree(c);
    }
    wait_local(&cl, 2, "s7:k", "during", 5000);
    wait_local(&cl, 2, "s7:k0", "v0", 5000);
    /* ALL works again once n3 answers (links back off for a while). */
    start = rk_now_ms();
    for (;;) {
        int ok;

        r = timed_cmd(all, REQ_TIMEOUT_MS + 1500, "SET s7:all y");
        ok = r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (ok) {
            break;
        }
        ck_assert_msg(rk_now_ms() - start < 10000,
                      "WRITE ALL still fails 10 s after SIGCONT");
        rk_sleep_ms(100);
    }
    rk_cmd_bulk(all, "y", "GET s7:all");
    redisFree(all);
    redisFree(a);
    redisFree(b);
    cluster_stop(&cl);
}
END_TEST

/*
 * A long pipeline through n1 while n3 is killed in its middle: every reply
 * arrives, in order and right; n3 gets every write by hints afterwards.
 */
START_TEST(kill9_during_pipeline)
{
    enum { NCMDS = 1000 };
    struct cluster cl;
    redisContext *a;
    redisContext *c;
    redisReply *r;
    char val[32];

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    for (int i = 0; i < NCMDS / 2; i++) {
        redisAppendCommand(a, "SET p10:%d v%d", i, i);
        redisAppendCommand(a, "GET p10:%d", i);
    }
    for (int i = 0; i < NCMDS; i++) {
        if (i == NCMDS / 20) {
            /* While the first half may still be on its way. */
            kill9(&cl, 2);
            for (int k = NCMDS / 2; k < NCMDS; k++) {
                redisAppendCommand(a, "SET p10:%d v%d", k, k);
                redisAppendCommand(a, "GET p10:%d", k);
            }
        }
        snprintf(val, sizeof(val), "v%d", i);
        r = rk_get_reply(a);
        rk_assert_status(r, "OK");
        freeReplyObject(r);
        r = rk_get_reply(a);
        rk_assert_bulk(r, val);
        freeReplyObject(r);
    }
    ck_assert_int_eq(info_ll(cl.node[0], "quorum_writes_failed"), 0);
    ck_assert_int_eq(info_ll(cl.node[0], "quorum_reads_failed"), 0);
    ck_assert_int_ge(info_ll(cl.node[0], "hints_stored"), NCMDS / 2);
    ck_assert_int_gt(info_ll(cl.node[0], "hints_pending"), 0);

    restart(&cl, 2);
    wait_alive(&cl, 3, 20000, "n3 back");
    wait_no_hints(&cl, 0, 20000);
    c = nconn(&cl, 2, "ONE", NULL);
    for (int i = 0; i < NCMDS; i++) {
        redisAppendCommand(c, "GET p10:%d", i);
    }
    for (int i = 0; i < NCMDS; i++) {
        snprintf(val, sizeof(val), "v%d", i);
        r = rk_get_reply(c);
        rk_assert_bulk(r, val);
        freeReplyObject(r);
    }
    redisFree(c);
    redisFree(a);
    cluster_stop(&cl);
}
END_TEST

/*
 * A node restarted after kill -9 must not answer a QUORUM read or
 * acknowledge a QUORUM write on its own before it has learnt the ring
 * again: right after it answers PING, it refuses (-CLUSTERDOWN) or
 * reaches a quorum.
 */
#define assert_refused_or(r, want)                                      \
    do {                                                                \
        char d_[256];                                                   \
        ck_assert_msg((r)->type == REDIS_REPLY_ERROR                    \
                      ? strncmp((r)->str, "CLUSTERDOWN ", 12) == 0 ||   \
                        is_noquorum((r), NULL)                          \
                      : (r)->type == REDIS_REPLY_STATUS ||              \
                        ((r)->type == REDIS_REPLY_STRING &&             \
                         strcmp((r)->str, (want)) == 0),                \
                      "right after its restart n2 answered %s",         \
                      rk_reply_describe((r), d_, sizeof(d_)));          \
    } while (0)

START_TEST(restarted_node_waits_for_ring)
{
    struct cluster cl;
    redisContext *a;
    redisContext *c;
    redisReply *r;
    int acked;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    kill9(&cl, 1);
    rk_cmd_status(a, "OK", "SET e11:read while-down");
    rk_server_restart(cl.node[1]);
    cl.dead[1] = 0;
    c = nconn(&cl, 1, NULL, NULL);
    r = rk_cmd(c, "GET e11:read");
    assert_refused_or(r, "while-down");
    freeReplyObject(r);
    r = rk_cmd(c, "SET e11:write early");
    assert_refused_or(r, "");
    acked = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!acked) {
        /* Once it knows the ring, it serves. */
        redisFree(c);
        wait_members(&cl, 1);
        c = nconn(&cl, 1, NULL, NULL);
        rk_cmd_bulk(c, "while-down", "GET e11:read");
        rk_cmd_status(c, "OK", "SET e11:write early");
    }
    redisFree(c);
    /* Acknowledged at QUORUM: n1 or n3 has it. */
    kill9(&cl, 1);
    rk_cmd_bulk(a, "early", "GET e11:write");
    redisFree(a);
    cluster_stop(&cl);
}
END_TEST

/* The client ports of the replicas of slot, from a CLUSTER SLOTS reply. */
static int
slot_replicas(const redisReply *slots, long long slot, int *ports, int max)
{
    for (size_t i = 0; i < slots->elements; i++) {
        const redisReply *e = slots->element[i];
        int n = 0;

        if (slot < e->element[0]->integer || slot > e->element[1]->integer) {
            continue;
        }
        for (size_t k = 2; k < e->elements && n < max; k++) {
            ports[n++] = (int)e->element[k]->element[1]->integer;
        }
        return n;
    }
    return 0;
}

/* Whether a CLUSTER SLOTS reply covers every slot with 3 nodes each. */
static int
slots_complete(const redisReply *r)
{
    long long next = 0;

    if (r->type != REDIS_REPLY_ARRAY) {
        return 0;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 5 ||
            e->element[0]->integer != next) {
            return 0;
        }
        next = e->element[1]->integer + 1;
    }
    return next == NSLOTS;
}

/* CLUSTER SLOTS through c once it shows three replicas for every slot
 * (10 s at most); the caller frees it. */
static redisReply *
complete_slots(redisContext *c)
{
    long long start = rk_now_ms();
    redisReply *slots;

    for (;;) {
        slots = rk_cmd(c, "CLUSTER SLOTS");
        if (slots_complete(slots) || rk_now_ms() - start > 10000) {
            break;
        }
        freeReplyObject(slots);
        rk_sleep_ms(100);
    }
    ck_assert_msg(slots_complete(slots), "CLUSTER SLOTS does not show "
                  "three replicas for every slot");
    return slots;
}

START_TEST(five_nodes_two_down)
{
    enum { NKEYS = 40 };
    struct cluster cl;
    redisContext *c[MAXN];
    redisReply *slots = NULL;
    int dead_port[2];
    int expect_fail[NKEYS];
    int nexpect = 0;
    int nfail_get = 0;
    int nfail_set = 0;
    char key[32];
    char val[32];

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 5);
    wait_alive(&cl, 5, 15000, "start");
    for (int i = 0; i < 5; i++) {
        c[i] = nconn(&cl, i, NULL, NULL);
    }
    slots = complete_slots(c[0]);

    for (int i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "f8:k%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        rk_cmd_status(c[0], "OK", "SET %s %s", key, val);
    }
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < NKEYS; i++) {
            snprintf(key, sizeof(key), "f8:k%d", i);
            snprintf(val, sizeof(val), "v%d", i);
            rk_cmd_bulk(c[k], val, "GET %s", key);
        }
    }

    /* Which keys have both of n4 and n5 among their three replicas. */
    dead_port[0] = cl.node[3]->port;
    dead_port[1] = cl.node[4]->port;
    for (int i = 0; i < NKEYS; i++) {
        redisReply *r;
        int ports[3];
        int n;
        int ndead = 0;

        snprintf(key, sizeof(key), "f8:k%d", i);
        r = rk_cmd(c[1], "CLUSTER KEYSLOT %s", key);
        ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
        n = slot_replicas(slots, r->integer, ports, 3);
        freeReplyObject(r);
        ck_assert_int_eq(n, 3);
        for (int k = 0; k < n; k++) {
            ndead += ports[k] == dead_port[0] || ports[k] == dead_port[1];
        }
        expect_fail[i] = ndead == 2;
        nexpect += expect_fail[i];
    }
    freeReplyObject(slots);
    ck_assert_msg(nexpect > 0 && nexpect < NKEYS, "%d of %d keys have both "
                  "n4 and n5 as replicas", nexpect, NKEYS);
    redisFree(c[3]);
    redisFree(c[4]);
    kill9(&cl, 3);
    kill9(&cl, 4);

    /* Reads and writes through n1..n3: exactly those keys fail. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < NKEYS; i++) {
            redisReply *r;

            snprintf(key, sizeof(key), "f8:k%d", i);
            snprintf(val, sizeof(val), "v%d", i);
            r = timed_cmd(c[i % 3], OP_MAX_MS, "GET %s", key);
            if (expect_fail[i]) {
                assert_noquorum(r, "read");
                nfail_get++;
            } else {
                rk_assert_bulk(r, val);
            }
            freeReplyObject(r);
            r = timed_cmd(c[(i + 1) % 3], OP_MAX_MS, "SET %s %s", key, val);
            if (expect_fail[i]) {
                assert_noquorum(r, "write");
                nfail_set++;
            } else {
                rk_assert_status(r, "OK");
            }
            freeReplyObject(r);
        }
        if (pass == 0) {
            /* Again once gossip has them down. */
            wait_alive(&cl, 3, 20000, "n4, n5 down");
        }
    }
    /* A multi-key read fails as a whole when one of its keys does. */
    {
        int good[2] = { -1, -1 };
        int bad = -1;
        redisReply *r;

        for (int i = 0; i < NKEYS; i++) {
            if (expect_fail[i] && bad < 0) {
                bad = i;
            } else if (!expect_fail[i] && good[0] < 0) {
                good[0] = i;
            } else if (!expect_fail[i] && good[1] < 0) {
                good[1] = i;
            }
        }
        r = timed_cmd(c[2], OP_MAX_MS, "MGET f8:k%d f8:k%d", good[0], bad);
        assert_noquorum(r, "read");
        freeReplyObject(r);
        r = timed_cmd(c[2], OP_MAX_MS, "MGET f8:k%d f8:k%d", good[1],
                      good[0]);
        rk_assert_array(r, 2);
        snprintf(val, sizeof(val), "v%d", good[1]);
        rk_assert_bulk(r->element[0], val);
        snprintf(val, sizeof(val), "v%d", good[0]);
        rk_assert_bulk(r->element[1], val);
        freeReplyObject(r);
    }
    ck_assert_int_eq(nfail_get, 2 * nexpect);
    ck_assert_int_eq(nfail_set, 2 * nexpect);
    fprintf(stderr, "five_nodes_two_down: %d of %d keys had both dead "
            "nodes as replicas\n", nexpect, NKEYS);
    for (int i = 0; i < 3; i++) {
        redisFree(c[i]);
    }
    cluster_stop(&cl);
}
END_TEST

/* Wait (bounded) until node i's failure detector holds a member DOWN. */
static void
wait_down(struct cluster *cl, int i, long long timeout_ms)
{
    redisContext *c = rk_connect(cl->node[i]);
    long long start = rk_now_ms();
    int down = 0;

    while (!down && rk_now_ms() - start < timeout_ms) {
        redisReply *r = rk_cmd(c, "INFO cluster");

        down = r->type == REDIS_REPLY_STRING &&
               strstr(r->str, "liveness=down") != NULL;
        freeReplyObject(r);
        if (!down) {
            rk_sleep_ms(50);
        }
    }
    redisFree(c);
    ck_assert_msg(down, "n%d holds nobody DOWN after %lld ms", i + 1,
                  timeout_ms);
}

/*
 * A dead primary: once the survivors see it DOWN they both forward a
 * key's read-modify-writes to the next replica of its preference list, so
 * concurrent INCRs through both of them still lose nothing; and reads no
 * longer ask it first.
 */
START_TEST(incr_while_primary_down)
{
    enum { NCONN = 4, PER = 250 };
    struct cluster cl;
    redisContext *c[NCONN];
    redisReply *slots = NULL;
    redisReply *r;
    char key[32];
    char want[16];
    int found = 0;

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    c[0] = nconn(&cl, 1, NULL, NULL);
    slots = complete_slots(c[0]);
    /* A key whose primary is n1. */
    for (int i = 0; i < 1000 && !found; i++) {
        int ports[3];

        snprintf(key, sizeof(key), "pd:k%d", i);
        r = rk_cmd(c[0], "CLUSTER KEYSLOT %s", key);
        ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
        found = slot_replicas(slots, r->integer, ports, 3) == 3 &&
                ports[0] == cl.node[0]->port;
        freeReplyObject(r);
    }
    freeReplyObject(slots);
    redisFree(c[0]);
    ck_assert_msg(found, "no key of 1000 has n1 as its primary");

    kill9(&cl, 0);
    for (int i = 1; i < 3; i++) {
        wait_down(&cl, i, 20000);
    }
    for (int i = 0; i < NCONN; i++) {
        c[i] = nconn(&cl, 1 + i % 2, NULL, NULL);
    }
    for (int n = 0; n < PER; n++) {
        for (int i = 0; i < NCONN; i++) {
            redisAppendCommand(c[i], "INCR %s", key);
        }
    }
    for (int n = 0; n < PER; n++) {
        for (int i = 0; i < NCONN; i++) {
            r = rk_get_reply(c[i]);
            ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
            freeReplyObject(r);
        }
    }
    snprintf(want, sizeof(want), "%d", NCONN * PER);
    rk_cmd_bulk(c[0], want, "GET %s", key);
    rk_cmd_bulk(c[1], want, "GET %s", key);

    /* QUORUM reads ask the live replicas first: none goes to n1. */
    {
        long long failures = info_ll(cl.node[1], "peer_request_failures");

        for (int i = 0; i < 100; i++) {
            redisReply *r = timed_cmd(c[0], OP_MAX_MS, "GET pd:other%d", i);

            ck_assert_int_eq(r->type, REDIS_REPLY_NIL);
            freeReplyObject(r);
        }
        ck_assert_int_eq(info_ll(cl.node[1], "peer_request_failures"),
                         failures);
    }
    for (int i = 0; i < NCONN; i++) {
        redisFree(c[i]);
    }
    cluster_stop(&cl);
}
END_TEST

START_TEST(wrong_secret_isolated)
{
    struct cluster cl;
    struct rk_server *bad;
    redisContext *a;
    redisContext *x;
    redisReply *r;
    char seeds[128];
    char cport[16];

    RK_REQUIRE_RINGKV();
    cluster_start(&cl, 3);
    wait_alive(&cl, 3, 10000, "start");
    a = nconn(&cl, 0, NULL, NULL);
    rk_cmd_status(a, "OK", "SET x9:k cluster-data");

    snprintf(cport, sizeof(cport), "%d", rk_free_port());
    snprintf(seeds, sizeof(seeds), "127.0.0.1:%s,127.0.0.1:%s,"
             "127.0.0.1:%s,127.0.0.1:%s", cl.cport[0], cl.cport[1],
             cl.cport[2], cport);
    {
        const char *const args[] = {
            "--node-id", "intruder", "--cluster-port", cport,
            "--seeds", seeds, "--cluster-secret", "not-the-secret",
            "--gossip-interval-ms", "100", "--threads", "1", NULL
        };

        bad = rk_server_start(args);
    }
    rk_sleep_ms(1500);
    ck_assert_int_le(info_ll(bad, "cluster_alive"), 1);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(info_ll(cl.node[i], "cluster_members"), 3);
        ck_assert_int_eq(info_ll(cl.node[i], "cluster_alive"), 3);
    }

    /* It cannot read the cluster's data... */
    x = rk_connect(bad);
    r = timed_cmd(x, OP_MAX_MS, "GET x9:k");
    ck_assert_msg(r->type == REDIS_REPLY_NIL ||
                  r->type == REDIS_REPLY_ERROR, "the intruder read x9:k");
    freeReplyObject(r);
    /* ...nor write into it. */
    r = timed_cmd(x, OP_MAX_MS, "SET x9:k intruder");
    freeReplyObject(r);
    r = timed_cmd(x, OP_MAX_MS, "SET x9:new intruder");
    freeReplyObject(r);
    rk_cmd_bulk(a, "cluster-data", "GET x9:k");
    rk_cmd_nil(a, "GET x9:new");
    for (int i = 1; i < 3; i++) {
        wait_local(&cl, i, "x9:k", "cluster-data", 5000);
        wait_local(&cl, i, "x9:new", NULL, 1000);
    }
    redisFree(x);
    rk_server_stop(bad);
    redisFree(a);
    cluster_stop(&cl);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cluster_faults");
    TCase *tc = rk_tcase(s, "cluster_faults", 60);

    tcase_add_test(tc, write_one_read_all);
    tcase_add_test(tc, kill9_replica_gets_hints);
    tcase_add_test(tc, two_down_noquorum);
    tcase_add_test(tc, del_not_resurrected);
    tcase_add_test(tc, ttl_expires_everywhere);
    tcase_add_test(tc, quorum_read_repairs);
    tcase_add_test(tc, concurrent_writers_converge);
    tcase_add_test(tc, incr_through_one_node_is_atomic);
    tcase_add_test(tc, sigstopped_replica);
    tcase_add_test(tc, kill9_during_pipeline);
    tcase_add_test(tc, restarted_node_waits_for_ring);
    tcase_add_test(tc, five_nodes_two_down);
    tcase_add_test(tc, incr_while_primary_down);
    tcase_add_test(tc, wrong_secret_isolated);
    return rk_run_suite(s);
}
