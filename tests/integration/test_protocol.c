/*
 * tests/integration/test_protocol.c - the RESP2 wire against a spawned
 * ringkv-server: binary safety, deep pipelines, inline commands, every
 * protocol limit with Redis 7.0's exact error (and the server serving the
 * other clients afterwards), maxclients, the idle timeout, the query and
 * output buffer limits, and backpressure on a client that never reads.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MB (1024 * 1024)

/* Set while a test runs with requirepass: connect() authenticates. */
static const char *password;

static redisContext *
client_connect(struct rk_server *srv)
{
    redisContext *c = rk_connect(srv);

    if (password != NULL) {
        rk_cmd_status(c, "OK", "AUTH %s", password);
    }
    return c;
}

/* A client that is not involved keeps being served, and new ones too. */
static void
assert_serving(struct rk_server *srv, redisContext *bystander)
{
    redisContext *c;

    rk_cmd_status(bystander, "PONG", "PING");
    c = client_connect(srv);
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
}

/*
 * Send bytes on a fresh connection; expect exactly reply and then the
 * connection closed by the server; the other clients unaffected.
 */
static void
expect_protocol_error(struct rk_server *srv, const char *bytes, size_t len,
                      const char *reply)
{
    redisContext *bystander = client_connect(srv);
    int fd;

    rk_cmd_status(bystander, "PONG", "PING");
    fd = rk_raw_connect(srv);
    rk_raw_send(fd, bytes, len);
    rk_raw_expect(fd, reply, 5000);
    ck_assert_msg(rk_raw_wait_closed(fd, 5000),
                  "connection not closed after '%s'", reply);
    close(fd);
    assert_serving(srv, bystander);
    redisFree(bystander);
}

static void
expect_protocol_error_str(struct rk_server *srv, const char *bytes,
                          const char *reply)
{
    expect_protocol_error(srv, bytes, strlen(bytes), reply);
}

/* Send as much of buf as the peer takes (it may close on us). */
static size_t
send_some(int fd, const char *buf, size_t len, int timeout_ms)
{
    long long deadline = rk_now_ms() + timeout_ms;
    size_t sent = 0;

    while (sent < len && rk_now_ms() < deadline) {
        struct pollfd pfd = { fd, POLLOUT, 0 };
        ssize_t n;

        if (poll(&pfd, 1, 100) <= 0) {
            continue;
        }
        n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            break;
        }
        sent += (size_t)n;
    }
    return sent;
}

START_TEST(binary_safe_values)
{
    static const char key[] = "rk:bin\0key\r\n";
    static const char val[] = "a\0b\r\nc\n\r$3\r\n*1\r\n";
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    size_t big_len = MB, i;
    char *big;
    redisReply *r;

    r = rk_cmd(c, "SET %b %b", key, sizeof(key) - 1, val, sizeof(val) - 1);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = rk_cmd(c, "GET %b", key, sizeof(key) - 1);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->len, sizeof(val) - 1);
    ck_assert(memcmp(r->str, val, sizeof(val) - 1) == 0);
    freeReplyObject(r);
    /* The key with its NUL is not the key cut at the NUL. */
    rk_cmd_nil(c, "GET %b", key, (size_t)6);

    /* Empty value. */
    rk_cmd_status(c, "OK", "SET rk:bin:empty %b", "", (size_t)0);
    rk_cmd_bulk(c, "", "GET rk:bin:empty");

    /* 1 MB of every byte value. */
    big = malloc(big_len);
    ck_assert(big != NULL);
    for (i = 0; i < big_len; i++) {
        big[i] = (char)(i * 7 + i / 256);
    }
    r = rk_cmd(c, "SET rk:bin:big %b", big, big_len);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    r = rk_cmd(c, "GET rk:bin:big");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->len, big_len);
    ck_assert(memcmp(r->str, big, big_len) == 0);
    freeReplyObject(r);
    rk_cmd_int(c, (long long)big_len, "STRLEN rk:bin:big");
    free(big);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(pipeline_of_10000)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r;
    char val[64];
    int i;

    /* SET k:n v:n and GET k:n interleaved: 10,000 commands, one write. */
    for (i = 0; i < 10000; i++) {
        int n = i / 2;

        if (i % 2 == 0) {
            ck_assert_int_eq(redisAppendCommand(c, "SET rk:p:%d v:%d", n, n),
                             REDIS_OK);
        } else {
            ck_assert_int_eq(redisAppendCommand(c, "GET rk:p:%d", n),
                             REDIS_OK);
        }
    }
    for (i = 0; i < 10000; i++) {
        r = rk_get_reply(c);
        if (i % 2 == 0) {
            rk_assert_status(r, "OK");
        } else {
            snprintf(val, sizeof(val), "v:%d", i / 2);
            rk_assert_bulk(r, val);
        }
        freeReplyObject(r);
    }
    rk_cmd_int(c, 5000, "DBSIZE");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(inline_commands)
{
    struct rk_server *srv = rk_server_start(NULL);
    int fd = rk_raw_connect(srv);

    rk_raw_send_str(fd, "PING\r\n");
    rk_raw_expect(fd, "+PONG\r\n", 5000);
    /* Several in one packet, LF alone ends a line too, empty lines and
     * blank lines are skipped. */
    rk_raw_send_str(fd, "PING\nPING\r\n\r\n\r\n   \r\nPING x\r\n");
    rk_raw_expect(fd, "+PONG\r\n+PONG\r\n$1\r\nx\r\n", 5000);
    /* Quotes and escapes as redis-cli's parser (sdssplitargs). */
    rk_raw_send_str(fd, "SET rk:inl \"a b\"\r\nGET rk:inl\r\n");
    rk_raw_expect(fd, "+OK\r\n$3\r\na b\r\n", 5000);
    rk_raw_send_str(fd, "ECHO 'x y'\r\n");
    rk_raw_expect(fd, "$3\r\nx y\r\n", 5000);
    rk_raw_send_str(fd, "ECHO \"\\x41\\n\\\"\"\r\n");
    rk_raw_expect(fd, "$3\r\nA\n\"\r\n", 5000);
    rk_raw_send_str(fd, "ECHO \"\"\r\n");
    rk_raw_expect(fd, "$0\r\n\r\n", 5000);
    /* Split across writes. */
    rk_raw_send_str(fd, "PI");
    rk_sleep_ms(100);
    rk_raw_send_str(fd, "NG\r\n");
    rk_raw_expect(fd, "+PONG\r\n", 5000);
    /* Inline and multibulk mixed in one packet. */
    rk_raw_send_str(fd, "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n");
    rk_raw_expect(fd, "+PONG\r\n$2\r\nhi\r\n+PONG\r\n", 5000);
    /* Errors in inline commands are ordinary errors. */
    rk_raw_send_str(fd, "nosuch a\r\nGET\r\n");
    rk_raw_expect(fd, "-ERR unknown command 'nosuch', with args beginning "
                  "with: 'a' \r\n-ERR wrong number of arguments for 'get' "
                  "command\r\n", 5000);
    close(fd);
    rk_server_stop(srv);
}
END_TEST

START_TEST(multibulk_split_and_empty)
{
    struct rk_server *srv = rk_server_start(NULL);
    int fd = rk_raw_connect(srv);
    static const char cmd[] =
        "*3\r\n$3\r\nSET\r\n$6\r\nrk:spl\r\n$5\r\nhello\r\n";
    size_t i;

    /* One byte at a time. */
    for (i = 0; i < sizeof(cmd) - 1; i++) {
        rk_raw_send(fd, cmd + i, 1);
        if (i % 8 == 0) {
            rk_sleep_ms(5);
        }
    }
    rk_raw_expect(fd, "+OK\r\n", 5000);
    /* *0 and negative counts are skipped, as Redis does. */
    rk_raw_send_str(fd, "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
    rk_raw_expect(fd, "+PONG\r\n", 5000);
    rk_raw_send_str(fd, "*2\r\n$3\r\nGET\r\n$6\r\nrk:spl\r\n");
    rk_raw_expect(fd, "$5\r\nhello\r\n", 5000);
    close(fd);
    rk_server_stop(srv);
}
END_TEST

START_TEST(invalid_multibulk_length)
{
    struct rk_server *srv = rk_server_start(NULL);

    expect_protocol_error_str(srv, "*abc\r\n",
                              "-ERR Protocol error: invalid multibulk "
                              "length\r\n");
    expect_protocol_error_str(srv, "*3000000000\r\n",
                              "-ERR Protocol error: invalid multibulk "
                              "length\r\n");
    /* After a good command on the same connection. */
    expect_protocol_error_str(srv, "PING\r\n*1x\r\n",
                              "+PONG\r\n-ERR Protocol error: invalid "
                              "multibulk length\r\n");
    rk_server_stop(srv);
}
END_TEST

START_TEST(invalid_bulk_length)
{
    struct rk_server *srv = rk_server_start(NULL);

    expect_protocol_error_str(srv, "*1\r\n$abc\r\n",
                              "-ERR Protocol error: invalid bulk length\r\n");
    expect_protocol_error_str(srv, "*1\r\n$-1\r\n",
                              "-ERR Protocol error: invalid bulk length\r\n");
    expect_protocol_error_str(srv, "*2\r\n$3\r\nGET\r\n$9999999999999\r\n",
                              "-ERR Protocol error: invalid bulk length\r\n");
    rk_server_stop(srv);
}
END_TEST

START_TEST(bulk_over_proto_max_bulk_len)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    size_t len = MB;
    char *v = malloc(len);
    redisReply *r;

    ck_assert(v != NULL);
    memset(v, 'v', len);
    /* 1mb is the smallest value Redis accepts. */
    rk_cmd_status(c, "OK", "CONFIG SET proto-max-bulk-len 1mb");
    r = rk_cmd(c, "CONFIG GET proto-max-bulk-len");
    rk_assert_array(r, 2);
    rk_assert_bulk(r->element[1], "1048576");
    freeReplyObject(r);
    /* Exactly the limit is fine. */
    r = rk_cmd(c, "SET rk:pmb %b", v, len);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    expect_protocol_error_str(srv, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"
                              "$1048577\r\n",
                              "-ERR Protocol error: invalid bulk length\r\n");
    rk_cmd_status(c, "OK", "CONFIG SET proto-max-bulk-len 512mb");
    rk_cmd_int(c, (long long)len, "STRLEN rk:pmb");
    free(v);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(expected_dollar)
{
    struct rk_server *srv = rk_server_start(NULL);

    expect_protocol_error_str(srv, "*1\r\n+foo\r\n",
                              "-ERR Protocol error: expected '$', got "
                              "'+'\r\n");
    expect_protocol_error_str(srv, "*2\r\n$4\r\nECHO\r\n:1\r\n",
                              "-ERR Protocol error: expected '$', got "
                              "':'\r\n");
    rk_server_stop(srv);
}
END_TEST

/* Too long a line without a newline: inline, count or bulk length. */
START_TEST(too_big_lines)
{
    struct rk_server *srv = rk_server_start(NULL);
    size_t len = 70000;
    char *buf = malloc(len + 8);

    ck_assert(buf != NULL);
    memcpy(buf, "PING", 4);
    memset(buf + 4, 'a', len - 4);
    expect_protocol_error(srv, buf, len, "-ERR Protocol error: too big "
                          "inline request\r\n");
    buf[0] = '*';
    memset(buf + 1, '1', len - 1);
    expect_protocol_error(srv, buf, len, "-ERR Protocol error: too big "
                          "mbulk count string\r\n");
    memcpy(buf, "*1\r\n$", 5);
    memset(buf + 5, '1', len - 5);
    expect_protocol_error(srv, buf, len, "-ERR Protocol error: too big "
                          "bulk count string\r\n");
    free(buf);
    rk_server_stop(srv);
}
END_TEST

START_TEST(unbalanced_quotes)
{
    struct rk_server *srv = rk_server_start(NULL);

    expect_protocol_error_str(srv, "SET a \"b\r\n",
                              "-ERR Protocol error: unbalanced quotes in "
                              "request\r\n");
    expect_protocol_error_str(srv, "ECHO 'x\r\n",
                              "-ERR Protocol error: unbalanced quotes in "
                              "request\r\n");
    rk_server_stop(srv);
}
END_TEST

START_TEST(unauthenticated_limits)
{
    static const char *const args[] = {
        "--requirepass", RK_TEST_PASSWORD, NULL
    };
    struct rk_server *srv = rk_server_start(args);
    redisContext *admin = rk_connect(srv);
    int fd;

    if (rk_is_external()) {
        rk_cmd_status(admin, "OK", "CONFIG SET requirepass %s",
                      RK_TEST_PASSWORD);
    } else {
        rk_cmd_status(admin, "OK", "AUTH %s", RK_TEST_PASSWORD);
    }
    password = RK_TEST_PASSWORD;
    /* More than 10 arguments before AUTH. */
    expect_protocol_error_str(srv, "*11\r\n",
                              "-ERR Protocol error: unauthenticated "
                              "multibulk length\r\n");
    /* A bulk longer than 16 KB before AUTH. */
    expect_protocol_error_str(srv, "*1\r\n$16385\r\n",
                              "-ERR Protocol error: unauthenticated bulk "
                              "length\r\n");
    /* Up to the limits: an ordinary NOAUTH. */
    fd = rk_raw_connect(srv);
    rk_raw_send_str(fd, "*10\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n"
                    "$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
                    "$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n");
    rk_raw_expect(fd, "-NOAUTH Authentication required.\r\n", 5000);
    /* Authenticated, the limits are gone. */
    rk_raw_send_str(fd, "AUTH " RK_TEST_PASSWORD "\r\n");
    rk_raw_expect(fd, "+OK\r\n", 5000);
    rk_raw_send_str(fd, "*11\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\nb\r\n"
                    "$1\r\na\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nb\r\n"
                    "$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n");
    rk_raw_expect(fd, "+OK\r\n", 5000);
    close(fd);
    password = NULL;
    if (rk_is_external()) {
        rk_cmd_status(admin, "OK", "CONFIG SET requirepass %s", "");
    }
    redisFree(admin);
    rk_server_stop(srv);
}
END_TEST

START_TEST(maxclients_rejects_extra_client)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *admin = rk_connect(srv);
    redisContext *second, *later = NULL;
    long long deadline;
    int fd;

    /* Wait until earlier connections (the harness's probe) are gone. */
    deadline = rk_now_ms() + 3000;
    for (;;) {
        redisReply *r = rk_cmd(admin, "INFO clients");

        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        if (strstr(r->str, "connected_clients:1\r\n") != NULL) {
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
        ck_assert_msg(rk_now_ms() < deadline, "connected_clients never 1");
        rk_sleep_ms(50);
    }
    rk_cmd_status(admin, "OK", "CONFIG SET maxclients 2");
    second = rk_connect(srv);
    rk_cmd_status(second, "PONG", "PING");
    fd = rk_raw_connect(srv);
    rk_raw_expect(fd, "-ERR max number of clients reached\r\n", 5000);
    ck_assert(rk_raw_wait_closed(fd, 5000));
    close(fd);
    /* The two admitted clients are fine. */
    rk_cmd_status(admin, "PONG", "PING");
    rk_cmd_status(second, "PONG", "PING");
    /* A slot frees up when a client leaves. */
    redisFree(second);
    deadline = rk_now_ms() + 5000;
    while (rk_now_ms() < deadline) {
        redisReply *r;

        later = rk_connect(srv);
        r = redisCommand(later, "PING");
        if (r != NULL && r->type == REDIS_REPLY_STATUS) {
            freeReplyObject(r);
            break;
        }
        if (r != NULL) {
            freeReplyObject(r);
        }
        redisFree(later);
        later = NULL;
        rk_sleep_ms(100);
    }
    ck_assert_msg(later != NULL, "no client admitted after one left");
    rk_cmd_status(admin, "OK", "CONFIG SET maxclients 10000");
    redisFree(later);
    redisFree(admin);
    rk_server_stop(srv);
}
END_TEST

START_TEST(idle_timeout_disconnects)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *active = rk_connect(srv);
    long long start, closed_after = -1;
    int idle;

    rk_cmd_status(active, "OK", "CONFIG SET timeout 1");
    idle = rk_raw_connect(srv);
    rk_raw_send_str(idle, "PING\r\n");
    rk_raw_expect(idle, "+PONG\r\n", 5000);
    start = rk_now_ms();
    /* The active client pings every 200 ms and stays. */
    while (rk_now_ms() - start < 8000) {
        struct pollfd pfd = { idle, POLLIN, 0 };

        rk_cmd_status(active, "PONG", "PING");
        if (poll(&pfd, 1, 200) > 0) {
            char b[64];

            if (recv(idle, b, sizeof(b), 0) <= 0) {
                closed_after = rk_now_ms() - start;
                break;
            }
        }
    }
    close(idle);
    ck_assert_msg(closed_after >= 0, "idle client not disconnected within "
                  "8 s with timeout 1");
    ck_assert_msg(closed_after >= 900, "idle client closed after only %lld "
                  "ms", closed_after);
    rk_cmd_status(active, "PONG", "PING");
    rk_cmd_status(active, "OK", "CONFIG SET timeout 0");
    redisFree(active);
    rk_server_stop(srv);
}
END_TEST

START_TEST(query_buffer_limit_disconnects)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *admin = rk_connect(srv);
    size_t chunk = 64 * 1024, total = 0;
    long long deadline;
    char *buf = malloc(chunk);
    int fd, closed;

    ck_assert(buf != NULL);
    memset(buf, 'q', chunk);
    rk_cmd_status(admin, "OK", "CONFIG SET client-query-buffer-limit 1mb");
    fd = rk_raw_connect(srv);
    /* A 20 MB bulk, in 64 KB pieces: more than 1 MB never completes. */
    rk_raw_send_str(fd, "*3\r\n$3\r\nSET\r\n$7\r\nrk:qbuf\r\n$20000000\r\n");
    deadline = rk_now_ms() + 10000;
    while (total < 20000000 && rk_now_ms() < deadline) {
        size_t n = send_some(fd, buf, chunk, 1000);

        total += n;
        if (n < chunk) {
            struct pollfd pfd = { fd, POLLIN, 0 };

            if (poll(&pfd, 1, 0) > 0) {
                break;      /* EOF or reset waiting */
            }
        }
    }
    closed = rk_raw_wait_closed(fd, 5000);
    close(fd);
    ck_assert_msg(closed, "client with a %zu byte query buffer still "
                  "connected", total);
    ck_assert_msg(total < 20000000, "the whole 20 MB bulk was accepted");
    rk_cmd_status(admin, "OK", "CONFIG SET client-query-buffer-limit 1gb");
    assert_serving(srv, admin);
    rk_cmd_nil(admin, "GET rk:qbuf");
    free(buf);
    redisFree(admin);
    rk_server_stop(srv);
}
END_TEST

/* Build n pipelined "GET key" requests; returns the buffer, *len set. */
static char *
many_gets(const char *key, size_t n, size_t *len)
{
    char one[128];
    size_t olen, i;
    char *buf;

    olen = (size_t)snprintf(one, sizeof(one), "*2\r\n$3\r\nGET\r\n$%zu\r\n"
                            "%s\r\n", strlen(key), key);
    buf = malloc(olen * n);
    ck_assert(buf != NULL);
    for (i = 0; i < n; i++) {
        memcpy(buf + i * olen, one, olen);
    }
    *len = olen * n;
    return buf;
}

START_TEST(output_buffer_hard_limit_disconnects)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *admin = rk_connect(srv);
    size_t vlen = 100 * 1000, n = 200, reqlen, got = 0;
    long long deadline;
    char *v = malloc(vlen), *req, *sink;
    redisReply *r;
    int fd, closed = 0;

    ck_assert(v != NULL);
    memset(v, 'o', vlen);
    r = rk_cmd(admin, "SET rk:obuf %b", v, vlen);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    rk_cmd_status(admin, "OK", "CONFIG SET client-output-buffer-limit %s",
                  "normal 1mb 0 0");
    /* 200 GETs of 100 KB (20 MB of replies), and not reading for 2 s. */
    req = many_gets("rk:obuf", n, &reqlen);
    fd = rk_raw_connect(srv);
    send_some(fd, req, reqlen, 5000);
    rk_sleep_ms(2000);
    sink = malloc(MB);
    ck_assert(sink != NULL);
    deadline = rk_now_ms() + 10000;
    while (rk_now_ms() < deadline) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        ssize_t k;

        if (poll(&pfd, 1, 500) <= 0) {
            continue;
        }
        k = recv(fd, sink, MB, 0);
        if (k <= 0) {
            closed = 1;
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    ck_assert_msg(closed, "client over the hard output limit not "
                  "disconnected (%zu bytes read)", got);
    ck_assert_msg(got < n * vlen, "all %zu bytes were delivered", got);
    rk_cmd_status(admin, "OK", "CONFIG SET client-output-buffer-limit %s",
                  "normal 0 0 0");
    assert_serving(srv, admin);
    free(sink);
    free(req);
    free(v);
    redisFree(admin);
    rk_server_stop(srv);
}
END_TEST

/*
 * ringkv stops reading from a client whose replies pile up: a client that
 * pipelines GETs of a 1 MB value and never reads must not make the server
 * buffer gigabytes.
 */
START_TEST(backpressure_bounds_memory)
{
    struct rk_server *srv;
    redisContext *admin, *other;
    size_t vlen = MB, batch = 1000, reqlen, sent, bytes = 0, per_req;
    long rss0, rss, rss_max;
    long long start, last_ping;
    char *v, *req;
    redisReply *r;
    int fd, flags;

    RK_REQUIRE_RINGKV();
    srv = rk_server_start(NULL);
    admin = rk_connect(srv);
    other = rk_connect(srv);
    v = malloc(vlen);
    ck_assert(v != NULL);
    memset(v, 'b', vlen);
    r = rk_cmd(admin, "SET rk:bp %b", v, vlen);
    rk_assert_status(r, "OK");
    freeReplyObject(r);
    rk_cmd_int(admin, (long long)vlen, "STRLEN rk:bp");
    rk_sleep_ms(300);
    rss0 = rk_server_rss_kb(srv);
    ck_assert_int_gt(rss0, 0);
    rss_max = rss0;

    req = many_gets("rk:bp", batch, &reqlen);
    per_req = reqlen / batch;
    fd = rk_raw_connect(srv);
    flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    start = last_ping = rk_now_ms();
    /*
     * Push 2048 requests (2 GB of replies) within 5 s, never reading a
     * byte, and watch the server's RSS all that time.
     */
    while (rk_now_ms() - start < 5000) {
        size_t off = bytes % reqlen;
        size_t want = reqlen - off;
        ssize_t n;

        if (bytes + want > 2048 * per_req) {
            want = 2048 * per_req - bytes;
        }
        n = want > 0 ? send(fd, req + off, want, MSG_NOSIGNAL) : 0;
        if (n > 0) {
            bytes += (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            ck_abort_msg("server dropped the slow reader: %s",
                         strerror(errno));
        } else {
            rk_sleep_ms(20);
        }
        rss = rk_server_rss_kb(srv);
        if (rss > rss_max) {
            rss_max = rss;
        }
        if (rk_now_ms() - last_ping >= 500) {
            long long t0 = rk_now_ms();

            /* Everyone else is still served promptly. */
            rk_cmd_status(other, "PONG", "PING");
            ck_assert_int_lt(rk_now_ms() - t0, 1000);
            last_ping = rk_now_ms();
        }
    }
    sent = bytes / per_req;
    fprintf(stderr, "backpressure: %zu GETs of 1 MB pushed (%zu MB of "
            "replies), RSS %ld -> max %ld KB\n", sent, sent, rss0, rss_max);
    ck_assert_msg(sent >= 1024, "only %zu requests could be sent", sent);
    ck_assert_msg(rss_max - rss0 < 64 * 1024, "RSS grew by %ld KB (> 64 MB) "
                  "while a client did not read", rss_max - rss0);
    close(fd);
    /* The server recovers once the slow client is gone. */
    rk_sleep_ms(500);
    rk_cmd_status(other, "PONG", "PING");
    rk_cmd_int(admin, (long long)vlen, "STRLEN rk:bp");
    free(req);
    free(v);
    redisFree(other);
    redisFree(admin);
    rk_server_stop(srv);
}
END_TEST

static Suite *
protocol_suite(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = rk_tcase(s, "protocol", 60);

    tcase_add_test(tc, binary_safe_values);
    tcase_add_test(tc, pipeline_of_10000);
    tcase_add_test(tc, inline_commands);
    tcase_add_test(tc, multibulk_split_and_empty);
    tcase_add_test(tc, invalid_multibulk_length);
    tcase_add_test(tc, invalid_bulk_length);
    tcase_add_test(tc, bulk_over_proto_max_bulk_len);
    tcase_add_test(tc, expected_dollar);
    tcase_add_test(tc, too_big_lines);
    tcase_add_test(tc, unbalanced_quotes);
    tcase_add_test(tc, unauthenticated_limits);
    tcase_add_test(tc, maxclients_rejects_extra_client);
    tcase_add_test(tc, idle_timeout_disconnects);
    tcase_add_test(tc, query_buffer_limit_disconnects);
    tcase_add_test(tc, output_buffer_hard_limit_disconnects);
    tcase_add_test(tc, backpressure_bounds_memory);
    return s;
}

int
main(void)
{
    return rk_run_suite(protocol_suite());
}
