/*
 * tests/integration/test_multi.c - MULTI, EXEC, DISCARD, WATCH and UNWATCH
 * against a spawned ringkv-server, byte-exact as Redis 7.0. A transaction's
 * keys share a {hash tag}, so the suite also runs against a cluster node
 * (test_suites_on_cluster.sh), where a transaction stays in one slot.
 */
#include "harness.h"

#include <string.h>
#include <unistd.h>

/* EXEC and expect the nil reply of an aborted transaction (*-1). */
static void
exec_aborted(redisContext *c)
{
    redisReply *r = rk_cmd(c, "EXEC");

    rk_assert_nil(r);
    freeReplyObject(r);
}

/* MULTI; GET key; EXEC: the transaction runs and GET gives value (NULL:
 * nil). */
static void
multi_get_runs(redisContext *c, const char *key, const char *value)
{
    redisReply *r;

    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "GET %s", key);
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 1);
    if (value == NULL) {
        rk_assert_nil(r->element[0]);
    } else {
        rk_assert_bulk(r->element[0], value);
    }
    freeReplyObject(r);
}

START_TEST(multi_exec_runs_queued_commands)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:k 1");
    rk_cmd_status(c, "QUEUED", "INCR {rk:m}:k");
    rk_cmd_status(c, "QUEUED", "GET {rk:m}:k");
    rk_cmd_status(c, "QUEUED", "PING");
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 4);
    rk_assert_status(r->element[0], "OK");
    rk_assert_int(r->element[1], 2);
    rk_assert_bulk(r->element[2], "2");
    rk_assert_status(r->element[3], "PONG");
    freeReplyObject(r);
    rk_cmd_bulk(c, "2", "GET {rk:m}:k");
    /* Out of MULTI again. */
    rk_cmd_error(c, "ERR EXEC without MULTI", "EXEC");

    /* An empty transaction is an empty array. */
    rk_cmd_status(c, "OK", "MULTI");
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 0);
    freeReplyObject(r);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(multi_exec_raw_bytes)
{
    struct rk_server *srv = rk_server_start(NULL);
    int fd = rk_raw_connect(srv);

    rk_raw_send_str(fd, "MULTI\r\nSET {rk:m}:raw 1\r\nGET {rk:m}:raw\r\n"
                    "GET {rk:m}:none\r\nEXEC\r\nMULTI\r\nEXEC\r\n");
    rk_raw_expect(fd, "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n"
                  "*3\r\n+OK\r\n$1\r\n1\r\n$-1\r\n+OK\r\n*0\r\n", 5000);
    close(fd);
    rk_server_stop(srv);
}
END_TEST

START_TEST(error_inside_exec_stays_per_command)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "OK", "SET {rk:m}:str foo");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:n 1");
    rk_cmd_status(c, "QUEUED", "INCR {rk:m}:str");
    rk_cmd_status(c, "QUEUED", "INCR {rk:m}:n");
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 3);
    rk_assert_status(r->element[0], "OK");
    rk_assert_error(r->element[1],
                    "ERR value is not an integer or out of range");
    rk_assert_int(r->element[2], 2);
    freeReplyObject(r);
    rk_cmd_bulk(c, "foo", "GET {rk:m}:str");
    rk_cmd_bulk(c, "2", "GET {rk:m}:n");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/* Keyspace-wide commands inside EXEC: the transaction locks the whole
 * keyspace, and FLUSHALL inside it once deadlocked on those locks. */
START_TEST(flushall_and_keys_inside_exec)
{
    struct rk_server *srv;
    redisContext *c;
    redisReply *r;

    RK_REQUIRE_ONE_NODE();      /* a cluster refuses them in MULTI */
    srv = rk_server_start(NULL);
    c = rk_connect(srv);

    rk_cmd_status(c, "OK", "SET {rk:m}:a 1");
    rk_cmd_status(c, "OK", "WATCH {rk:m}:a");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:b 2");
    rk_cmd_status(c, "QUEUED", "DBSIZE");
    rk_cmd_status(c, "QUEUED", "FLUSHALL");
    rk_cmd_status(c, "QUEUED", "KEYS {rk:m}:*");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:c 3");
    rk_cmd_status(c, "QUEUED", "DBSIZE");
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 6);
    rk_assert_status(r->element[0], "OK");
    rk_assert_int(r->element[1], 2);
    rk_assert_status(r->element[2], "OK");
    rk_assert_array(r->element[3], 0);
    rk_assert_status(r->element[4], "OK");
    rk_assert_int(r->element[5], 1);
    freeReplyObject(r);
    /* The server still serves this and other clients. */
    rk_cmd_bulk(c, "3", "GET {rk:m}:c");
    redisFree(c);
    c = rk_connect(srv);
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(queueing_error_aborts_exec)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    /* Unknown command while queueing. */
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:a 1");
    rk_cmd_error(c, "ERR unknown command 'foo', with args beginning with: ",
                 "foo");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:b 1");
    rk_cmd_error(c, "EXECABORT Transaction discarded because of previous "
                 "errors.", "EXEC");
    rk_cmd_nil(c, "GET {rk:m}:a");
    rk_cmd_nil(c, "GET {rk:m}:b");
    rk_cmd_error(c, "ERR EXEC without MULTI", "EXEC");

    /* Wrong arity while queueing. */
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:a 1");
    rk_cmd_error(c, "ERR wrong number of arguments for 'get' command",
                 "GET a b");
    rk_cmd_error(c, "EXECABORT Transaction discarded because of previous "
                 "errors.", "EXEC");
    rk_cmd_nil(c, "GET {rk:m}:a");

    /* DISCARD after a queueing error is fine. */
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_error(c, "ERR wrong number of arguments for 'set' command",
                 "SET a");
    rk_cmd_status(c, "OK", "DISCARD");
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(nested_multi_and_watch_inside_multi)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:k 6");
    rk_cmd_error(c, "ERR MULTI calls can not be nested", "MULTI");
    rk_cmd_error(c, "ERR WATCH inside MULTI is not allowed", "WATCH {rk:m}:k");
    /* Neither error discards the transaction. */
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 1);
    rk_assert_status(r->element[0], "OK");
    freeReplyObject(r);
    rk_cmd_bulk(c, "6", "GET {rk:m}:k");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(exec_and_discard_without_multi)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_error(c, "ERR EXEC without MULTI", "EXEC");
    rk_cmd_error(c, "ERR DISCARD without MULTI", "DISCARD");
    rk_cmd_error(c, "ERR wrong number of arguments for 'multi' command",
                 "MULTI x");
    rk_cmd_error(c, "ERR wrong number of arguments for 'watch' command",
                 "WATCH");
    rk_cmd_status(c, "OK", "UNWATCH");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(discard_drops_queue)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET {rk:m}:k 1");
    rk_cmd_status(c, "OK", "DISCARD");
    rk_cmd_nil(c, "GET {rk:m}:k");
    rk_cmd_error(c, "ERR EXEC without MULTI", "EXEC");
    rk_cmd_error(c, "ERR DISCARD without MULTI", "DISCARD");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(watch_modified_by_other_aborts)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *other = rk_connect(srv);
    int fd;

    rk_cmd_status(c, "OK", "SET rk:w:k v1");
    rk_cmd_status(c, "OK", "WATCH rk:w:k");
    rk_cmd_status(other, "OK", "SET rk:w:k v2");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET rk:w:k mine");
    exec_aborted(c);
    rk_cmd_bulk(c, "v2", "GET rk:w:k");
    /* The watch is gone after EXEC: the next transaction runs. */
    multi_get_runs(c, "rk:w:k", "v2");

    /* The same on the wire: *-1. */
    fd = rk_raw_connect(srv);
    rk_raw_send_str(fd, "WATCH rk:w:k\r\n");
    rk_raw_expect(fd, "+OK\r\n", 5000);
    rk_cmd_status(other, "OK", "SET rk:w:k v3");
    rk_raw_send_str(fd, "MULTI\r\nGET rk:w:k\r\nEXEC\r\n");
    rk_raw_expect(fd, "+OK\r\n+QUEUED\r\n*-1\r\n", 5000);
    close(fd);
    redisFree(other);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(watch_other_changes)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *other = rk_connect(srv);

    /* A missing key that gets created. */
    rk_cmd_status(c, "OK", "WATCH rk:w:new");
    rk_cmd_status(other, "OK", "SET rk:w:new x");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "PING");
    exec_aborted(c);

    /* A key that gets deleted. */
    rk_cmd_status(c, "OK", "WATCH rk:w:new");
    rk_cmd_int(other, 1, "DEL rk:w:new");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "PING");
    exec_aborted(c);

    /* A TTL change is a modification too. */
    rk_cmd_status(c, "OK", "SET rk:w:ttl x");
    rk_cmd_status(c, "OK", "WATCH rk:w:ttl");
    rk_cmd_int(other, 1, "EXPIRE rk:w:ttl 100");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "PING");
    exec_aborted(c);

    /* One of several watched keys. */
    rk_cmd_status(c, "OK", "WATCH rk:w:a rk:w:b rk:w:c");
    rk_cmd_int(other, 1, "INCR rk:w:c");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "PING");
    exec_aborted(c);
    redisFree(other);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(watch_unmodified_key_executes)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *other = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "OK", "SET rk:w:k v1");
    rk_cmd_status(c, "OK", "WATCH rk:w:k rk:w:missing");
    /* Reads and writes of other keys do not count. */
    rk_cmd_bulk(other, "v1", "GET rk:w:k");
    rk_cmd_status(other, "OK", "SET rk:w:unrelated x");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET rk:w:k v2");
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 1);
    rk_assert_status(r->element[0], "OK");
    freeReplyObject(r);
    rk_cmd_bulk(other, "v2", "GET rk:w:k");
    redisFree(other);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(unwatch_and_discard_forget_keys)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *other = rk_connect(srv);

    rk_cmd_status(c, "OK", "WATCH rk:w:k");
    rk_cmd_status(c, "OK", "UNWATCH");
    rk_cmd_status(other, "OK", "SET rk:w:k v1");
    multi_get_runs(c, "rk:w:k", "v1");

    rk_cmd_status(c, "OK", "WATCH rk:w:k");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "OK", "DISCARD");
    rk_cmd_status(other, "OK", "SET rk:w:k v2");
    multi_get_runs(c, "rk:w:k", "v2");
    redisFree(other);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(watch_then_own_write_aborts)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_status(c, "OK", "SET rk:w:k v1");
    rk_cmd_status(c, "OK", "WATCH rk:w:k");
    rk_cmd_status(c, "OK", "SET rk:w:k v2");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "GET rk:w:k");
    exec_aborted(c);
    rk_cmd_bulk(c, "v2", "GET rk:w:k");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(quit_inside_multi)
{
    struct rk_server *srv = rk_server_start(NULL);
    int fd = rk_raw_connect(srv);
    redisContext *c;

    rk_raw_send_str(fd, "MULTI\r\nSET {rk:m}:q 1\r\nQUIT\r\n");
    rk_raw_expect(fd, "+OK\r\n+QUEUED\r\n+OK\r\n", 5000);
    ck_assert_int_eq(rk_raw_wait_closed(fd, 5000), 1);
    close(fd);
    c = rk_connect(srv);
    rk_cmd_nil(c, "GET {rk:m}:q");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/* Append a command, failing the test on a formatting error. */
static void
append(redisContext *c, const char *cmd)
{
    ck_assert_int_eq(redisAppendCommand(c, cmd), REDIS_OK);
}

START_TEST(pipelined_transaction_as_redis_py)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *other = rk_connect(srv);
    redisReply *r;
    int i;

    /*
     * redis-py's pipeline(transaction=True).execute() writes MULTI, the
     * commands and EXEC in one go, then reads every reply.
     */
    append(c, "MULTI");
    append(c, "SET {rk:py}:a 1");
    append(c, "INCRBY {rk:py}:a 41");
    append(c, "GET {rk:py}:a");
    append(c, "GET {rk:py}:missing");
    append(c, "EXEC");
    r = rk_get_reply(c);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    for (i = 0; i < 4; i++) {
        r = rk_get_reply(c);
        rk_assert_status(r, "QUEUED");
        freeReplyObject(r);
    }
    r = rk_get_reply(c);
    rk_assert_array(r, 4);
    rk_assert_status(r->element[0], "OK");
    rk_assert_int(r->element[1], 42);
    rk_assert_bulk(r->element[2], "42");
    rk_assert_nil(r->element[3]);
    freeReplyObject(r);

    /* With WATCH (sent on its own first), as in Redis's optimistic loop. */
    rk_cmd_status(c, "OK", "WATCH {rk:py}:a");
    rk_cmd_bulk(c, "42", "GET {rk:py}:a");
    append(c, "MULTI");
    append(c, "SET {rk:py}:a 43");
    append(c, "EXEC");
    r = rk_get_reply(c);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_status(r, "QUEUED");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_array(r, 1);
    rk_assert_status(r->element[0], "OK");
    freeReplyObject(r);

    /* Same, with a conflicting write: EXEC gives nil. */
    rk_cmd_status(c, "OK", "WATCH {rk:py}:a");
    rk_cmd_bulk(c, "43", "GET {rk:py}:a");
    rk_cmd_status(other, "OK", "SET {rk:py}:a 0");
    append(c, "MULTI");
    append(c, "SET {rk:py}:a 44");
    append(c, "EXEC");
    r = rk_get_reply(c);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_status(r, "QUEUED");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_nil(r);
    freeReplyObject(r);
    rk_cmd_bulk(c, "0", "GET {rk:py}:a");

    /* A queueing error inside the pipeline: EXECABORT, in order. */
    append(c, "MULTI");
    append(c, "SET {rk:py}:b 1");
    append(c, "GET");
    append(c, "EXEC");
    r = rk_get_reply(c);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_status(r, "QUEUED");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_error(r, "ERR wrong number of arguments for 'get' command");
    freeReplyObject(r);
    r = rk_get_reply(c);
    rk_assert_error(r, "EXECABORT Transaction discarded because of previous "
                    "errors.");
    freeReplyObject(r);
    rk_cmd_nil(c, "GET {rk:py}:b");
    redisFree(other);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

static Suite *
multi_suite(void)
{
    Suite *s = suite_create("multi");
    TCase *tc = rk_tcase(s, "multi", 60);

    tcase_add_test(tc, multi_exec_runs_queued_commands);
    tcase_add_test(tc, multi_exec_raw_bytes);
    tcase_add_test(tc, error_inside_exec_stays_per_command);
    tcase_add_test(tc, flushall_and_keys_inside_exec);
    tcase_add_test(tc, queueing_error_aborts_exec);
    tcase_add_test(tc, nested_multi_and_watch_inside_multi);
    tcase_add_test(tc, exec_and_discard_without_multi);
    tcase_add_test(tc, discard_drops_queue);
    tcase_add_test(tc, watch_modified_by_other_aborts);
    tcase_add_test(tc, watch_other_changes);
    tcase_add_test(tc, watch_unmodified_key_executes);
    tcase_add_test(tc, unwatch_and_discard_forget_keys);
    tcase_add_test(tc, watch_then_own_write_aborts);
    tcase_add_test(tc, quit_inside_multi);
    tcase_add_test(tc, pipelined_transaction_as_redis_py);
    return s;
}

int
main(void)
{
    return rk_run_suite(multi_suite());
}
