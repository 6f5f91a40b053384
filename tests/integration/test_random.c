/*
 * tests/integration/test_random.c - random pipelines of valid-looking
 * commands from several clients at once, transactions and keyspace-wide
 * commands included: every command gets a reply in order, no client
 * waits forever, and the server still answers afterwards.
 *
 * Written after FLUSHALL inside EXEC deadlocked a worker: nothing checked
 * the combinations a real client mix produces. The seed is fixed, so a
 * failure repeats; RINGKV_RANDOM_SEED picks another.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CLIENTS 4
#define ROUNDS 200
#define PIPELINE_MAX 24

static const char *const commands[] = {
    "SET", "GET", "INCR", "DEL", "EXPIRE", "PEXPIRE", "TTL", "MULTI", "EXEC",
    "DISCARD", "WATCH", "UNWATCH", "FLUSHALL", "FLUSHDB", "KEYS", "SCAN",
    "MSET", "MGET", "APPEND", "GETEX", "GETDEL", "RENAME", "RENAMENX",
    "DBSIZE", "SETRANGE", "GETRANGE", "RANDOMKEY", "EXISTS", "PERSIST",
    "INCRBYFLOAT", "DECRBY", "SETNX", "GETSET", "STRLEN", "TYPE", "PING",
    "CLIENT", "INFO", "CONFIG", "SELECT", "ECHO", "TOUCH", "UNLINK",
};

static const char *const words[] = {
    "a", "b", "{t}c", "{t}d", "0", "1", "-1", "10", "3.5", "*", "PX",
    "EX", "NX", "XX", "GT", "KEEPTTL", "GET", "ID", "LIST", "COUNT",
    "MATCH", "PERSIST", "", "9223372036854775807", "GETNAME", "keyspace",
    "SYNC", "ASYNC",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Each command's arity, asked of the server (COMMAND INFO), so most random
 * commands pass the arity check and run instead of aborting every
 * transaction they land in. */
static long long arities[NELEM(commands)];

static void
load_arities(redisContext *c)
{
    for (size_t i = 0; i < NELEM(commands); i++) {
        redisReply *r = redisCommand(c, "COMMAND INFO %s", commands[i]);
        ck_assert(r != NULL && r->type == REDIS_REPLY_ARRAY &&
                  r->elements == 1);
        ck_assert(r->element[0]->type == REDIS_REPLY_ARRAY);
        arities[i] = r->element[0]->element[1]->integer;
        freeReplyObject(r);
    }
}

/* One random command into c's output buffer. */
static void
append_random(redisContext *c, unsigned *seed)
{
    const char *argv[8];
    size_t argvlen[8];
    size_t cmd = (size_t)rand_r(seed) % NELEM(commands);
    long long a = arities[cmd];
    int argc;

    if (rand_r(seed) % 16 == 0) {
        argc = 1 + rand_r(seed) % 5;        /* now and then: any arity */
    } else if (a > 0) {
        argc = (int)a;
    } else {
        argc = (int)-a + rand_r(seed) % 3;
    }
    if (argc > 8) {
        argc = 8;
    }
    argv[0] = commands[cmd];
    for (int i = 1; i < argc; i++) {
        argv[i] = words[(size_t)rand_r(seed) % NELEM(words)];
    }
    for (int i = 0; i < argc; i++) {
        argvlen[i] = strlen(argv[i]);
    }
    ck_assert_int_eq(redisAppendCommandArgv(c, argc, argv, argvlen),
                     REDIS_OK);
}

START_TEST(random_pipelines_from_several_clients)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c[CLIENTS];
    struct timeval tv = {10, 0};
    const char *env = getenv("RINGKV_RANDOM_SEED");
    unsigned seed = env != NULL ? (unsigned)strtoul(env, NULL, 10) : 42;
    int sent[CLIENTS];

    for (int k = 0; k < CLIENTS; k++) {
        c[k] = rk_connect(srv);
        redisSetTimeout(c[k], tv);
    }
    load_arities(c[0]);
    for (int round = 0; round < ROUNDS; round++) {
        /* Every client sends a pipeline before any reply is read, so the
         * server interleaves them. */
        for (int k = 0; k < CLIENTS; k++) {
            sent[k] = 1 + rand_r(&seed) % PIPELINE_MAX;
            for (int i = 0; i < sent[k]; i++) {
                append_random(c[k], &seed);
            }
        }
        for (int k = 0; k < CLIENTS; k++) {
            for (int i = 0; i < sent[k]; i++) {
                redisReply *r = NULL;
                int rc = redisGetReply(c[k], (void **)&r);
                ck_assert_msg(rc == REDIS_OK && r != NULL,
                              "seed %u round %d client %d reply %d: %s",
                              seed, round, k, i,
                              c[k]->err ? c[k]->errstr : "no reply");
                freeReplyObject(r);
            }
        }
    }
    for (int k = 0; k < CLIENTS; k++) {
        /* Leave any transaction a random EXEC did not close. */
        redisReply *r = redisCommand(c[k], "DISCARD");
        freeReplyObject(r);
        rk_cmd_status(c[k], "PONG", "PING");
        redisFree(c[k]);
    }
    c[0] = rk_connect(srv);
    rk_cmd_status(c[0], "PONG", "PING");
    redisFree(c[0]);
    rk_server_stop(srv);
}
END_TEST

static Suite *
random_suite(void)
{
    Suite *s = suite_create("random");
    TCase *tc = rk_tcase(s, "random", 120);

    tcase_add_test(tc, random_pipelines_from_several_clients);
    return s;
}

int
main(void)
{
    return rk_run_suite(random_suite());
}
