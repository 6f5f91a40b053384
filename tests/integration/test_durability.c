/*
 * tests/integration/test_durability.c - ringkv only: acknowledged writes
 * and TTLs survive kill -9 under --fsync always/everysec, clean exits on
 * SIGTERM/SIGINT, and start-up failures (unusable data dir, busy port, bad
 * flags) exit non-zero with a one-line error.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NKEYS 2000

/* The value stored under key number i (about 100 bytes). */
static void
value_of(int i, char *buf, size_t len)
{
    snprintf(buf, len, "value-%d-%0*d", i, 80, i * 7919);
}

/* SET rk:d:0..n-1, pipelined 100 at a time; every reply must be OK. */
static void
write_keys(redisContext *c, int n)
{
    char val[128];
    int i, j;

    for (i = 0; i < n; i += 100) {
        for (j = i; j < i + 100 && j < n; j++) {
            value_of(j, val, sizeof(val));
            ck_assert_int_eq(redisAppendCommand(c, "SET rk:d:%d %s", j, val),
                             REDIS_OK);
        }
        for (j = i; j < i + 100 && j < n; j++) {
            redisReply *r = rk_get_reply(c);

            rk_assert_status(r, "OK");
            freeReplyObject(r);
        }
    }
}

/* Every key written by write_keys() is there with its value. */
static void
check_keys(redisContext *c, int n)
{
    char val[128];
    int i, j, missing = 0, first_missing = -1;

    for (i = 0; i < n; i += 100) {
        for (j = i; j < i + 100 && j < n; j++) {
            ck_assert_int_eq(redisAppendCommand(c, "GET rk:d:%d", j),
                             REDIS_OK);
        }
        for (j = i; j < i + 100 && j < n; j++) {
            redisReply *r = rk_get_reply(c);

            value_of(j, val, sizeof(val));
            if (r->type == REDIS_REPLY_NIL) {
                missing++;
                if (first_missing < 0) {
                    first_missing = j;
                }
            } else {
                rk_assert_bulk(r, val);
            }
            freeReplyObject(r);
        }
    }
    ck_assert_msg(missing == 0, "%d of %d acknowledged keys lost after "
                  "restart (first: rk:d:%d)", missing, n, first_missing);
    rk_cmd_int(c, n, "DBSIZE");
}

START_TEST(fsync_always_survives_kill9)
{
    static const char *const args[] = { "--fsync", "always", NULL };
    struct rk_server *srv;
    redisContext *c;

    RK_REQUIRE_RINGKV();
    srv = rk_server_start(args);
    c = rk_connect(srv);
    write_keys(c, NKEYS);
    /* A few more, one at a time, right before the kill. */
    rk_cmd_status(c, "OK", "SET rk:d:last1 x");
    rk_cmd_status(c, "OK", "SET rk:d:last2 y");
    rk_server_kill9(srv);
    redisFree(c);
    ck_assert(WIFSIGNALED(srv->exit_status));

    rk_server_restart(srv);
    c = rk_connect(srv);
    rk_cmd_bulk(c, "x", "GET rk:d:last1");
    rk_cmd_bulk(c, "y", "GET rk:d:last2");
    rk_cmd_int(c, 2, "DEL rk:d:last1 rk:d:last2");
    check_keys(c, NKEYS);
    /* And it keeps working on the recovered data. */
    rk_cmd_status(c, "OK", "SET rk:d:0 changed");
    rk_cmd_bulk(c, "changed", "GET rk:d:0");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(ttls_survive_restart)
{
    static const char *const args[] = { "--fsync", "always", NULL };
    struct rk_server *srv;
    redisContext *c;
    long long t0, pttl1, pttl2;
    redisReply *r;

    RK_REQUIRE_RINGKV();
    srv = rk_server_start(args);
    c = rk_connect(srv);
    rk_cmd_status(c, "OK", "SET rk:ttl:long v");
    rk_cmd_int(c, 1, "PEXPIRE rk:ttl:long 100000");
    rk_cmd_status(c, "OK", "SET rk:ttl:ex v EX 1000");
    t0 = rk_now_ms();
    rk_cmd_status(c, "OK", "SET rk:ttl:short v PX 1500");
    rk_cmd_status(c, "OK", "SET rk:ttl:none v");
    rk_server_kill9(srv);
    redisFree(c);
    /* Let the short one expire while the server is down. */
    while (rk_now_ms() - t0 < 2000) {
        rk_sleep_ms(50);
    }
    rk_server_restart(srv);
    c = rk_connect(srv);

    r = rk_cmd(c, "PTTL rk:ttl:long");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    pttl1 = r->integer;
    freeReplyObject(r);
    /* The deadline is absolute: the downtime counts. */
    ck_assert_int_gt(pttl1, 0);
    ck_assert_int_le(pttl1, 100000 - 2000);
    ck_assert_int_gt(pttl1, 100000 - 2000 - 15000);
    rk_sleep_ms(200);
    r = rk_cmd(c, "PTTL rk:ttl:long");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    pttl2 = r->integer;
    freeReplyObject(r);
    ck_assert_int_lt(pttl2, pttl1);
    ck_assert_int_gt(pttl2, 0);

    r = rk_cmd(c, "TTL rk:ttl:ex");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_le(r->integer, 998);
    ck_assert_int_gt(r->integer, 980);
    freeReplyObject(r);

    rk_cmd_nil(c, "GET rk:ttl:short");
    rk_cmd_int(c, 0, "EXISTS rk:ttl:short");
    rk_cmd_int(c, -2, "PTTL rk:ttl:short");
    rk_cmd_int(c, -1, "PTTL rk:ttl:none");
    rk_cmd_bulk(c, "v", "GET rk:ttl:none");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(fsync_everysec_survives_kill9_after_a_second)
{
    static const char *const args[] = { "--fsync", "everysec", NULL };
    struct rk_server *srv;
    redisContext *c;

    RK_REQUIRE_RINGKV();
    srv = rk_server_start(args);
    c = rk_connect(srv);
    write_keys(c, NKEYS);
    rk_sleep_ms(1500);
    rk_server_kill9(srv);
    redisFree(c);
    rk_server_restart(srv);
    c = rk_connect(srv);
    check_keys(c, NKEYS);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/* Write, stop with sig, expect exit 0, restart, find everything. */
static void
clean_exit_keeps_data(int sig, const char *fsync)
{
    const char *const args[] = { "--fsync", fsync, NULL };
    struct rk_server *srv = rk_server_start(args);
    redisContext *c = rk_connect(srv);
    int st;

    write_keys(c, NKEYS);
    st = rk_server_signal_wait(srv, sig, 15000);
    redisFree(c);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "after signal %d: status 0x%x (%s)", sig, (unsigned)st,
                  WIFSIGNALED(st) ? "killed" : "exited");
    rk_server_restart(srv);
    c = rk_connect(srv);
    check_keys(c, NKEYS);
    redisFree(c);
    rk_server_stop(srv);
}

START_TEST(sigterm_exits_zero_and_flushes)
{
    RK_REQUIRE_RINGKV();
    clean_exit_keeps_data(SIGTERM, "no");
}
END_TEST

START_TEST(sigint_exits_zero_and_flushes)
{
    RK_REQUIRE_RINGKV();
    clean_exit_keeps_data(SIGINT, "everysec");
}
END_TEST

START_TEST(answers_ping_within_a_second)
{
    struct rk_server *srv;
    long long t0, elapsed;

    RK_REQUIRE_RINGKV();
    t0 = rk_now_ms();
    srv = rk_server_start(NULL);
    elapsed = rk_now_ms() - t0;
    /* rk_server_start() polls every 50 ms; leave it some slack. */
    ck_assert_msg(elapsed < 1200, "first PING answered after %lld ms",
                  elapsed);
    rk_server_stop(srv);
}
END_TEST

/*
 * Run the server with --bind 127.0.0.1 --port P --data-dir D plus extra
 * (port 0: pick one; dir NULL: a fresh one under tmp). It must exit
 * non-zero within 10 s with one line of output that contains needle.
 * Returns NULL when it did, else why not (a static buffer), so that the
 * caller can clean up before failing.
 */
static const char *
startup_failure(int port, const char *dir, const char *extra1,
                const char *extra2, const char *needle)
{
    static char why[9000];
    char out[8192], port_s[16], tmpdir[256];
    const char *args[12];
    size_t n = 0, lines = 0, i;
    int st;

    tmpdir[0] = '\0';
    if (port == 0) {
        port = rk_free_port();
    }
    if (dir == NULL) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/ringkv-test-XXXXXX");
        ck_assert(mkdtemp(tmpdir) != NULL);
        dir = tmpdir;
    }
    snprintf(port_s, sizeof(port_s), "%d", port);
    args[n++] = "--bind";
    args[n++] = "127.0.0.1";
    args[n++] = "--port";
    args[n++] = port_s;
    args[n++] = "--data-dir";
    args[n++] = dir;
    if (extra1 != NULL) {
        args[n++] = extra1;
    }
    if (extra2 != NULL) {
        args[n++] = extra2;
    }
    args[n] = NULL;
    st = rk_run_binary(args, 10000, out, sizeof(out));
    if (tmpdir[0] != '\0') {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
    }
    for (i = 0; out[i] != '\0'; i++) {
        if (out[i] == '\n') {
            lines++;
        }
    }
    if (st == -1) {
        snprintf(why, sizeof(why), "%s %s: still running after 10 s; "
                 "output:\n%s", extra1 ? extra1 : "", extra2 ? extra2 : "",
                 out);
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) == 0) {
        snprintf(why, sizeof(why), "%s %s: status 0x%x, expected a "
                 "non-zero exit; output:\n%s", extra1 ? extra1 : "",
                 extra2 ? extra2 : "", (unsigned)st, out);
    } else if (lines != 1 || out[strlen(out) - 1] != '\n') {
        snprintf(why, sizeof(why), "%s %s: expected a one-line error, got "
                 "%zu lines:\n%s", extra1 ? extra1 : "",
                 extra2 ? extra2 : "", lines, out);
    } else if (strstr(out, needle) == NULL) {
        snprintf(why, sizeof(why), "%s %s: the error does not mention "
                 "'%s': %s", extra1 ? extra1 : "", extra2 ? extra2 : "",
                 needle, out);
    } else {
        return NULL;
    }
    return why;
}

static void
expect_startup_failure(int port, const char *dir, const char *extra1,
                       const char *extra2, const char *needle)
{
    const char *why = startup_failure(port, dir, extra1, extra2, needle);

    ck_assert_msg(why == NULL, "%s", why);
}

START_TEST(data_dir_is_a_file)
{
    char base[] = "/tmp/ringkv-test-XXXXXX", path[300], cmd[300];
    const char *why1, *why2;
    int fd;

    RK_REQUIRE_RINGKV();
    ck_assert(mkdtemp(base) != NULL);
    snprintf(path, sizeof(path), "%s/plainfile", base);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    ck_assert(fd >= 0);
    ck_assert_int_eq(write(fd, "x\n", 2), 2);
    close(fd);
    why1 = startup_failure(0, path, NULL, NULL, path);
    if (why1 != NULL) {
        why1 = strdup(why1);     /* the next call reuses the buffer */
    }

    /* A data dir below a regular file. */
    snprintf(path, sizeof(path), "%s/plainfile/data", base);
    why2 = startup_failure(0, path, NULL, NULL, "plainfile");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(why1 == NULL, "data dir is a file: %s", why1);
    free((char *)why1);
    ck_assert_msg(why2 == NULL, "data dir below a file: %s", why2);
}
END_TEST

START_TEST(data_dir_without_permission)
{
    char base[] = "/tmp/ringkv-test-XXXXXX", path[300], cmd[300];
    const char *why;

    RK_REQUIRE_RINGKV();
    if (geteuid() == 0) {
        fprintf(stderr, "%s: skipped (root ignores permissions)\n",
                __func__);
        return;
    }
    ck_assert(mkdtemp(base) != NULL);
    snprintf(path, sizeof(path), "%s/data", base);
    ck_assert_int_eq(mkdir(path, 0500), 0);
    why = startup_failure(0, path, NULL, NULL, path);
    chmod(path, 0700);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_msg(why == NULL, "%s", why);
}
END_TEST

START_TEST(busy_port)
{
    struct sockaddr_in sa;
    const char *why;
    char port_s[16];
    int fd, port, one = 1;

    RK_REQUIRE_RINGKV();
    port = rk_free_port();
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    snprintf(port_s, sizeof(port_s), "%d", port);
    why = startup_failure(port, NULL, NULL, NULL, port_s);
    close(fd);
    ck_assert_msg(why == NULL, "%s", why);
}
END_TEST

START_TEST(bad_flags)
{
    RK_REQUIRE_RINGKV();
    expect_startup_failure(0, NULL, "--no-such-flag", "x", "no-such-flag");
    expect_startup_failure(0, NULL, "--fsync", "sometimes", "fsync");
    expect_startup_failure(0, NULL, "--threads", "lots", "threads");
    expect_startup_failure(0, NULL, "--cache-size", "12parsecs",
                           "cache-size");
    /* A flag without its value. */
    expect_startup_failure(0, NULL, "--requirepass", NULL, "requirepass");
}
END_TEST

START_TEST(missing_config_file)
{
    char out[4096], port_s[16];
    const char *args[] = {
        "/nonexistent/ringkv.conf", "--bind", "127.0.0.1", "--port", port_s,
        "--data-dir", "/tmp/ringkv-never-created", NULL
    };
    int st;

    RK_REQUIRE_RINGKV();
    snprintf(port_s, sizeof(port_s), "%d", rk_free_port());
    st = rk_run_binary(args, 10000, out, sizeof(out));
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0,
                  "status 0x%x: %s", (unsigned)st, out);
    ck_assert_msg(strstr(out, "/nonexistent/ringkv.conf") != NULL, "%s",
                  out);
}
END_TEST

START_TEST(bad_port_values)
{
    char out[4096];
    const char *args[] = {
        "--bind", "127.0.0.1", "--port", "notaport", "--data-dir",
        "/tmp/ringkv-never-created", NULL
    };
    int st;

    RK_REQUIRE_RINGKV();
    st = rk_run_binary(args, 10000, out, sizeof(out));
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0,
                  "--port notaport: status 0x%x: %s", (unsigned)st, out);
    ck_assert_msg(strstr(out, "port") != NULL, "%s", out);
    args[3] = "70000";
    st = rk_run_binary(args, 10000, out, sizeof(out));
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0,
                  "--port 70000: status 0x%x: %s", (unsigned)st, out);
    ck_assert_msg(strstr(out, "port") != NULL, "%s", out);
}
END_TEST

static Suite *
durability_suite(void)
{
    Suite *s = suite_create("durability");
    TCase *tc = rk_tcase(s, "durability", 120);

    tcase_add_test(tc, fsync_always_survives_kill9);
    tcase_add_test(tc, ttls_survive_restart);
    tcase_add_test(tc, fsync_everysec_survives_kill9_after_a_second);
    tcase_add_test(tc, sigterm_exits_zero_and_flushes);
    tcase_add_test(tc, sigint_exits_zero_and_flushes);
    tcase_add_test(tc, answers_ping_within_a_second);
    tcase_add_test(tc, data_dir_is_a_file);
    tcase_add_test(tc, data_dir_without_permission);
    tcase_add_test(tc, busy_port);
    tcase_add_test(tc, bad_flags);
    tcase_add_test(tc, missing_config_file);
    tcase_add_test(tc, bad_port_values);
    return s;
}

int
main(void)
{
    return rk_run_suite(durability_suite());
}
