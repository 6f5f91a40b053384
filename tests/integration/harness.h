/*
 * tests/integration/harness.h - spawn, reach and stop ringkv-server for the
 * Check + hiredis integration suites.
 *
 * rk_server_start() runs $RINGKV_BIN on a free loopback port with a fresh
 * temporary directory T (mkdtemp): the data dir is T/data and the server's
 * stdout and stderr go to T/server.log. It waits until the server answers
 * PING. No server outlives its test: the server gets PR_SET_PDEATHSIG, and
 * a small watchdog process kills it, prints its log and removes T when the
 * test process dies without rk_server_stop() (a failed Check assertion
 * _exit()s the forked test process; with CK_FORK=no the harness teardown
 * of rk_tcase() does the same).
 *
 * If the environment has RINGKV_TEST_REDIS_PORT, rk_server_start() returns
 * a handle to that already running server instead (a real redis-server, to
 * prove a test's expectations); tests that need ringkv itself (restarts,
 * kill -9, ringkv-only flags or replies) call RK_REQUIRE_RINGKV() first and
 * pass trivially there. The server must be dedicated to the tests (each
 * start flushes it and kills its other clients):
 *
 *   redis-server --bind 127.0.0.1 --port P --save '' --appendonly no &
 *   RINGKV_TEST_REDIS_PORT=P meson test -C build --suite integration
 *
 * With RINGKV_TEST_CLUSTER=1 as well, that server is a node of a ringkv
 * cluster (test_suites_on_cluster.sh): tests whose keys span slots in one
 * transaction, or that need one node's semantics, call
 * RK_REQUIRE_ONE_NODE() and pass trivially there.
 *
 * Implemented by harness_proc.c (ports, spawning, the watchdog, start/stop,
 * logs, the suite runner) and harness_assert.c (connections, rk_cmd_*,
 * rk_assert_*, raw sockets, INFO fields).
 */
#ifndef RK_HARNESS_H
#define RK_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <hiredis/hiredis.h>

/* One server under test. Fields are read-only for tests. */
struct rk_server {
    pid_t pid;            /* server process; 0 when external or stopped */
    pid_t owner;          /* process that started it and must kill it */
    int port;             /* client port on 127.0.0.1 */
    int external;         /* 1: RINGKV_TEST_REDIS_PORT, not ours */
    int exit_status;      /* waitpid() status once it has exited, or -1 */
    char base_dir[512];   /* T: mkdtemp(), removed by rk_server_stop() */
    char data_dir[600];   /* T/data, or "" when external */
    char log_path[600];   /* T/server.log */
    int watchdog_fd;      /* write end of the watchdog's pipe, or -1 */
    pid_t watchdog;       /* watchdog process, or 0 */
    char **extra;         /* copy of the extra arguments, for restarts */
    size_t nextra;
};

/* 1 when the suites run against an external server (see above). */
int rk_is_external(void);

/* 1 when that external server is a cluster node (see above). */
int rk_in_cluster(void);

/*
 * Skip the rest of the calling test (it passes) when running against a
 * cluster node: cross-slot transactions (-CROSSSLOT there), one node's
 * SCAN cursors.
 */
#define RK_REQUIRE_ONE_NODE()                                           \
    do {                                                                \
        if (rk_in_cluster()) {                                          \
            fprintf(stderr, "%s: skipped (one node only)\n", __func__); \
            return;                                                     \
        }                                                               \
    } while (0)

/*
 * Skip the rest of the calling test (it passes) when running against an
 * external server: for restarts, kill -9, ringkv-only flags and replies.
 */
#define RK_REQUIRE_RINGKV()                                             \
    do {                                                                \
        if (rk_is_external()) {                                         \
            fprintf(stderr, "%s: skipped (ringkv only)\n", __func__);   \
            return;                                                     \
        }                                                               \
    } while (0)

/*
 * Start ringkv-server with --bind 127.0.0.1 --port P --data-dir D followed
 * by extra_args (NULL-terminated; may be NULL), and wait up to 10 s until it
 * answers PING (any reply counts, so -NOAUTH does too). Fails the current
 * test (ck_abort) if it cannot. The caller owns the result and releases it
 * with rk_server_stop(). Against an external server, extra_args are ignored
 * and the server is reset instead: FLUSHALL, CONFIG RESETSTAT, SLOWLOG
 * RESET, default limits, other normal clients killed.
 */
struct rk_server *rk_server_start(const char *const *extra_args);

/*
 * SIGTERM, wait up to 10 s (then SIGKILL), remove the data dir and free the
 * handle. NULL is a no-op; an external server is left running.
 */
void rk_server_stop(struct rk_server *srv);

/*
 * Send sig to the server and wait up to timeout_ms for it to exit (SIGKILL
 * after that). Returns the waitpid() status, also kept in exit_status. The
 * data dir is kept; rk_server_restart() may follow.
 */
int rk_server_signal_wait(struct rk_server *srv, int sig, int timeout_ms);

/* kill -9 the server and reap it; the data dir is kept. */
void rk_server_kill9(struct rk_server *srv);

/*
 * Wait up to timeout_ms for the server to exit by itself (SHUTDOWN).
 * Returns its waitpid() status, or -1 on timeout (it keeps running).
 */
int rk_server_wait_exit(struct rk_server *srv, int timeout_ms);

/*
 * Start the server again on the same data dir with the same extra
 * arguments, after it has exited (a running one is killed with -9 first).
 * The port is picked afresh: read srv->port again.
 */
void rk_server_restart(struct rk_server *srv);

/* The data dir (valid while srv lives), or "" when external. */
const char *rk_server_data_dir(const struct rk_server *srv);

/* Print the server log (last max_bytes bytes) to stderr. */
void rk_server_dump_log(const struct rk_server *srv, size_t max_bytes);

/* The server's resident set size in KiB (/proc/PID/status), -1 if unknown. */
long rk_server_rss_kb(const struct rk_server *srv);

/*
 * Connect with hiredis (5 s connect timeout, 10 s reply timeout). Fails
 * the test if the connection cannot be made. Free with redisFree().
 */
redisContext *rk_connect(struct rk_server *srv);

/* Like rk_connect() but returns NULL (no failure) when it cannot. */
redisContext *rk_try_connect(struct rk_server *srv);

/*
 * The command helpers below fail the test (naming the caller's file and
 * line) when the connection breaks or the reply is not the expected one.
 *
 * rk_cmd(): redisCommand(); the caller frees the reply (freeReplyObject).
 * rk_cmd_status(c, "OK", fmt, ...): a status reply with exactly that text.
 * rk_cmd_error(c, "ERR ...", fmt, ...): an error reply with exactly that
 *     text (without the leading '-').
 * rk_cmd_int(c, n, fmt, ...), rk_cmd_bulk(c, "s", fmt, ...),
 * rk_cmd_nil(c, fmt, ...): an integer, a bulk string, a nil.
 * rk_get_reply(c): the next pipelined reply (redisGetReply); caller frees.
 * rk_assert_*(r, ...): the same checks on a reply already read (not freed).
 */
#define rk_cmd(c, ...) rk_cmd_at(__FILE__, __LINE__, (c), __VA_ARGS__)
#define rk_cmd_status(c, st, ...)                                       \
    rk_cmd_status_at(__FILE__, __LINE__, (c), (st), __VA_ARGS__)
#define rk_cmd_error(c, err, ...)                                       \
    rk_cmd_error_at(__FILE__, __LINE__, (c), (err), __VA_ARGS__)
#define rk_cmd_int(c, n, ...)                                           \
    rk_cmd_int_at(__FILE__, __LINE__, (c), (n), __VA_ARGS__)
#define rk_cmd_bulk(c, s, ...)                                          \
    rk_cmd_bulk_at(__FILE__, __LINE__, (c), (s), __VA_ARGS__)
#define rk_cmd_nil(c, ...)                                              \
    rk_cmd_nil_at(__FILE__, __LINE__, (c), __VA_ARGS__)
#define rk_get_reply(c) rk_get_reply_at(__FILE__, __LINE__, (c))
#define rk_assert_status(r, st)                                         \
    rk_assert_status_at(__FILE__, __LINE__, (r), (st))
#define rk_assert_error(r, err)                                         \
    rk_assert_error_at(__FILE__, __LINE__, (r), (err))
#define rk_assert_int(r, n) rk_assert_int_at(__FILE__, __LINE__, (r), (n))
#define rk_assert_bulk(r, s) rk_assert_bulk_at(__FILE__, __LINE__, (r), (s))
#define rk_assert_nil(r) rk_assert_nil_at(__FILE__, __LINE__, (r))
#define rk_assert_array(r, n)                                           \
    rk_assert_array_at(__FILE__, __LINE__, (r), (n))

redisReply *rk_cmd_at(const char *file, int line, redisContext *c,
                      const char *fmt, ...);
void rk_cmd_status_at(const char *file, int line, redisContext *c,
                      const char *status, const char *fmt, ...);
void rk_cmd_error_at(const char *file, int line, redisContext *c,
                     const char *err, const char *fmt, ...);
void rk_cmd_int_at(const char *file, int line, redisContext *c, long long n,
                   const char *fmt, ...);
void rk_cmd_bulk_at(const char *file, int line, redisContext *c,
                    const char *s, const char *fmt, ...);
void rk_cmd_nil_at(const char *file, int line, redisContext *c,
                   const char *fmt, ...);
redisReply *rk_get_reply_at(const char *file, int line, redisContext *c);
void rk_assert_status_at(const char *file, int line, const redisReply *r,
                         const char *status);
void rk_assert_error_at(const char *file, int line, const redisReply *r,
                        const char *err);
void rk_assert_int_at(const char *file, int line, const redisReply *r,
                      long long n);
void rk_assert_bulk_at(const char *file, int line, const redisReply *r,
                       const char *s);
void rk_assert_nil_at(const char *file, int line, const redisReply *r);
/* An array reply of exactly n elements (n < 0: any length). */
void rk_assert_array_at(const char *file, int line, const redisReply *r,
                        long n);

/*
 * Describe a reply for a failure message ("error 'ERR x'", "nil", ...)
 * into buf (always NUL-terminated); returns buf.
 */
char *rk_reply_describe(const redisReply *r, char *buf, size_t len);

/*
 * Raw sockets for protocol tests. rk_raw_connect() returns a blocking TCP
 * socket to the server (fails the test if it cannot connect); close() it.
 * rk_raw_send() writes everything or fails the test (MSG_NOSIGNAL).
 * rk_raw_read() reads until len bytes, EOF, an error or timeout_ms; returns
 * the byte count (a NUL is appended: buf needs len + 1 bytes).
 * rk_raw_expect() reads strlen(expected) bytes and asserts they are equal.
 * rk_raw_wait_closed() waits until the peer closes (EOF or reset),
 * discarding data: returns 1 when closed, 0 on timeout.
 */
int rk_raw_connect(const struct rk_server *srv);
void rk_raw_send(int fd, const void *buf, size_t len);
void rk_raw_send_str(int fd, const char *s);
size_t rk_raw_read(int fd, char *buf, size_t len, int timeout_ms);
#define rk_raw_expect(fd, exp, ms)                                      \
    rk_raw_expect_at(__FILE__, __LINE__, (fd), (exp), (ms))
void rk_raw_expect_at(const char *file, int line, int fd,
                      const char *expected, int timeout_ms);
int rk_raw_wait_closed(int fd, int timeout_ms);

/*
 * Run $RINGKV_BIN with exactly args (NULL-terminated; argv[0] is added),
 * stdout and stderr captured into out (outlen bytes, NUL-terminated,
 * truncated). Waits up to timeout_ms for it to exit, then kills it.
 * Returns the waitpid() status, or -1 if it had to be killed.
 */
int rk_run_binary(const char *const *args, int timeout_ms, char *out,
                  size_t outlen);

/* The password tests use for requirepass (reset by the harness). */
#define RK_TEST_PASSWORD "rk-test-secret"

/* Pick a free loopback port P whose P + 10000 is free too. */
int rk_free_port(void);

/* Milliseconds from a monotonic clock; sleep for ms milliseconds. */
long long rk_now_ms(void);
void rk_sleep_ms(long ms);

/*
 * Look up "field:" in an INFO reply text and copy its value (up to CR/LF)
 * into out. Returns 1 if found, 0 if not.
 */
int rk_info_field(const char *info, const char *field, char *out,
                  size_t outlen);

/*
 * Run a suite the standard way: srunner_run_all(sr, CK_ENV). Returns the
 * process exit code for main(): 0 when every test passed.
 */
int rk_run_suite(Suite *s);

/*
 * A TCase in the suite with the given timeout (seconds) and the harness's
 * checked teardown (kills and reports servers a failed test left behind).
 */
TCase *rk_tcase(Suite *s, const char *name, double timeout);

#endif /* RK_HARNESS_H */
