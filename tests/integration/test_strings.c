/*
 * tests/integration/test_strings.c - the string commands against a spawned
 * ringkv-server (or, with RINGKV_TEST_REDIS_PORT, against a real Redis to
 * prove the expectations): GET/SET and every SET option and error, SETNX,
 * SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET/MSET/MSETNX, APPEND, STRLEN,
 * the INCR family, INCRBYFLOAT, GETRANGE, SETRANGE, TTL behaviour and
 * binary-safe keys and values. Replies are compared byte for byte with
 * what Redis 7.0 answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "harness.h"

static struct rk_server *srv;
static redisContext *c;

static void
setup(void)
{
    srv = rk_server_start(NULL);
    c = rk_connect(srv);
}

static void
teardown(void)
{
    if (c != NULL) {
        redisFree(c);
        c = NULL;
    }
    rk_server_stop(srv);
    srv = NULL;
}

/* Assert that GET key (binary) returns exactly the len bytes of v. */
static void
assert_get_bin(const char *k, size_t klen, const char *v, size_t vlen)
{
    redisReply *r = rk_cmd(c, "GET %b", k, klen);

    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_uint_eq((size_t)r->len, vlen);
    ck_assert(vlen == 0 || memcmp(r->str, v, vlen) == 0);
    freeReplyObject(r);
}

/*
 * Run a command given as one line of space-separated words (no format
 * directives: the words may hold '%').
 */
static redisReply *
words_cmd(const char *line)
{
    char *copy = strdup(line);
    const char *argv[64];
    int argc = 0;
    redisReply *r;

    ck_assert_ptr_nonnull(copy);
    for (char *w = strtok(copy, " "); w != NULL && argc < 64;
         w = strtok(NULL, " ")) {
        argv[argc++] = w;
    }
    r = redisCommandArgv(c, argc, argv, NULL);
    ck_assert_msg(r != NULL, "connection lost: %s", c->errstr);
    free(copy);
    return r;
}

/* PTTL of key, asserted to be an integer. */
static long long
pttl(const char *key)
{
    redisReply *r = rk_cmd(c, "PTTL %s", key);
    long long v;

    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

/* Current unix time in ms per the server (TIME). */
static long long
server_ms(void)
{
    redisReply *r = rk_cmd(c, "TIME");
    long long ms;

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    ms = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
    freeReplyObject(r);
    return ms;
}

/* ---------------------------------------------------------------------- */

START_TEST(get_set_basic)
{
    rk_cmd_nil(c, "GET nokey");
    rk_cmd_status(c, "OK", "SET k v1");
    rk_cmd_bulk(c, "v1", "GET k");
    rk_cmd_status(c, "OK", "SET k v2");
    rk_cmd_bulk(c, "v2", "GET k");
    rk_cmd_status(c, "OK", "SET empty %b", "", (size_t)0);
    rk_cmd_bulk(c, "", "GET empty");
    rk_cmd_int(c, 0, "STRLEN empty");
    /* Options are case-insensitive. */
    rk_cmd_status(c, "OK", "SET k v3 xX");
    rk_cmd_bulk(c, "v3", "GET k");
}
END_TEST

START_TEST(binary_safe)
{
    static const char key[] = "bin\0key\r\nwith CRLF";
    static const char val[] = "\0\r\n$3\r\nxyz\r\n\0";
    size_t klen = sizeof(key) - 1;
    size_t vlen = sizeof(val) - 1;
    size_t big = 1024 * 1024;
    char *mb = malloc(big);
    redisReply *r;

    ck_assert_ptr_nonnull(mb);
    for (size_t i = 0; i < big; i++) {
        mb[i] = (char)(i * 7 + (i >> 9));
    }
    r = rk_cmd(c, "SET %b %b", key, klen, val, vlen);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    assert_get_bin(key, klen, val, vlen);
    /* A key that differs only after the NUL is another key. */
    r = rk_cmd(c, "GET %b", "bin\0kez\r\nwith CRLF", klen);
    rk_assert_nil(r);
    freeReplyObject(r);
    r = rk_cmd(c, "STRLEN %b", key, klen);
    rk_assert_int(r, (long long)vlen);
    freeReplyObject(r);
    r = rk_cmd(c, "APPEND %b %b", key, klen, "\0tail", (size_t)5);
    rk_assert_int(r, (long long)vlen + 5);
    freeReplyObject(r);
    assert_get_bin(key, klen, "\0\r\n$3\r\nxyz\r\n\0\0tail", vlen + 5);
    r = rk_cmd(c, "GETRANGE %b 1 2", key, klen);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->len, 2);
    ck_assert(memcmp(r->str, "\r\n", 2) == 0);
    freeReplyObject(r);

    /* 1 MB value, read back intact, through several commands. */
    r = rk_cmd(c, "SET big %b", mb, big);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    assert_get_bin("big", 3, mb, big);
    rk_cmd_int(c, (long long)big, "STRLEN big");
    r = rk_cmd(c, "GETSET big %b", mb + 1, big - 1);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_uint_eq((size_t)r->len, big);
    ck_assert(memcmp(r->str, mb, big) == 0);
    freeReplyObject(r);
    assert_get_bin("big", 3, mb + 1, big - 1);
    r = rk_cmd(c, "MGET nokey big %b", key, klen);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 3);
    ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_NIL);
    ck_assert_uint_eq((size_t)r->element[1]->len, big - 1);
    ck_assert(memcmp(r->element[1]->str, mb + 1, big - 1) == 0);
    ck_assert_uint_eq((size_t)r->element[2]->len, vlen + 5);
    freeReplyObject(r);
    free(mb);
}
END_TEST

START_TEST(set_syntax_errors)
{
    const char *bad[] = {
        "SET k v NX XX", "SET k v XX NX", "SET k v EX 10 PX 10",
        "SET k v PX 10 EX 10", "SET k v EX 10 EXAT 10", "SET k v PXAT 10 EX 1",
        "SET k v EX 10 KEEPTTL", "SET k v KEEPTTL EX 10",
        "SET k v PX 10 KEEPTTL", "SET k v KEEPTTL PXAT 10", "SET k v EX",
        "SET k v PX", "SET k v EXAT", "SET k v PXAT", "SET k v foo",
        "SET k v PERSIST", "SET k v NXX", "SET k v GETT", "SET k v EX 10 foo",
        NULL,
    };

    for (int i = 0; bad[i] != NULL; i++) {
        redisReply *r = words_cmd(bad[i]);

        rk_assert_error(r, "ERR syntax error");
        freeReplyObject(r);
    }
    rk_cmd_nil(c, "GET k");
    /* A repeated option is fine; a repeated expiry replaces the first. */
    rk_cmd_status(c, "OK", "SET k v NX NX");
    rk_cmd_status(c, "OK", "SET k v XX XX");
    rk_cmd_bulk(c, "v", "SET k v GET GET");
    rk_cmd_status(c, "OK", "SET k v EX 1000 EX 20");
    ck_assert(pttl("k") > 15000 && pttl("k") <= 20000);
    rk_cmd_status(c, "OK", "SET k v KEEPTTL KEEPTTL");
    /* An option ends at a NUL byte, as Redis reads it as a C string. */
    rk_cmd_status(c, "OK", "SET k v %b 100", "ex\0junk", (size_t)7);
    rk_cmd_int(c, 100, "TTL k");
    rk_cmd_status(c, "OK", "SET k v %b", "xx\0", (size_t)3);
    rk_cmd_int(c, -1, "TTL k");
}
END_TEST

START_TEST(set_expire_errors)
{
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v EX 0");
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v EX -1");
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v PX 0");
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v EXAT 0");
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v PXAT -5");
    /* Seconds that overflow when made milliseconds... */
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v EX 9223372036854776");
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v EXAT 9223372036854776");
    /* ...or when now is added. */
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v EX 9223372036854775");
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v PX 9223372036854775807");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SET k v EX abc");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SET k v PX 1.5");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SET k v EX 9223372036854775808");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SET k v EX %s", " 10");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SET k v EX +10");
    /* The syntax is checked before the numbers. */
    rk_cmd_error(c, "ERR syntax error", "SET k v EX abc foo");
    rk_cmd_nil(c, "GET k");
    /* The largest absolute deadlines are fine. */
    rk_cmd_status(c, "OK", "SET k v EXAT 9223372036854775");
    rk_cmd_int(c, 9223372036854775000LL, "PEXPIRETIME k");
    rk_cmd_status(c, "OK", "SET k v PXAT 9223372036854775807");
    rk_cmd_int(c, 9223372036854775807LL, "PEXPIRETIME k");
    rk_cmd_int(c, 9223372036854776LL, "EXPIRETIME k");
}
END_TEST

START_TEST(set_nx_xx_get)
{
    rk_cmd_nil(c, "SET k v XX");
    rk_cmd_int(c, 0, "EXISTS k");
    rk_cmd_status(c, "OK", "SET k v1 NX");
    rk_cmd_nil(c, "SET k v2 NX");
    rk_cmd_bulk(c, "v1", "GET k");
    rk_cmd_status(c, "OK", "SET k v3 XX");
    rk_cmd_bulk(c, "v3", "GET k");
    /* GET answers the old value instead of OK. */
    rk_cmd_bulk(c, "v3", "SET k v4 GET");
    rk_cmd_bulk(c, "v4", "GET k");
    rk_cmd_nil(c, "SET g v GET");
    rk_cmd_bulk(c, "v", "GET g");
    /* NX and GET together are allowed in 7.0: the old value, no write. */
    rk_cmd_bulk(c, "v4", "SET k v5 NX GET");
    rk_cmd_bulk(c, "v4", "GET k");
    rk_cmd_nil(c, "SET n v NX GET");
    rk_cmd_bulk(c, "v", "GET n");
    /* XX GET on a missing key: nil and nothing set. */
    rk_cmd_nil(c, "SET x v XX GET");
    rk_cmd_int(c, 0, "EXISTS x");
    rk_cmd_bulk(c, "v4", "SET k v6 XX GET");
    rk_cmd_bulk(c, "v6", "GET k");
    /* An expiry error comes before GET answers anything. */
    rk_cmd_error(c, "ERR invalid expire time in 'set' command",
                 "SET k v7 GET EX 0");
    rk_cmd_bulk(c, "v6", "GET k");
}
END_TEST

START_TEST(set_ttl_rules)
{
    long long now = server_ms();
    long long t;

    rk_cmd_status(c, "OK", "SET k v EX 100");
    t = pttl("k");
    ck_assert(t > 95000 && t <= 100000);
    rk_cmd_int(c, 100, "TTL k");
    /* A plain SET drops the TTL; KEEPTTL keeps it. */
    rk_cmd_status(c, "OK", "SET k v2");
    rk_cmd_int(c, -1, "TTL k");
    rk_cmd_status(c, "OK", "SET k v PX 50000");
    rk_cmd_status(c, "OK", "SET k v3 KEEPTTL");
    t = pttl("k");
    ck_assert(t > 45000 && t <= 50000);
    rk_cmd_bulk(c, "v3", "GET k");
    rk_cmd_bulk(c, "v3", "SET k v4 XX KEEPTTL GET");
    ck_assert(pttl("k") > 0);
    /* KEEPTTL on a key without TTL, and on a missing key. */
    rk_cmd_status(c, "OK", "SET nottl v KEEPTTL");
    rk_cmd_int(c, -1, "TTL nottl");
    /* Absolute deadlines. */
    rk_cmd_status(c, "OK", "SET a v PXAT %lld", now + 60000);
    rk_cmd_int(c, now + 60000, "PEXPIRETIME a");
    rk_cmd_status(c, "OK", "SET b v EXAT %lld", now / 1000 + 60);
    rk_cmd_int(c, (now / 1000 + 60) * 1000, "PEXPIRETIME b");
    rk_cmd_int(c, now / 1000 + 60, "EXPIRETIME b");
    /* A deadline in the past: OK, and the key is gone. */
    rk_cmd_status(c, "OK", "SET a v PXAT %lld", now - 1000);
    rk_cmd_int(c, 0, "EXISTS a");
    rk_cmd_nil(c, "GET a");
    rk_cmd_status(c, "OK", "SET past v EXAT 1");
    rk_cmd_int(c, -2, "TTL past");
    /* A short PX really expires. */
    rk_cmd_status(c, "OK", "SET short v PX 100");
    rk_cmd_bulk(c, "v", "GET short");
    rk_sleep_ms(250);
    rk_cmd_nil(c, "GET short");
    rk_cmd_int(c, 0, "EXISTS short");
    rk_cmd_int(c, -2, "PTTL short");
    /* NX treats an expired key as missing. */
    rk_cmd_status(c, "OK", "SET short v2 NX");
    rk_cmd_bulk(c, "v2", "GET short");
    rk_cmd_int(c, -1, "TTL short");
}
END_TEST

START_TEST(setnx_setex_psetex)
{
    long long t;

    rk_cmd_int(c, 1, "SETNX k v1");
    rk_cmd_int(c, 0, "SETNX k v2");
    rk_cmd_bulk(c, "v1", "GET k");

    rk_cmd_status(c, "OK", "SETEX k 100 v3");
    rk_cmd_bulk(c, "v3", "GET k");
    rk_cmd_int(c, 100, "TTL k");
    rk_cmd_status(c, "OK", "PSETEX k 100000 v4");
    t = pttl("k");
    ck_assert(t > 95000 && t <= 100000);
    rk_cmd_bulk(c, "v4", "GET k");

    rk_cmd_error(c, "ERR invalid expire time in 'setex' command",
                 "SETEX k 0 v");
    rk_cmd_error(c, "ERR invalid expire time in 'setex' command",
                 "SETEX k -10 v");
    rk_cmd_error(c, "ERR invalid expire time in 'setex' command",
                 "SETEX k 9223372036854775 v");
    rk_cmd_error(c, "ERR invalid expire time in 'psetex' command",
                 "PSETEX k 0 v");
    rk_cmd_error(c, "ERR invalid expire time in 'psetex' command",
                 "PSETEX k -1 v");
    rk_cmd_error(c, "ERR invalid expire time in 'psetex' command",
                 "PSETEX k 9223372036854775807 v");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SETEX k ten v");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "PSETEX k 1e3 v");
    rk_cmd_bulk(c, "v4", "GET k");
    rk_cmd_error(c, "ERR wrong number of arguments for 'setex' command",
                 "SETEX k 10");
    rk_cmd_error(c, "ERR wrong number of arguments for 'setnx' command",
                 "SETNX k");

    rk_cmd_status(c, "OK", "PSETEX short 80 v");
    rk_cmd_bulk(c, "v", "GET short");
    rk_sleep_ms(250);
    rk_cmd_nil(c, "GET short");
    rk_cmd_int(c, 1, "SETNX short again");
}
END_TEST

START_TEST(getset_getdel)
{
    rk_cmd_nil(c, "GETSET k v1");
    rk_cmd_bulk(c, "v1", "GET k");
    rk_cmd_status(c, "OK", "SET k v2 EX 100");
    rk_cmd_bulk(c, "v2", "GETSET k v3");
    rk_cmd_bulk(c, "v3", "GET k");
    /* GETSET drops the TTL. */
    rk_cmd_int(c, -1, "TTL k");

    rk_cmd_bulk(c, "v3", "GETDEL k");
    rk_cmd_int(c, 0, "EXISTS k");
    rk_cmd_nil(c, "GETDEL k");
    rk_cmd_nil(c, "GETDEL never");
    rk_cmd_status(c, "OK", "SET e v PX 60");
    rk_sleep_ms(200);
    rk_cmd_nil(c, "GETDEL e");
    rk_cmd_nil(c, "GETSET e v");
    rk_cmd_int(c, -1, "TTL e");
}
END_TEST

START_TEST(getex_all)
{
    long long now = server_ms();
    long long t;

    rk_cmd_nil(c, "GETEX nokey");
    rk_cmd_status(c, "OK", "SET k hello");
    rk_cmd_bulk(c, "hello", "GETEX k");
    rk_cmd_int(c, -1, "TTL k");
    rk_cmd_bulk(c, "hello", "GETEX k EX 100");
    rk_cmd_int(c, 100, "TTL k");
    rk_cmd_bulk(c, "hello", "GETEX k PX 50000");
    t = pttl("k");
    ck_assert(t > 45000 && t <= 50000);
    rk_cmd_bulk(c, "hello", "GETEX k PXAT %lld", now + 70000);
    rk_cmd_int(c, now + 70000, "PEXPIRETIME k");
    rk_cmd_bulk(c, "hello", "GETEX k EXAT %lld", now / 1000 + 80);
    rk_cmd_int(c, now / 1000 + 80, "EXPIRETIME k");
    /* No option leaves the TTL alone. */
    rk_cmd_bulk(c, "hello", "GETEX k");
    rk_cmd_int(c, now / 1000 + 80, "EXPIRETIME k");
    rk_cmd_bulk(c, "hello", "GETEX k PERSIST");
    rk_cmd_int(c, -1, "TTL k");
    rk_cmd_bulk(c, "hello", "GETEX k persist");
    rk_cmd_int(c, -1, "TTL k");
    /* A repeated expiry: the last one counts. */
    rk_cmd_bulk(c, "hello", "GETEX k EX 10 EX 20");
    rk_cmd_int(c, 20, "TTL k");

    /* Syntax: SET-only options and conflicts. */
    rk_cmd_error(c, "ERR syntax error", "GETEX k KEEPTTL");
    rk_cmd_error(c, "ERR syntax error", "GETEX k NX");
    rk_cmd_error(c, "ERR syntax error", "GETEX k XX");
    rk_cmd_error(c, "ERR syntax error", "GETEX k GET");
    rk_cmd_error(c, "ERR syntax error", "GETEX k PX 100 PERSIST");
    rk_cmd_error(c, "ERR syntax error", "GETEX k PERSIST EX 100");
    rk_cmd_error(c, "ERR syntax error", "GETEX k EX 100 PXAT 100");
    rk_cmd_error(c, "ERR syntax error", "GETEX k EX");
    rk_cmd_error(c, "ERR syntax error", "GETEX nokey foo");
    /* The expiry is checked only when the key exists. */
    rk_cmd_nil(c, "GETEX nokey EX -1");
    rk_cmd_nil(c, "GETEX nokey EX abc");
    rk_cmd_error(c, "ERR invalid expire time in 'getex' command",
                 "GETEX k EX -1");
    rk_cmd_error(c, "ERR invalid expire time in 'getex' command",
                 "GETEX k PX 0");
    rk_cmd_error(c, "ERR invalid expire time in 'getex' command",
                 "GETEX k EX 9223372036854775");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "GETEX k EX abc");
    rk_cmd_int(c, 20, "TTL k");

    /* An absolute deadline in the past: the value, then the key is gone. */
    rk_cmd_bulk(c, "hello", "GETEX k EXAT 1");
    rk_cmd_int(c, 0, "EXISTS k");
    rk_cmd_status(c, "OK", "SET k hello");
    rk_cmd_bulk(c, "hello", "GETEX k PXAT %lld", now - 10);
    rk_cmd_int(c, 0, "EXISTS k");
    /* A short PX really expires. */
    rk_cmd_status(c, "OK", "SET k hello");
    rk_cmd_bulk(c, "hello", "GETEX k PX 80");
    rk_sleep_ms(250);
    rk_cmd_nil(c, "GETEX k");
}
END_TEST

START_TEST(mget_mset_msetnx)
{
    redisReply *r;

    rk_cmd_status(c, "OK", "MSET a 1 b 2 c 3");
    r = rk_cmd(c, "MGET a nokey c b a");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 5);
    rk_assert_bulk(r->element[0], "1");
    rk_assert_nil(r->element[1]);
    rk_assert_bulk(r->element[2], "3");
    rk_assert_bulk(r->element[3], "2");
    rk_assert_bulk(r->element[4], "1");
    freeReplyObject(r);
    rk_cmd_error(c, "ERR wrong number of arguments for 'mset' command",
                 "MSET a 1 b");
    rk_cmd_error(c, "ERR wrong number of arguments for 'mset' command",
                 "MSET a");
    rk_cmd_error(c, "ERR wrong number of arguments for 'msetnx' command",
                 "MSETNX a 1 b");
    rk_cmd_error(c, "ERR wrong number of arguments for 'mget' command",
                 "MGET");
    /* The same key twice: the last value wins. */
    rk_cmd_status(c, "OK", "MSET d x d y");
    rk_cmd_bulk(c, "y", "GET d");
    /* MSET drops TTLs. */
    rk_cmd_status(c, "OK", "SET t v EX 100");
    rk_cmd_status(c, "OK", "MSET t w u z");
    rk_cmd_int(c, -1, "TTL t");

    /* MSETNX: all or nothing. */
    rk_cmd_int(c, 0, "MSETNX new1 x a y");
    rk_cmd_int(c, 0, "EXISTS new1");
    rk_cmd_bulk(c, "1", "GET a");
    rk_cmd_int(c, 1, "MSETNX new1 x new2 y");
    rk_cmd_bulk(c, "x", "GET new1");
    rk_cmd_bulk(c, "y", "GET new2");
    rk_cmd_int(c, 1, "MSETNX dup 1 dup 2");
    rk_cmd_bulk(c, "2", "GET dup");
    rk_cmd_int(c, 0, "MSETNX dup 3");
    /* An expired key counts as missing for MSETNX. */
    rk_cmd_status(c, "OK", "SET gone v PX 50");
    rk_sleep_ms(200);
    rk_cmd_int(c, 1, "MSETNX gone w");
    rk_cmd_bulk(c, "w", "GET gone");
    rk_cmd_int(c, -1, "TTL gone");
}
END_TEST

START_TEST(many_keys)
{
    /* More keys than the handlers keep on their stack. */
    enum { N = 100 };
    char names[N + 1][16];
    char vals[N][16];
    const char *argv[2 * N + 3];
    redisReply *r;

    for (int i = 0; i <= N; i++) {
        snprintf(names[i], sizeof(names[i]), "mk%d", i);
        if (i < N) {
            snprintf(vals[i], sizeof(vals[i]), "v%d", i);
        }
    }
    argv[0] = "MSET";
    for (int i = 0; i < N; i++) {
        argv[1 + 2 * i] = names[i];
        argv[2 + 2 * i] = vals[i];
    }
    r = redisCommandArgv(c, 2 * N + 1, argv, NULL);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    argv[0] = "MGET";
    for (int i = 0; i <= N; i++) {
        argv[1 + i] = names[i];
    }
    r = redisCommandArgv(c, N + 2, argv, NULL);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, N + 1);
    for (int i = 0; i < N; i++) {
        rk_assert_bulk(r->element[i], vals[i]);
    }
    rk_assert_nil(r->element[N]);
    freeReplyObject(r);
    argv[0] = "MSETNX";
    argv[1] = names[N];
    argv[2] = "x";
    for (int i = 0; i < N; i++) {
        argv[3 + 2 * i] = names[i];
        argv[4 + 2 * i] = vals[i];
    }
    r = redisCommandArgv(c, 2 * N + 3, argv, NULL);
    rk_assert_int(r, 0);
    freeReplyObject(r);
    rk_cmd_int(c, 0, "EXISTS mk100");
}
END_TEST

START_TEST(append_strlen)
{
    long long t;

    rk_cmd_int(c, 0, "STRLEN k");
    rk_cmd_int(c, 5, "APPEND k hello");
    rk_cmd_int(c, 11, "APPEND k %s", " world");
    rk_cmd_bulk(c, "hello world", "GET k");
    rk_cmd_int(c, 11, "STRLEN k");
    rk_cmd_int(c, 11, "APPEND k %b", "", (size_t)0);
    rk_cmd_int(c, 0, "APPEND e %b", "", (size_t)0);
    rk_cmd_int(c, 1, "EXISTS e");
    rk_cmd_bulk(c, "", "GET e");
    /* APPEND keeps the TTL. */
    rk_cmd_status(c, "OK", "SET t ab PX 60000");
    rk_cmd_int(c, 4, "APPEND t cd");
    t = pttl("t");
    ck_assert(t > 50000 && t <= 60000);
    rk_cmd_bulk(c, "abcd", "GET t");
    /* An integer value appends as text. */
    rk_cmd_status(c, "OK", "SET n 10");
    rk_cmd_int(c, 3, "APPEND n 0");
    rk_cmd_int(c, 101, "INCR n");
}
END_TEST

START_TEST(incr_decr)
{
    long long t;

    rk_cmd_int(c, 1, "INCR n");
    rk_cmd_int(c, 2, "INCR n");
    rk_cmd_int(c, 1, "DECR n");
    rk_cmd_int(c, 11, "INCRBY n 10");
    rk_cmd_int(c, -4, "DECRBY n 15");
    rk_cmd_int(c, 6, "DECRBY n -10");
    rk_cmd_bulk(c, "6", "GET n");
    rk_cmd_int(c, -1, "DECR m");
    rk_cmd_int(c, -5, "DECRBY d 5");
    rk_cmd_int(c, 7, "INCRBY i 7");
    rk_cmd_int(c, 0, "INCRBY i -7");
    rk_cmd_bulk(c, "0", "GET i");

    /* Limits. */
    rk_cmd_status(c, "OK", "SET big 9223372036854775806");
    rk_cmd_int(c, 9223372036854775807LL, "INCR big");
    rk_cmd_error(c, "ERR increment or decrement would overflow", "INCR big");
    rk_cmd_error(c, "ERR increment or decrement would overflow",
                 "INCRBY big 1");
    rk_cmd_bulk(c, "9223372036854775807", "GET big");
    rk_cmd_status(c, "OK", "SET small -9223372036854775807");
    rk_cmd_int(c, (-9223372036854775807LL - 1), "DECR small");
    rk_cmd_bulk(c, "-9223372036854775808", "GET small");
    rk_cmd_error(c, "ERR increment or decrement would overflow",
                 "DECR small");
    rk_cmd_error(c, "ERR increment or decrement would overflow",
                 "DECRBY small 1");
    rk_cmd_error(c, "ERR increment or decrement would overflow",
                 "INCRBY small -1");
    rk_cmd_int(c, -1, "INCRBY small 9223372036854775807");
    rk_cmd_error(c, "ERR decrement would overflow",
                 "DECRBY small -9223372036854775808");
    rk_cmd_int(c, -9223372036854775807LL - 1,
               "INCRBY z -9223372036854775808");

    /* Values and increments that are not integers. */
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "INCRBY n abc");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "INCRBY n +10");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "INCRBY n 1.5");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "DECRBY n 9223372036854775808");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "INCRBY n %b", "", (size_t)0);
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "INCRBY nokey x");
    rk_cmd_int(c, 0, "EXISTS nokey");
    {
        const char *bad[] = {"abc", " 1", "1 ", "1.0", "01", "+1", "-0",
                             "", "9223372036854775808", "1e3", NULL};

        for (int i = 0; bad[i] != NULL; i++) {
            rk_cmd_status(c, "OK", "SET s %s", bad[i]);
            rk_cmd_error(c, "ERR value is not an integer or out of range",
                         "INCR s");
            rk_cmd_error(c, "ERR value is not an integer or out of range",
                         "DECRBY s 1");
            rk_cmd_bulk(c, bad[i], "GET s");
        }
    }
    rk_cmd_status(c, "OK", "SET s %b", "1\0", (size_t)2);
    rk_cmd_error(c, "ERR value is not an integer or out of range", "INCR s");

    /* INCR keeps the TTL. */
    rk_cmd_status(c, "OK", "SET t 5 PX 60000");
    rk_cmd_int(c, 6, "INCR t");
    rk_cmd_int(c, 4, "DECRBY t 2");
    t = pttl("t");
    ck_assert(t > 50000 && t <= 60000);
    /* An expired counter starts again from 0 without TTL. */
    rk_cmd_status(c, "OK", "SET e 100 PX 50");
    rk_sleep_ms(200);
    rk_cmd_int(c, 1, "INCR e");
    rk_cmd_int(c, -1, "TTL e");
}
END_TEST

START_TEST(incrbyfloat)
{
    long long t;
    redisReply *r;

    rk_cmd_bulk(c, "10.5", "INCRBYFLOAT f 10.5");
    rk_cmd_bulk(c, "10.75", "INCRBYFLOAT f 0.25");
    rk_cmd_bulk(c, "5010.75", "INCRBYFLOAT f 5.0e3");
    rk_cmd_bulk(c, "5000", "INCRBYFLOAT f -10.75");
    /* Long double arithmetic, printed with %.17Lf and trimmed. */
    rk_cmd_bulk(c, "10.5", "INCRBYFLOAT d 10.50");
    rk_cmd_bulk(c, "10.6", "INCRBYFLOAT d 0.1");
    rk_cmd_bulk(c, "5010.60000000000000009", "INCRBYFLOAT d 5e3");
    rk_cmd_bulk(c, "5000", "GET f");
    rk_cmd_bulk(c, "300", "INCRBYFLOAT g 3.0e2");
    rk_cmd_bulk(c, "0", "INCRBYFLOAT g -300");
    rk_cmd_bulk(c, "-1.25", "INCRBYFLOAT g -1.25");
    rk_cmd_status(c, "OK", "SET i 10");
    rk_cmd_bulk(c, "10.5", "INCRBYFLOAT i .5");
    rk_cmd_status(c, "OK", "SET i 1.5");
    rk_cmd_int(c, 0, "EXISTS nope");
    rk_cmd_bulk(c, "3", "INCRBYFLOAT i 1.5");
    rk_cmd_int(c, 4, "INCR i");
    /* Huge but finite: no exponent in the text. */
    r = rk_cmd(c, "INCRBYFLOAT h 1e20");
    rk_assert_bulk(r, "100000000000000000000");
    freeReplyObject(r);

    rk_cmd_error(c, "ERR value is not a valid float", "INCRBYFLOAT f abc");
    rk_cmd_error(c, "ERR value is not a valid float",
                 "INCRBYFLOAT f %s", " 1");
    rk_cmd_error(c, "ERR value is not a valid float",
                 "INCRBYFLOAT f %b", "", (size_t)0);
    rk_cmd_error(c, "ERR value is not a valid float", "INCRBYFLOAT f nan");
    rk_cmd_error(c, "ERR increment would produce NaN or Infinity",
                 "INCRBYFLOAT f inf");
    rk_cmd_error(c, "ERR increment would produce NaN or Infinity",
                 "INCRBYFLOAT f -inf");
    rk_cmd_status(c, "OK", "SET s hello");
    rk_cmd_error(c, "ERR value is not a valid float", "INCRBYFLOAT s 1");
    rk_cmd_error(c, "ERR value is not a valid float", "INCRBYFLOAT s x");
    rk_cmd_bulk(c, "5000", "GET f");
    rk_cmd_int(c, 0, "EXISTS nokey");
    rk_cmd_error(c, "ERR value is not a valid float",
                 "INCRBYFLOAT nokey x");
    rk_cmd_int(c, 0, "EXISTS nokey");

    /* INCRBYFLOAT keeps the TTL. */
    rk_cmd_status(c, "OK", "SET t 1 PX 60000");
    rk_cmd_bulk(c, "1.5", "INCRBYFLOAT t 0.5");
    t = pttl("t");
    ck_assert(t > 50000 && t <= 60000);
}
END_TEST

START_TEST(getrange)
{
    rk_cmd_status(c, "OK", "SET k hello");
    rk_cmd_bulk(c, "hello", "GETRANGE k 0 -1");
    rk_cmd_bulk(c, "hel", "GETRANGE k 0 2");
    rk_cmd_bulk(c, "lo", "GETRANGE k 3 100");
    rk_cmd_bulk(c, "lo", "GETRANGE k -2 -1");
    rk_cmd_bulk(c, "hello", "GETRANGE k -100 -1");
    rk_cmd_bulk(c, "hello", "GETRANGE k -100 100");
    rk_cmd_bulk(c, "h", "GETRANGE k -100 0");
    rk_cmd_bulk(c, "o", "GETRANGE k -1 -1");
    rk_cmd_bulk(c, "", "GETRANGE k -1 -5");
    rk_cmd_bulk(c, "", "GETRANGE k 5 5");
    rk_cmd_bulk(c, "", "GETRANGE k 2 1");
    rk_cmd_bulk(c, "", "GETRANGE k 100 200");
    rk_cmd_bulk(c, "ello", "GETRANGE k 1 9223372036854775807");
    rk_cmd_bulk(c, "", "GETRANGE k 9223372036854775807 1");
    rk_cmd_bulk(c, "h", "GETRANGE k -9223372036854775808 0");
    rk_cmd_bulk(c, "", "GETRANGE nokey 0 -1");
    rk_cmd_status(c, "OK", "SET e %b", "", (size_t)0);
    rk_cmd_bulk(c, "", "GETRANGE e 0 -1");
    rk_cmd_status(c, "OK", "SET n 12345");
    rk_cmd_bulk(c, "234", "GETRANGE n 1 3");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "GETRANGE k a 1");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "GETRANGE k 0 99999999999999999999");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "GETRANGE nokey 0 x");
}
END_TEST

START_TEST(setrange)
{
    redisReply *r;
    long long t;

    rk_cmd_status(c, "OK", "SET k hello");
    rk_cmd_int(c, 5, "SETRANGE k 1 EL");
    rk_cmd_bulk(c, "hELlo", "GET k");
    rk_cmd_int(c, 7, "SETRANGE k 5 !!");
    rk_cmd_bulk(c, "hELlo!!", "GET k");
    rk_cmd_int(c, 7, "SETRANGE k 0 %b", "", (size_t)0);
    /* Padding with zero bytes, on a new key and past the end. */
    rk_cmd_int(c, 5, "SETRANGE n 3 ab");
    r = rk_cmd(c, "GET n");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->len, 5);
    ck_assert(memcmp(r->str, "\0\0\0ab", 5) == 0);
    freeReplyObject(r);
    rk_cmd_int(c, 9, "SETRANGE n 7 cd");
    r = rk_cmd(c, "GET n");
    ck_assert_int_eq(r->len, 9);
    ck_assert(memcmp(r->str, "\0\0\0ab\0\0cd", 9) == 0);
    freeReplyObject(r);
    /* Nothing to set on a missing key: 0 and no key. */
    rk_cmd_int(c, 0, "SETRANGE m 5 %b", "", (size_t)0);
    rk_cmd_int(c, 0, "EXISTS m");
    rk_cmd_int(c, 0, "SETRANGE m 536870912 %b", "", (size_t)0);

    rk_cmd_error(c, "ERR offset is out of range", "SETRANGE k -1 x");
    rk_cmd_error(c, "ERR offset is out of range", "SETRANGE m -1 %b", "",
                 (size_t)0);
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SETRANGE k abc x");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SETRANGE k 99999999999999999999 x");
    rk_cmd_error(c,
                 "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                 "SETRANGE k 536870912 x");
    rk_cmd_error(c,
                 "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                 "SETRANGE k 536870911 xy");
    rk_cmd_error(c,
                 "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                 "SETRANGE m 9223372036854775807 x");
    rk_cmd_int(c, 0, "EXISTS m");
    /* Setting nothing far away is not an error: the length. */
    rk_cmd_int(c, 7, "SETRANGE k 536870912 %b", "", (size_t)0);
    rk_cmd_bulk(c, "hELlo!!", "GET k");

    /* SETRANGE keeps the TTL. */
    rk_cmd_status(c, "OK", "SET t abc PX 60000");
    rk_cmd_int(c, 3, "SETRANGE t 0 x");
    t = pttl("t");
    ck_assert(t > 50000 && t <= 60000);
    rk_cmd_bulk(c, "xbc", "GET t");
}
END_TEST

START_TEST(pipelined_counter)
{
    /* Many pipelined INCRs from two clients: atomic read-modify-write. */
    redisContext *c2 = rk_connect(srv);

    for (int i = 0; i < 500; i++) {
        redisAppendCommand(c, "INCR ctr");
        redisAppendCommand(c2, "INCRBY ctr 2");
    }
    for (int i = 0; i < 500; i++) {
        redisReply *r = rk_get_reply(c);

        ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
        r = rk_get_reply(c2);
        ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
    }
    rk_cmd_bulk(c, "1500", "GET ctr");
    redisFree(c2);
}
END_TEST

static Suite *
strings_suite(void)
{
    Suite *s = suite_create("strings");
    TCase *tc = rk_tcase(s, "strings", 60);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, get_set_basic);
    tcase_add_test(tc, binary_safe);
    tcase_add_test(tc, set_syntax_errors);
    tcase_add_test(tc, set_expire_errors);
    tcase_add_test(tc, set_nx_xx_get);
    tcase_add_test(tc, set_ttl_rules);
    tcase_add_test(tc, setnx_setex_psetex);
    tcase_add_test(tc, getset_getdel);
    tcase_add_test(tc, getex_all);
    tcase_add_test(tc, mget_mset_msetnx);
    tcase_add_test(tc, many_keys);
    tcase_add_test(tc, append_strlen);
    tcase_add_test(tc, incr_decr);
    tcase_add_test(tc, incrbyfloat);
    tcase_add_test(tc, getrange);
    tcase_add_test(tc, setrange);
    tcase_add_test(tc, pipelined_counter);
    return s;
}

int
main(void)
{
    return rk_run_suite(strings_suite());
}
