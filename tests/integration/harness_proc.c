/*
 * tests/integration/harness_proc.c - the server side of the integration
 * harness (harness.h): free loopback ports, spawning $RINGKV_BIN with a
 * temporary data dir and log, the watchdog that kills a server whose test
 * process died, the external-server mode (RINGKV_TEST_REDIS_PORT),
 * start/stop/kill/restart, server logs, rk_run_binary(), and the Check
 * suite runner whose teardown kills the servers a failed test left behind.
 */
#include "harness.h"
#include "harness_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RK_MAX_SERVERS 32
#define RK_START_TIMEOUT_MS 10000
#define RK_STOP_TIMEOUT_MS 10000
#define RK_LOG_TAIL 8192

/* Servers started by this process image (children see the parent's). */
static struct rk_server *registry[RK_MAX_SERVERS];
static int atexit_registered;

/* One message to the watchdog: 'P' new server pid, 'S' stopped, exit. */
struct wd_msg {
    char op;
    pid_t pid;
};

long long
rk_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rk_sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        continue;
    }
}

int
rk_is_external(void)
{
    const char *p = getenv("RINGKV_TEST_REDIS_PORT");

    return p != NULL && *p != '\0';
}

int
rk_in_cluster(void)
{
    const char *p = getenv("RINGKV_TEST_CLUSTER");

    return rk_is_external() && p != NULL && *p != '\0';
}

static const char *
server_bin(void)
{
    const char *bin = getenv("RINGKV_BIN");

    if (bin == NULL || *bin == '\0') {
        ck_abort_msg("RINGKV_BIN is not set (meson test sets it)");
    }
    return bin;
}

/* Ignore SIGPIPE once: tests write to sockets the server has closed. */
void
harness_ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    chmod(path, 0700);
    remove(path);
    return 0;
}

static void
remove_tree(const char *path)
{
    if (path[0] != '\0') {
        chmod(path, 0700);
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void
dump_file_tail(const char *path, size_t max_bytes, FILE *to)
{
    FILE *f = fopen(path, "r");
    char buf[4096];
    long size;
    size_t n;

    if (f == NULL) {
        fprintf(to, "(no log at %s)\n", path);
        return;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    if (size > (long)max_bytes) {
        fseek(f, size - (long)max_bytes, SEEK_SET);
        fprintf(to, "... (last %zu bytes)\n", max_bytes);
    } else {
        fseek(f, 0, SEEK_SET);
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        fwrite(buf, 1, n, to);
    }
    fclose(f);
    fflush(to);
}

void
rk_server_dump_log(const struct rk_server *srv, size_t max_bytes)
{
    if (srv == NULL || srv->external) {
        return;
    }
    fprintf(stderr, "---- ringkv-server log (%s) ----\n", srv->log_path);
    dump_file_tail(srv->log_path, max_bytes, stderr);
    fprintf(stderr, "---- end of log ----\n");
}

/* ---- ports ------------------------------------------------------------ */

static int
port_bindable(int port)
{
    struct sockaddr_in sa;
    int fd, ok;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static int
ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int lo = 32768, hi = 60999;

    if (f != NULL) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2) {
            lo = 32768;
        }
        fclose(f);
    }
    return lo;
}

/*
 * A free port P with P + 10000 (the cluster port) free too. Both are taken
 * below the kernel's ephemeral range when it leaves room, so that outgoing
 * connections made by the tests can never grab a port just handed out;
 * otherwise the kernel picks (bind to port 0).
 */
int
rk_free_port(void)
{
    static unsigned seed;
    int lo = 10240, hi = ephemeral_low() - 10000 - 1;
    int i;

    if (seed == 0) {
        struct timespec ts;

        /* Processes started in the same millisecond must not pick the
         * same ports: mix in the pid's bits and nanoseconds. */
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^
               (unsigned)ts.tv_sec;
    }
    for (i = 0; i < 500; i++) {
        int port;

        if (hi - lo > 1000) {
            port = lo + (int)(rand_r(&seed) % (unsigned)(hi - lo));
        } else {
            struct sockaddr_in sa;
            socklen_t len = sizeof(sa);
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

            memset(&sa, 0, sizeof(sa));
            sa.sin_family = AF_INET;
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0
                || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
                if (fd >= 0) {
                    close(fd);
                }
                continue;
            }
            port = ntohs(sa.sin_port);
            close(fd);
        }
        if (port + 10000 > 65535) {
            continue;
        }
        if (port_bindable(port) && port_bindable(port + 10000)) {
            return port;
        }
    }
    ck_abort_msg("no free loopback port pair found");
    return -1;
}

/* ---- registry and cleanup --------------------------------------------- */

static void
registry_add(struct rk_server *srv)
{
    int i;

    for (i = 0; i < RK_MAX_SERVERS; i++) {
        if (registry[i] == NULL) {
            registry[i] = srv;
            return;
        }
    }
    ck_abort_msg("harness: too many servers at once");
}

static void
registry_del(struct rk_server *srv)
{
    int i;

    for (i = 0; i < RK_MAX_SERVERS; i++) {
        if (registry[i] == srv) {
            registry[i] = NULL;
        }
    }
}

static void
wd_send(struct rk_server *srv, char op, pid_t pid)
{
    struct wd_msg m;
    ssize_t n;

    if (srv->watchdog_fd < 0) {
        return;
    }
    memset(&m, 0, sizeof(m));
    m.op = op;
    m.pid = pid;
    do {
        n = write(srv->watchdog_fd, &m, sizeof(m));
    } while (n < 0 && errno == EINTR);
}

/* Reap pid, waiting at most timeout_ms. Returns the status or -1. */
static int
reap(pid_t pid, int timeout_ms)
{
    long long deadline = rk_now_ms() + timeout_ms;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return status;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (rk_now_ms() >= deadline) {
            return -1;
        }
        rk_sleep_ms(10);
    }
}

/* Kill the process (sig, then SIGKILL after timeout_ms) and reap it. */
static int
kill_reap(pid_t pid, int sig, int timeout_ms)
{
    int status;

    if (kill(pid, sig) != 0 && errno == ESRCH) {
        /* Already gone (a zombie still answers kill(), so reap now). */
        return reap(pid, 1000);
    }
    status = reap(pid, timeout_ms);
    if (status == -1) {
        kill(pid, SIGKILL);
        status = reap(pid, 5000);
    }
    return status;
}

/* Free the copies of the extra arguments. */
static void
free_extra(struct rk_server *srv)
{
    for (size_t i = 0; srv->extra != NULL && i < srv->nextra; i++) {
        free(srv->extra[i]);
    }
    free(srv->extra);
    srv->extra = NULL;
}

/* Kill and forget a server this process owns; quiet when !report. */
static void
server_cleanup(struct rk_server *srv, int report)
{
    if (srv->owner != getpid()) {
        return;
    }
    if (report) {
        fprintf(stderr, "harness: test left ringkv-server (pid %d, port %d)"
                " running; it probably failed. Killing it.\n",
                (int)srv->pid, srv->port);
        rk_server_dump_log(srv, RK_LOG_TAIL);
    }
    if (srv->pid > 0) {
        kill_reap(srv->pid, SIGKILL, 5000);
        srv->pid = 0;
    }
    wd_send(srv, 'S', 0);
    if (srv->watchdog_fd >= 0) {
        close(srv->watchdog_fd);
        srv->watchdog_fd = -1;
    }
    if (srv->watchdog > 0) {
        reap(srv->watchdog, 5000);
        srv->watchdog = 0;
    }
    remove_tree(srv->base_dir);
    registry_del(srv);
}

static void
harness_atexit(void)
{
    int i;

    for (i = 0; i < RK_MAX_SERVERS; i++) {
        if (registry[i] != NULL && registry[i]->owner == getpid()) {
            server_cleanup(registry[i], 0);
        }
    }
}

/* Checked teardown: servers still registered here belong to a test that
 * did not reach rk_server_stop(). */
static void
harness_teardown(void)
{
    int i;

    for (i = 0; i < RK_MAX_SERVERS; i++) {
        struct rk_server *srv = registry[i];

        if (srv != NULL && srv->owner == getpid()) {
            server_cleanup(srv, 1);
            free_extra(srv);
            free(srv);
        }
    }
}

/*
 * The watchdog: blocks on its pipe; on 'S' it exits, on 'P' it learns the
 * new server pid, and on EOF (the test process died without stopping the
 * server) it kills the server, prints the log and removes the directory.
 */
static void
watchdog_run(int rfd, pid_t server, pid_t owner, const char *base,
             const char *log)
{
    struct wd_msg m;
    ssize_t n;

    for (;;) {
        n = read(rfd, &m, sizeof(m));
        if (n == (ssize_t)sizeof(m)) {
            if (m.op == 'S') {
                _exit(0);
            }
            if (m.op == 'P') {
                server = m.pid;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
    if (server > 0) {
        kill(server, SIGKILL);
    }
    fprintf(stderr, "harness: test process %d died with ringkv-server %d "
            "still running (failed assertion or crash); server log:\n",
            (int)owner, (int)server);
    dump_file_tail(log, RK_LOG_TAIL, stderr);
    fprintf(stderr, "---- end of log ----\n");
    rk_sleep_ms(200);
    remove_tree(base);
    _exit(0);
}

static void
start_watchdog(struct rk_server *srv)
{
    int p[2];
    pid_t owner = getpid();
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) != 0) {
        ck_abort_msg("pipe: %s", strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        ck_abort_msg("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int fd;

        /* Own process group: outlives a killpg() of the test. */
        setpgid(0, 0);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        for (fd = 3; fd < 1024; fd++) {
            if (fd != p[0]) {
                close(fd);
            }
        }
        watchdog_run(p[0], srv->pid, owner, srv->base_dir, srv->log_path);
    }
    close(p[0]);
    srv->watchdog = pid;
    srv->watchdog_fd = p[1];
}

/* ---- spawning ---------------------------------------------------------- */

/* In a child before exec: drop the test's sockets and pipes. */
static void
close_from(int first)
{
    int fd;

    for (fd = first; fd < 1024; fd++) {
        close(fd);
    }
}

/* fork + exec $RINGKV_BIN argv with output to the log; returns the pid. */
static pid_t
spawn(char *const *argv, const char *log_path)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid < 0) {
        ck_abort_msg("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int fd;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        signal(SIGPIPE, SIG_DFL);
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 0);
            close(fd);
        }
        fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        close_from(3);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Any reply to PING within the deadline means the server is up. */
static int
answers_ping(int port)
{
    struct timeval tv = { 0, 300000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r;
    int ok = 0;

    if (c == NULL) {
        return 0;
    }
    if (!c->err) {
        tv.tv_sec = 2;
        tv.tv_usec = 0;
        redisSetTimeout(c, tv);
        r = redisCommand(c, "PING");
        if (r != NULL) {
            ok = 1;
            freeReplyObject(r);
        }
    }
    redisFree(c);
    return ok;
}

static int
log_mentions(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int found = 0;

    if (f == NULL) {
        return 0;
    }
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, what) != NULL;
    }
    fclose(f);
    return found;
}

/*
 * Start the server process for srv (data dir and extra args set), on a
 * fresh port; retried on a fresh port when the port turned out to be busy.
 * Fails the test when the server does not come up.
 */
static void
launch(struct rk_server *srv)
{
    int attempt;

    for (attempt = 0; attempt < 3; attempt++) {
        char port_s[16];
        char **argv;
        size_t i, n = 0;
        long long deadline;
        int status;

        srv->port = rk_free_port();
        snprintf(port_s, sizeof(port_s), "%d", srv->port);
        argv = calloc(srv->nextra + 10, sizeof(*argv));
        ck_assert(argv != NULL);
        argv[n++] = (char *)server_bin();
        i = 0;
        /* A config file (a first extra argument that is no flag) leads. */
        if (srv->nextra > 0 && strncmp(srv->extra[0], "--", 2) != 0) {
            argv[n++] = srv->extra[i++];
        }
        argv[n++] = "--bind";
        argv[n++] = "127.0.0.1";
        argv[n++] = "--port";
        argv[n++] = port_s;
        argv[n++] = "--data-dir";
        argv[n++] = srv->data_dir;
        for (; i < srv->nextra; i++) {
            argv[n++] = srv->extra[i];
        }
        argv[n] = NULL;
        {
            FILE *f = fopen(srv->log_path, "a");

            if (f != NULL) {
                fprintf(f, "harness: starting");
                for (i = 0; i < n; i++) {
                    fprintf(f, " %s", argv[i]);
                }
                fprintf(f, "\n");
                fclose(f);
            }
        }
        srv->pid = spawn(argv, srv->log_path);
        free(argv);
        srv->exit_status = -1;
        wd_send(srv, 'P', srv->pid);

        deadline = rk_now_ms() + RK_START_TIMEOUT_MS;
        status = -1;
        while (rk_now_ms() < deadline) {
            if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
                break;
            }
            status = -1;
            if (answers_ping(srv->port)) {
                return;
            }
            rk_sleep_ms(50);
        }
        if (status == -1) {
            status = kill_reap(srv->pid, SIGKILL, 2000);
            srv->pid = 0;
            wd_send(srv, 'P', 0);
            rk_server_dump_log(srv, RK_LOG_TAIL);
            ck_abort_msg("ringkv-server did not answer PING on port %d "
                         "within %d ms", srv->port, RK_START_TIMEOUT_MS);
        }
        srv->pid = 0;
        srv->exit_status = status;
        wd_send(srv, 'P', 0);
        if (!log_mentions(srv->log_path, "in use")) {
            rk_server_dump_log(srv, RK_LOG_TAIL);
            ck_abort_msg("ringkv-server exited during start-up (status "
                         "0x%x)", (unsigned)status);
        }
    }
    rk_server_dump_log(srv, RK_LOG_TAIL);
    ck_abort_msg("ringkv-server: port busy three times in a row");
}

static void
external_reset(struct rk_server *srv)
{
    static const char *const sets[][2] = {
        { "requirepass", "" },
        { "maxclients", "10000" },
        { "timeout", "0" },
        { "proto-max-bulk-len", "536870912" },
        { "client-query-buffer-limit", "1073741824" },
        { "client-output-buffer-limit", "normal 0 0 0" },
        { "slowlog-log-slower-than", "10000" },
        { "slowlog-max-len", "128" },
    };
    redisContext *c = rk_connect(srv);
    redisReply *r;
    size_t i;

    r = redisCommand(c, "PING");
    ck_assert_msg(r != NULL, "external server: %s", c->errstr);
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0) {
        freeReplyObject(r);
        r = redisCommand(c, "AUTH %s", RK_TEST_PASSWORD);
        ck_assert(r != NULL);
    }
    freeReplyObject(r);
    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        rk_cmd_status(c, "OK", "CONFIG SET %s %s", sets[i][0], sets[i][1]);
    }
    rk_cmd_status(c, "OK", "FLUSHALL");
    rk_cmd_status(c, "OK", "SLOWLOG RESET");
    r = rk_cmd(c, "CLIENT KILL TYPE normal SKIPME yes");
    freeReplyObject(r);
    rk_cmd_status(c, "OK", "CONFIG RESETSTAT");
    redisFree(c);
}

struct rk_server *
rk_server_start(const char *const *extra_args)
{
    struct rk_server *srv;
    const char *tmp;
    size_t n = 0;

    harness_ignore_sigpipe();
    srv = calloc(1, sizeof(*srv));
    ck_assert(srv != NULL);
    srv->owner = getpid();
    srv->exit_status = -1;
    srv->watchdog_fd = -1;
    if (rk_is_external()) {
        srv->external = 1;
        srv->port = atoi(getenv("RINGKV_TEST_REDIS_PORT"));
        external_reset(srv);
        return srv;
    }
    while (extra_args != NULL && extra_args[n] != NULL) {
        n++;
    }
    srv->extra = calloc(n + 1, sizeof(*srv->extra));
    ck_assert(srv->extra != NULL);
    for (srv->nextra = 0; srv->nextra < n; srv->nextra++) {
        srv->extra[srv->nextra] = strdup(extra_args[srv->nextra]);
        ck_assert(srv->extra[srv->nextra] != NULL);
    }
    tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0') {
        tmp = "/tmp";
    }
    snprintf(srv->base_dir, sizeof(srv->base_dir), "%s/ringkv-test-XXXXXX",
             tmp);
    if (mkdtemp(srv->base_dir) == NULL) {
        ck_abort_msg("mkdtemp %s: %s", srv->base_dir, strerror(errno));
    }
    snprintf(srv->data_dir, sizeof(srv->data_dir), "%s/data", srv->base_dir);
    snprintf(srv->log_path, sizeof(srv->log_path), "%s/server.log",
             srv->base_dir);
    if (mkdir(srv->data_dir, 0700) != 0) {
        ck_abort_msg("mkdir %s: %s", srv->data_dir, strerror(errno));
    }
    if (!atexit_registered) {
        atexit(harness_atexit);
        atexit_registered = 1;
    }
    registry_add(srv);
    start_watchdog(srv);
    launch(srv);
    return srv;
}

void
rk_server_stop(struct rk_server *srv)
{
    if (srv == NULL) {
        return;
    }
    if (!srv->external && srv->owner == getpid()) {
        if (srv->pid > 0) {
            int st;

            /* Did it die behind our back during the test? */
            if (waitpid(srv->pid, &st, WNOHANG) == srv->pid) {
                fprintf(stderr, "harness: ringkv-server %d had exited "
                        "during the test (status 0x%x)\n", (int)srv->pid,
                        (unsigned)st);
                rk_server_dump_log(srv, RK_LOG_TAIL);
            } else {
                kill_reap(srv->pid, SIGTERM, RK_STOP_TIMEOUT_MS);
            }
            srv->pid = 0;
        }
        server_cleanup(srv, 0);
    }
    free_extra(srv);
    free(srv);
}

int
rk_server_signal_wait(struct rk_server *srv, int sig, int timeout_ms)
{
    ck_assert(!srv->external && srv->pid > 0);
    srv->exit_status = kill_reap(srv->pid, sig, timeout_ms);
    srv->pid = 0;
    wd_send(srv, 'P', 0);
    return srv->exit_status;
}

void
rk_server_kill9(struct rk_server *srv)
{
    rk_server_signal_wait(srv, SIGKILL, 5000);
}

int
rk_server_wait_exit(struct rk_server *srv, int timeout_ms)
{
    int st;

    ck_assert(!srv->external && srv->pid > 0);
    st = reap(srv->pid, timeout_ms);
    if (st != -1) {
        srv->exit_status = st;
        srv->pid = 0;
        wd_send(srv, 'P', 0);
    }
    return st;
}

void
rk_server_restart(struct rk_server *srv)
{
    ck_assert(!srv->external);
    if (srv->pid > 0) {
        rk_server_kill9(srv);
    }
    launch(srv);
}

const char *
rk_server_data_dir(const struct rk_server *srv)
{
    return srv->data_dir;
}

long
rk_server_rss_kb(const struct rk_server *srv)
{
    char path[64], line[256];
    FILE *f;
    long kb = -1;

    if (srv->pid <= 0) {
        return -1;
    }
    snprintf(path, sizeof(path), "/proc/%d/status", (int)srv->pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

int
rk_run_binary(const char *const *args, int timeout_ms, char *out,
              size_t outlen)
{
    pid_t parent = getpid();
    size_t used = 0;
    long long deadline;
    int p[2];
    int status;
    pid_t pid;

    harness_ignore_sigpipe();
    ck_assert(outlen > 0);
    out[0] = '\0';
    if (pipe2(p, O_CLOEXEC) != 0) {
        ck_abort_msg("pipe: %s", strerror(errno));
    }
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        size_t n = 0;
        char **argv;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        signal(SIGPIPE, SIG_DFL);
        while (args[n] != NULL) {
            n++;
        }
        argv = calloc(n + 2, sizeof(*argv));
        if (argv == NULL) {
            _exit(127);
        }
        argv[0] = (char *)server_bin();
        memcpy(argv + 1, args, n * sizeof(*argv));
        dup2(p[1], 1);
        dup2(p[1], 2);
        close_from(3);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    deadline = rk_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd = { p[0], POLLIN, 0 };
        long long left = deadline - rk_now_ms();
        char tmp[4096];
        ssize_t n;

        if (left <= 0) {
            break;
        }
        if (poll(&pfd, 1, (int)left) <= 0) {
            continue;
        }
        n = read(p[0], tmp, sizeof(tmp));
        if (n <= 0) {
            break;
        }
        if (used + 1 < outlen) {
            size_t take = (size_t)n;

            if (take > outlen - 1 - used) {
                take = outlen - 1 - used;
            }
            memcpy(out + used, tmp, take);
            used += take;
            out[used] = '\0';
        }
    }
    close(p[0]);
    status = reap(pid, (int)(deadline - rk_now_ms() > 0 ?
                             deadline - rk_now_ms() : 0));
    if (status == -1) {
        kill(pid, SIGKILL);
        reap(pid, 5000);
    }
    return status;
}

/* ---- suites ------------------------------------------------------------ */

TCase *
rk_tcase(Suite *s, const char *name, double timeout)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout);
    tcase_add_checked_fixture(tc, NULL, harness_teardown);
    suite_add_tcase(s, tc);
    return tc;
}

int
rk_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    harness_ignore_sigpipe();
    if (rk_is_external()) {
        fprintf(stderr, "running against the external server on port %s\n",
                getenv("RINGKV_TEST_REDIS_PORT"));
    }
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
