/*
 * tests/integration/test_keys.c - the keyspace commands against a spawned
 * ringkv-server (or, with RINGKV_TEST_REDIS_PORT, against a real Redis):
 * DEL, UNLINK, EXISTS, TOUCH, TYPE, the EXPIRE family with NX/XX/GT/LT,
 * TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST, RENAME/RENAMENX, KEYS patterns,
 * SCAN (options, errors, and every key returned while others come and go)
 * and RANDOMKEY.
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

/* An integer reply of a command with one key argument. */
static long long
int_of(const char *cmd, const char *key)
{
    redisReply *r = rk_cmd(c, "%s %s", cmd, key);
    long long v;

    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Assert that an array reply holds exactly the keys of want (a
 * NULL-terminated list), in any order.
 */
static void
assert_key_set(const redisReply *r, const char *const *want)
{
    size_t n = 0;
    const char *got[64];
    const char *exp[64];

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    while (want[n] != NULL) {
        exp[n] = want[n];
        n++;
    }
    ck_assert_msg(r->elements == n, "expected %zu keys, got %zu", n,
                  r->elements);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_STRING);
        got[i] = r->element[i]->str;
    }
    qsort(got, n, sizeof(got[0]), str_cmp);
    qsort(exp, n, sizeof(exp[0]), str_cmp);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(got[i], exp[i]);
    }
}

/* KEYS pattern must answer exactly the NULL-terminated list of keys. */
#define ASSERT_KEYS(pat, ...)                                           \
    do {                                                                \
        const char *const want_[] = {__VA_ARGS__};                      \
        redisReply *r_ = rk_cmd(c, "KEYS %s", pat);                     \
        assert_key_set(r_, want_);                                      \
        freeReplyObject(r_);                                            \
    } while (0)

/* Pipeline SET prefix<i> <i> for i in [from, to). */
static void
set_range(redisContext *cc, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++) {
        redisAppendCommand(cc, "SET %s%d %d", prefix, i, i);
    }
    for (int i = from; i < to; i++) {
        redisReply *r = rk_get_reply(cc);

        rk_assert_status(r, "OK");
        freeReplyObject(r);
    }
}

/* ---------------------------------------------------------------------- */

START_TEST(del_exists_touch)
{
    rk_cmd_status(c, "OK", "MSET a 1 b 2 c 3");
    rk_cmd_int(c, 3, "EXISTS a b c");
    /* EXISTS counts a key as often as it is named. */
    rk_cmd_int(c, 4, "EXISTS a a b nokey a");
    rk_cmd_int(c, 0, "EXISTS nokey");
    rk_cmd_int(c, 4, "TOUCH a b c a nokey");
    rk_cmd_int(c, 0, "TOUCH nokey");
    /* DEL counts a key once, however often it is named. */
    rk_cmd_int(c, 2, "DEL a a b nokey a");
    rk_cmd_int(c, 0, "EXISTS a b");
    rk_cmd_int(c, 0, "DEL a");
    rk_cmd_int(c, 1, "UNLINK c c");
    rk_cmd_int(c, 0, "UNLINK c");
    rk_cmd_nil(c, "GET c");
    rk_cmd_error(c, "ERR wrong number of arguments for 'del' command",
                 "DEL");
    rk_cmd_error(c, "ERR wrong number of arguments for 'exists' command",
                 "EXISTS");
    /* Expired keys neither exist nor count as deleted. */
    rk_cmd_status(c, "OK", "SET e v PX 50");
    rk_cmd_int(c, 1, "EXISTS e");
    rk_sleep_ms(200);
    rk_cmd_int(c, 0, "EXISTS e");
    rk_cmd_int(c, 0, "TOUCH e");
    rk_cmd_int(c, 0, "DEL e");
}
END_TEST

START_TEST(del_many_with_duplicates)
{
    /* Enough keys for the sorting duplicate check, each named twice. */
    enum { N = 40 };
    char names[N][16];
    const char *argv[2 * N + 1];
    redisReply *r;

    set_range(c, "d", 0, N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "d%d", i);
    }
    argv[0] = "DEL";
    for (int i = 0; i < N; i++) {
        argv[1 + 2 * i] = names[i];
        argv[2 + 2 * i] = names[N - 1 - i];
    }
    r = redisCommandArgv(c, 2 * N + 1, argv, NULL);
    rk_assert_int(r, N / 2);
    freeReplyObject(r);
    argv[0] = "EXISTS";
    r = redisCommandArgv(c, 2 * N + 1, argv, NULL);
    rk_assert_int(r, 0);
    freeReplyObject(r);
}
END_TEST

START_TEST(type_cmd)
{
    rk_cmd_status(c, "OK", "SET s v");
    rk_cmd_status(c, "string", "TYPE s");
    rk_cmd_status(c, "none", "TYPE nokey");
    rk_cmd_int(c, 1, "INCR n");
    rk_cmd_status(c, "string", "TYPE n");
    rk_cmd_status(c, "OK", "SET e v PX 50");
    rk_sleep_ms(200);
    rk_cmd_status(c, "none", "TYPE e");
}
END_TEST

START_TEST(expire_and_ttl)
{
    long long now = server_ms();
    long long t;

    rk_cmd_int(c, -2, "TTL nokey");
    rk_cmd_int(c, -2, "PTTL nokey");
    rk_cmd_int(c, -2, "EXPIRETIME nokey");
    rk_cmd_int(c, -2, "PEXPIRETIME nokey");
    rk_cmd_status(c, "OK", "SET k v");
    rk_cmd_int(c, -1, "TTL k");
    rk_cmd_int(c, -1, "PTTL k");
    rk_cmd_int(c, -1, "EXPIRETIME k");
    rk_cmd_int(c, -1, "PEXPIRETIME k");

    rk_cmd_int(c, 1, "EXPIRE k 100");
    rk_cmd_int(c, 100, "TTL k");
    t = int_of("PTTL", "k");
    ck_assert(t > 95000 && t <= 100000);
    t = int_of("PEXPIRETIME", "k");
    ck_assert(t >= now + 100000 && t < now + 105000);
    rk_cmd_int(c, 1, "PEXPIRE k 50000");
    rk_cmd_int(c, 50, "TTL k");
    rk_cmd_int(c, 1, "EXPIREAT k %lld", now / 1000 + 200);
    rk_cmd_int(c, now / 1000 + 200, "EXPIRETIME k");
    rk_cmd_int(c, (now / 1000 + 200) * 1000, "PEXPIRETIME k");
    rk_cmd_int(c, 1, "PEXPIREAT k %lld", now + 300000);
    rk_cmd_int(c, now + 300000, "PEXPIRETIME k");
    /* Seconds are rounded to the nearest. */
    rk_cmd_int(c, 1, "PEXPIREAT k %lld", now + 300600);
    rk_cmd_int(c, (now + 300600 + 500) / 1000, "EXPIRETIME k");
    rk_cmd_bulk(c, "v", "GET k");

    /* Missing keys: 0, and nothing is created. */
    rk_cmd_int(c, 0, "EXPIRE nokey 100");
    rk_cmd_int(c, 0, "PEXPIREAT nokey 1");
    rk_cmd_int(c, 0, "EXISTS nokey");

    /* A deadline in the past deletes the key and answers 1. */
    rk_cmd_status(c, "OK", "SET d v");
    rk_cmd_int(c, 1, "EXPIRE d -1");
    rk_cmd_int(c, 0, "EXISTS d");
    rk_cmd_status(c, "OK", "SET d v");
    rk_cmd_int(c, 1, "EXPIRE d 0");
    rk_cmd_int(c, 0, "EXISTS d");
    rk_cmd_status(c, "OK", "SET d v");
    rk_cmd_int(c, 1, "EXPIREAT d 1");
    rk_cmd_int(c, -2, "TTL d");
    rk_cmd_status(c, "OK", "SET d v");
    rk_cmd_int(c, 1, "PEXPIREAT d %lld", now - 1);
    rk_cmd_nil(c, "GET d");
    rk_cmd_status(c, "OK", "SET d v");
    rk_cmd_int(c, 1, "PEXPIRE d -9223372036854775808");
    rk_cmd_int(c, 0, "EXISTS d");

    /* A short PEXPIRE really expires. */
    rk_cmd_status(c, "OK", "SET s v");
    rk_cmd_int(c, 1, "PEXPIRE s 100");
    rk_cmd_bulk(c, "v", "GET s");
    rk_sleep_ms(250);
    rk_cmd_nil(c, "GET s");
    rk_cmd_int(c, -2, "PTTL s");
    rk_cmd_int(c, 0, "EXPIRE s 100");
    rk_cmd_int(c, 0, "PERSIST s");

    /* The largest deadline. */
    rk_cmd_int(c, 1, "PEXPIREAT k 9223372036854775807");
    rk_cmd_int(c, 9223372036854775807LL, "PEXPIRETIME k");
    rk_cmd_int(c, 9223372036854776LL, "EXPIRETIME k");
}
END_TEST

START_TEST(expire_errors)
{
    rk_cmd_status(c, "OK", "SET k v");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "EXPIRE k abc");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "EXPIRE k 1.5");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "EXPIRE k 9223372036854775808");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "EXPIRE nokey abc");
    rk_cmd_error(c, "ERR invalid expire time in 'expire' command",
                 "EXPIRE k 9223372036854776");
    rk_cmd_error(c, "ERR invalid expire time in 'expire' command",
                 "EXPIRE k -9223372036854776");
    rk_cmd_error(c, "ERR invalid expire time in 'expire' command",
                 "EXPIRE k 9223372036854775");
    rk_cmd_error(c, "ERR invalid expire time in 'pexpire' command",
                 "PEXPIRE k 9223372036854775807");
    rk_cmd_error(c, "ERR invalid expire time in 'expireat' command",
                 "EXPIREAT k 9223372036854776");
    rk_cmd_error(c, "ERR invalid expire time in 'expire' command",
                 "EXPIRE nokey 9223372036854776");
    /* The options come first. */
    rk_cmd_error(c, "ERR Unsupported option foo", "EXPIRE k abc foo");
    rk_cmd_error(c, "ERR Unsupported option foo", "EXPIRE k 10 NX foo");
    rk_cmd_error(c, "ERR Unsupported option a b",
                 "EXPIRE k 10 %b", "a\nb", (size_t)3);
    rk_cmd_error(c, "ERR NX and XX, GT or LT options at the same time are "
                 "not compatible", "EXPIRE k 10 NX XX");
    rk_cmd_error(c, "ERR NX and XX, GT or LT options at the same time are "
                 "not compatible", "EXPIRE k 10 gt nx");
    rk_cmd_error(c, "ERR NX and XX, GT or LT options at the same time are "
                 "not compatible", "PEXPIRE nokey abc NX LT");
    rk_cmd_error(c, "ERR GT and LT options at the same time are not "
                 "compatible", "EXPIRE k 10 GT LT");
    rk_cmd_error(c, "ERR GT and LT options at the same time are not "
                 "compatible", "PEXPIREAT k 10 XX lt gt");
    rk_cmd_error(c, "ERR wrong number of arguments for 'expire' command",
                 "EXPIRE k");
    rk_cmd_int(c, -1, "TTL k");
}
END_TEST

START_TEST(expire_options)
{
    /* No expiry yet: NX sets, XX and GT refuse, LT sets (infinite). */
    rk_cmd_status(c, "OK", "SET k v");
    rk_cmd_int(c, 0, "EXPIRE k 100 XX");
    rk_cmd_int(c, 0, "EXPIRE k 100 GT");
    rk_cmd_int(c, 0, "EXPIRE k 100 XX GT");
    rk_cmd_int(c, -1, "TTL k");
    rk_cmd_int(c, 1, "EXPIRE k 100 NX");
    rk_cmd_int(c, 100, "TTL k");
    rk_cmd_int(c, 0, "EXPIRE k 200 NX");
    rk_cmd_int(c, 0, "EXPIRE k 200 nx nx");
    rk_cmd_int(c, 100, "TTL k");
    rk_cmd_int(c, 1, "EXPIRE k 200 XX");
    rk_cmd_int(c, 200, "TTL k");
    rk_cmd_int(c, 0, "EXPIRE k 100 GT");
    /* Not "EXPIRE k 200 GT": a millisecond later now + 200 s is greater
     * than the deadline set before, in Redis too, so it would be racy. */
    rk_cmd_int(c, 0, "EXPIRE k 199 GT");
    rk_cmd_int(c, 1, "EXPIRE k 300 GT");
    rk_cmd_int(c, 300, "TTL k");
    rk_cmd_int(c, 0, "EXPIRE k 400 LT");
    rk_cmd_int(c, 0, "EXPIRE k 300 lt");
    rk_cmd_int(c, 1, "EXPIRE k 150 LT");
    rk_cmd_int(c, 150, "TTL k");
    rk_cmd_int(c, 1, "EXPIRE k 160 XX GT");
    rk_cmd_int(c, 160, "TTL k");
    rk_cmd_int(c, 1, "PEXPIRE k 100000 XX LT");
    rk_cmd_int(c, 100, "TTL k");
    /* An option ends at a NUL byte, as in Redis. */
    rk_cmd_int(c, 0, "EXPIRE k 10 %b", "gt\0zz", (size_t)5);
    rk_cmd_int(c, 100, "TTL k");
    /* LT on a key without expiry sets it, even into the past. */
    rk_cmd_status(c, "OK", "SET p v");
    rk_cmd_int(c, 1, "EXPIRE p 100 LT");
    rk_cmd_int(c, 100, "TTL p");
    rk_cmd_status(c, "OK", "SET p v");
    rk_cmd_int(c, 1, "EXPIRE p -1 LT");
    rk_cmd_int(c, 0, "EXISTS p");
    /* GT into the past still compares first: refused. */
    rk_cmd_status(c, "OK", "SET g v EX 100");
    rk_cmd_int(c, 0, "EXPIRE g -1 GT");
    rk_cmd_int(c, 1, "EXISTS g");
    rk_cmd_int(c, 1, "EXPIRE g 0 LT");
    rk_cmd_int(c, 0, "EXISTS g");
    /* Options on a missing key: 0. */
    rk_cmd_int(c, 0, "EXPIRE nokey 10 NX");
    rk_cmd_int(c, 0, "EXPIRE nokey 10 LT");
}
END_TEST

START_TEST(persist_cmd)
{
    long long t;

    rk_cmd_int(c, 0, "PERSIST nokey");
    rk_cmd_status(c, "OK", "SET k v");
    rk_cmd_int(c, 0, "PERSIST k");
    rk_cmd_int(c, 1, "EXPIRE k 100");
    rk_cmd_int(c, 1, "PERSIST k");
    rk_cmd_int(c, -1, "TTL k");
    rk_cmd_int(c, 0, "PERSIST k");
    rk_cmd_bulk(c, "v", "GET k");
    /* A persisted key outlives its old deadline. */
    rk_cmd_status(c, "OK", "SET s v PX 100");
    rk_cmd_int(c, 1, "PERSIST s");
    rk_sleep_ms(250);
    rk_cmd_bulk(c, "v", "GET s");
    /* And EXPIRE on it works again. */
    rk_cmd_int(c, 1, "PEXPIRE s 60000");
    t = int_of("PTTL", "s");
    ck_assert(t > 50000 && t <= 60000);
}
END_TEST

START_TEST(rename_cmds)
{
    long long t;
    redisReply *r;

    rk_cmd_error(c, "ERR no such key", "RENAME nokey other");
    rk_cmd_error(c, "ERR no such key", "RENAME nokey nokey");
    rk_cmd_error(c, "ERR no such key", "RENAMENX nokey other");
    rk_cmd_error(c, "ERR no such key", "RENAMENX nokey nokey");
    rk_cmd_int(c, 0, "EXISTS other");

    rk_cmd_status(c, "OK", "SET a v1 PX 60000");
    rk_cmd_status(c, "OK", "RENAME a a");
    rk_cmd_int(c, 0, "RENAMENX a a");
    rk_cmd_bulk(c, "v1", "GET a");
    rk_cmd_status(c, "OK", "RENAME a b");
    rk_cmd_int(c, 0, "EXISTS a");
    rk_cmd_bulk(c, "v1", "GET b");
    /* The TTL moves with the value. */
    t = int_of("PTTL", "b");
    ck_assert(t > 50000 && t <= 60000);
    /* RENAME overwrites the target and its TTL. */
    rk_cmd_status(c, "OK", "SET c v2");
    rk_cmd_status(c, "OK", "SET d v3 EX 100");
    rk_cmd_status(c, "OK", "RENAME c d");
    rk_cmd_bulk(c, "v2", "GET d");
    rk_cmd_int(c, -1, "TTL d");
    /* RENAMENX refuses an existing target. */
    rk_cmd_int(c, 0, "RENAMENX b d");
    rk_cmd_bulk(c, "v1", "GET b");
    rk_cmd_bulk(c, "v2", "GET d");
    rk_cmd_int(c, 1, "RENAMENX b e");
    rk_cmd_int(c, 0, "EXISTS b");
    rk_cmd_bulk(c, "v1", "GET e");
    t = int_of("PTTL", "e");
    ck_assert(t > 50000 && t <= 60000);
    /* An expired target counts as missing; an expired source too. */
    rk_cmd_status(c, "OK", "SET x v PX 50");
    rk_cmd_status(c, "OK", "SET y w PX 50");
    rk_sleep_ms(200);
    rk_cmd_int(c, 1, "RENAMENX e x");
    rk_cmd_bulk(c, "v1", "GET x");
    rk_cmd_error(c, "ERR no such key", "RENAME y z");
    /* Binary names. */
    r = rk_cmd(c, "RENAME x %b", "n\0\r\n", (size_t)4);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = rk_cmd(c, "GET %b", "n\0\r\n", (size_t)4);
    rk_assert_bulk(r, "v1");
    freeReplyObject(r);
    /* A moved key really expires at its old deadline. */
    rk_cmd_status(c, "OK", "SET m v PX 100");
    rk_cmd_status(c, "OK", "RENAME m m2");
    rk_sleep_ms(250);
    rk_cmd_int(c, 0, "EXISTS m m2");
}
END_TEST

START_TEST(keys_patterns)
{
    rk_cmd_status(c, "OK", "MSET hello 1 hallo 2 hxllo 3 hllo 4 heeello 5");
    rk_cmd_status(c, "OK", "MSET h*llo 6 {t}a 7 {t}b 8 other 9");
    rk_cmd_status(c, "OK", "SET gone v PX 50");
    rk_sleep_ms(200);

    ASSERT_KEYS("*", "hello", "hallo", "hxllo", "hllo", "heeello", "h*llo",
                "{t}a", "{t}b", "other", NULL);
    ASSERT_KEYS("h?llo", "hello", "hallo", "hxllo", "h*llo", NULL);
    ASSERT_KEYS("h*llo", "hello", "hallo", "hxllo", "hllo", "heeello",
                "h*llo", NULL);
    ASSERT_KEYS("h[ae]llo", "hello", "hallo", NULL);
    ASSERT_KEYS("h[^e]llo", "hallo", "hxllo", "h*llo", NULL);
    ASSERT_KEYS("h[a-b]llo", "hallo", NULL);
    ASSERT_KEYS("h\\*llo", "h*llo", NULL);
    ASSERT_KEYS("hello", "hello", NULL);
    ASSERT_KEYS("nokey", NULL);
    ASSERT_KEYS("gone", NULL);
    ASSERT_KEYS("go*", NULL);
    ASSERT_KEYS("{t}*", "{t}a", "{t}b", NULL);
    ASSERT_KEYS("{t}?", "{t}a", "{t}b", NULL);
    ASSERT_KEYS("*}b", "{t}b", NULL);
    ASSERT_KEYS("{u}*", NULL);
    ASSERT_KEYS("x*", NULL);
    ASSERT_KEYS("H*", NULL);
}
END_TEST

START_TEST(keys_binary)
{
    redisReply *r;

    r = rk_cmd(c, "SET %b v", "k\0\r\nx", (size_t)5);
    freeReplyObject(r);
    r = rk_cmd(c, "KEYS k*");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 1);
    ck_assert_int_eq(r->element[0]->len, 5);
    ck_assert(memcmp(r->element[0]->str, "k\0\r\nx", 5) == 0);
    freeReplyObject(r);
    r = rk_cmd(c, "KEYS %b", "k\0\r\nx", (size_t)5);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 1);
    freeReplyObject(r);
    r = rk_cmd(c, "KEYS %b", "k\0?\nx", (size_t)5);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 1);
    freeReplyObject(r);
}
END_TEST

/* One SCAN call: returns the next cursor and fills keys (caller frees r). */
static unsigned long long
scan_once(const char *cursor, const char *opts, redisReply **out)
{
    char *copy = strdup(opts);
    const char *argv[16] = {"SCAN", cursor};
    int argc = 2;
    redisReply *r;
    unsigned long long next;

    ck_assert_ptr_nonnull(copy);
    for (char *w = strtok(copy, " "); w != NULL && argc < 16;
         w = strtok(NULL, " ")) {
        argv[argc++] = w;
    }
    r = redisCommandArgv(c, argc, argv, NULL);
    ck_assert_msg(r != NULL, "connection lost: %s", c->errstr);
    free(copy);

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_ARRAY);
    next = strtoull(r->element[0]->str, NULL, 10);
    *out = r;
    return next;
}

START_TEST(scan_options_and_errors)
{
    redisReply *r;
    unsigned long long cur;
    size_t total = 0;

    /* A cluster's SCAN call covers one member: cursors differ. */
    RK_REQUIRE_ONE_NODE();

    rk_cmd_error(c, "ERR invalid cursor", "SCAN abc");
    rk_cmd_error(c, "ERR invalid cursor", "SCAN %s", " 0");
    rk_cmd_error(c, "ERR invalid cursor", "SCAN 1x");
    rk_cmd_error(c, "ERR invalid cursor", "SCAN -");
    rk_cmd_error(c, "ERR invalid cursor", "SCAN 18446744073709551616");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 COUNT 0");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 COUNT -1");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SCAN 0 COUNT abc");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 COUNT");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 MATCH");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 TYPE");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 foo bar");
    rk_cmd_error(c, "ERR syntax error", "SCAN 0 COUNT 10 foo");
    /* The cursor is checked before the options. */
    rk_cmd_error(c, "ERR invalid cursor", "SCAN x COUNT 0");
    rk_cmd_error(c, "ERR wrong number of arguments for 'scan' command",
                 "SCAN");

    /* An empty keyspace: cursor 0 at once. */
    cur = scan_once("0", "", &r);
    ck_assert_uint_eq(cur, 0);
    ck_assert_uint_eq(r->element[1]->elements, 0);
    freeReplyObject(r);

    rk_cmd_status(c, "OK", "MSET a1 1 a2 2 b1 3 b2 4");
    rk_cmd_status(c, "OK", "SET gone v PX 50");
    rk_sleep_ms(200);
    /* All keys, with options in any order and case. */
    cur = scan_once("0", "count 1000 MATCH * TYPE string", &r);
    ck_assert_uint_eq(cur, 0);
    {
        const char *want[] = {"a1", "a2", "b1", "b2", NULL};

        assert_key_set(r->element[1], want);
    }
    freeReplyObject(r);
    cur = scan_once("0", "MATCH a* COUNT 1000", &r);
    ck_assert_uint_eq(cur, 0);
    {
        const char *want[] = {"a1", "a2", NULL};

        assert_key_set(r->element[1], want);
    }
    freeReplyObject(r);
    cur = scan_once("0", "TYPE STRING COUNT 1000 MATCH *2", &r);
    ck_assert_uint_eq(cur, 0);
    {
        const char *want[] = {"a2", "b2", NULL};

        assert_key_set(r->element[1], want);
    }
    freeReplyObject(r);
    /* Another type: nothing. */
    cur = scan_once("0", "TYPE list COUNT 1000", &r);
    ck_assert_uint_eq(cur, 0);
    ck_assert_uint_eq(r->element[1]->elements, 0);
    freeReplyObject(r);
    /* "" and leading "+" are valid cursors (strtoul), "0" starts. */
    r = rk_cmd(c, "SCAN %b COUNT 1000", "", (size_t)0);
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->element[1]->elements, 4);
    freeReplyObject(r);
    r = rk_cmd(c, "SCAN +0 COUNT 1000");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->element[1]->elements, 4);
    freeReplyObject(r);
    /* COUNT 1: walks everything in small steps. */
    {
        char cbuf[32] = "0";

        do {
            cur = scan_once(cbuf, "COUNT 1", &r);
            total += r->element[1]->elements;
            freeReplyObject(r);
            snprintf(cbuf, sizeof(cbuf), "%llu", cur);
        } while (cur != 0);
    }
    ck_assert_uint_ge(total, 4);
}
END_TEST

/*
 * The SCAN guarantee: every key present from the start to the end of a
 * scan is returned at least once, while other keys are added and deleted
 * between the calls. Keys: stable s<i>, volatile v<i> (deleted during the
 * scan), new n<i> (added during the scan), and a crowd in one hash slot
 * ({big}<i>) so that calls stop inside a slot.
 */
START_TEST(scan_while_changing)
{
    enum { STABLE = 2000, VOLATILE = 400, BIG = 300 };
    unsigned char *seen = calloc(STABLE + BIG, 1);
    redisContext *m = rk_connect(srv);
    char cbuf[32] = "0";
    unsigned long long cur;
    int calls = 0;
    int added = 0;
    int deleted = 0;

    ck_assert_ptr_nonnull(seen);
    set_range(c, "s", 0, STABLE);
    set_range(c, "v", 0, VOLATILE);
    set_range(c, "{big}", 0, BIG);
    do {
        redisReply *r;

        cur = scan_once(cbuf, "COUNT 7", &r);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;

            if (k[0] == 's') {
                int n = atoi(k + 1);

                ck_assert(n >= 0 && n < STABLE);
                seen[n] = 1;
            } else if (strncmp(k, "{big}", 5) == 0) {
                int n = atoi(k + 5);

                ck_assert(n >= 0 && n < BIG);
                seen[STABLE + n] = 1;
            } else {
                ck_assert_msg(k[0] == 'v' || k[0] == 'n',
                              "unexpected key %s", k);
            }
        }
        freeReplyObject(r);
        snprintf(cbuf, sizeof(cbuf), "%llu", cur);
        calls++;
        ck_assert_int_lt(calls, 20000);
        /* Meanwhile another client adds and deletes keys. */
        set_range(m, "n", added, added + 3);
        added += 3;
        if (deleted < VOLATILE) {
            redisReply *d = rk_cmd(m, "DEL v%d v%d", deleted, deleted + 1);

            freeReplyObject(d);
            deleted += 2;
        }
        if (calls % 10 == 0) {
            redisReply *d = rk_cmd(m, "SET {big}new%d x", calls);

            freeReplyObject(d);
        }
    } while (cur != 0);
    for (int i = 0; i < STABLE + BIG; i++) {
        ck_assert_msg(seen[i], "key %d was never returned", i);
    }
    /* COUNT 7 over ~2700 keys takes many calls, not one. */
    ck_assert_int_gt(calls, 100);
    redisFree(m);
    free(seen);
}
END_TEST

/* SCAN MATCH on one hash tag, stopping inside that slot. */
START_TEST(scan_one_slot)
{
    enum { N = 200 };
    unsigned char seen[N] = {0};
    char cbuf[32] = "0";
    unsigned long long cur;
    int calls = 0;

    set_range(c, "{tag}", 0, N);
    set_range(c, "x", 0, 100);
    do {
        redisReply *r;

        cur = scan_once(cbuf, "MATCH {tag}* COUNT 5", &r);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            int n;

            ck_assert(strncmp(k, "{tag}", 5) == 0);
            n = atoi(k + 5);
            ck_assert(n >= 0 && n < N);
            seen[n] = 1;
        }
        freeReplyObject(r);
        snprintf(cbuf, sizeof(cbuf), "%llu", cur);
        ck_assert_int_lt(++calls, 10000);
    } while (cur != 0);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(seen[i], "key {tag}%d was never returned", i);
    }
}
END_TEST

/* ringkv's cursor: an unknown resume entry restarts its slot. */
START_TEST(scan_unknown_cursor_entry)
{
    redisReply *r;
    unsigned long long slot;
    char cbuf[32];

    RK_REQUIRE_RINGKV();
    set_range(c, "{tag}", 0, 50);
    /* The slot of {tag}: CRC16("tag") mod 16384. */
    slot = 8338;
    /* Generation 12345 was never issued. */
    snprintf(cbuf, sizeof(cbuf), "%llu", (12345ull << 14) | slot);
    (void)scan_once(cbuf, "COUNT 1000", &r);
    ck_assert_uint_eq(r->element[1]->elements, 50);
    freeReplyObject(r);
    /* The largest cursor is valid too. */
    (void)scan_once("18446744073709551615", "COUNT 10", &r);
    freeReplyObject(r);
}
END_TEST

START_TEST(randomkey_cmd)
{
    int hits[3] = {0, 0, 0};

    rk_cmd_nil(c, "RANDOMKEY");
    rk_cmd_status(c, "OK", "SET only v");
    rk_cmd_bulk(c, "only", "RANDOMKEY");
    rk_cmd_int(c, 1, "DEL only");
    rk_cmd_nil(c, "RANDOMKEY");
    rk_cmd_status(c, "OK", "MSET k0 v k1 v k2 v");
    for (int i = 0; i < 50; i++) {
        redisReply *r = rk_cmd(c, "RANDOMKEY");

        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        ck_assert(r->len == 2 && r->str[0] == 'k' &&
                  r->str[1] >= '0' && r->str[1] <= '2');
        hits[r->str[1] - '0']++;
        freeReplyObject(r);
    }
    ck_assert_int_eq(hits[0] + hits[1] + hits[2], 50);
    /* Only expired keys left: nil. */
    rk_cmd_int(c, 3, "DEL k0 k1 k2");
    rk_cmd_status(c, "OK", "SET e1 v PX 50");
    rk_cmd_status(c, "OK", "SET e2 v PX 50");
    rk_sleep_ms(200);
    rk_cmd_nil(c, "RANDOMKEY");
}
END_TEST

static Suite *
keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = rk_tcase(s, "keys", 120);

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, del_exists_touch);
    tcase_add_test(tc, del_many_with_duplicates);
    tcase_add_test(tc, type_cmd);
    tcase_add_test(tc, expire_and_ttl);
    tcase_add_test(tc, expire_errors);
    tcase_add_test(tc, expire_options);
    tcase_add_test(tc, persist_cmd);
    tcase_add_test(tc, rename_cmds);
    tcase_add_test(tc, keys_patterns);
    tcase_add_test(tc, keys_binary);
    tcase_add_test(tc, scan_options_and_errors);
    tcase_add_test(tc, scan_while_changing);
    tcase_add_test(tc, scan_one_slot);
    tcase_add_test(tc, scan_unknown_cursor_entry);
    tcase_add_test(tc, randomkey_cmd);
    return s;
}

int
main(void)
{
    return rk_run_suite(keys_suite());
}
