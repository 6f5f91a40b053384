/*
 * server/main.c - ringkv-server: parse the configuration, open the store,
 * listen, run the workers, shut down cleanly.
 *
 * The main thread owns the listening socket and hands accepted connections
 * to the workers round robin; it also handles SIGTERM/SIGINT, and owns the
 * cluster port, gossip and the peer links (peer.c). The single
 * struct srv below is the only mutable global of the program.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <ev.h>

#include "command.h"
#include "config.h"
#include "coord.h"
#include "keylock.h"
#include "gossip.h"
#include "peer.h"
#include "scan.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

#define ACCEPTS_PER_EVENT 64

static struct srv server;

static void
die(const char *fmt, const char *arg, const char *reason)
{
    fprintf(stderr, "ringkv-server: ");
    fprintf(stderr, fmt, arg, reason);
    fputc('\n', stderr);
    exit(1);
}

static uint32_t
hash32(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

static void
make_run_id(char *out)
{
    unsigned char raw[SRV_RUN_ID_LEN / 2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    static const char hex[] = "0123456789abcdef";

    if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
        long long t = srv_ustime() ^ (long long)getpid();
        for (size_t i = 0; i < sizeof(raw); i++) {
            raw[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)i;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[SRV_RUN_ID_LEN] = '\0';
}

/* Bind and listen; exits with a one-line error when the port is busy. */
static int
listen_on(const char *addr, int port, int backlog)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    char portstr[16];
    int fd = -1;
    int one = 1;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    rc = getaddrinfo(addr, portstr, &hints, &res);
    if (rc != 0) {
        die("can't resolve bind address '%s': %s", addr, gai_strerror(rc));
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0) {
        die("can't create a socket for %s: %s", addr, strerror(errno));
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, backlog) != 0) {
        char where[300];
        snprintf(where, sizeof(where), "%s:%d", addr, port);
        die("can't listen on %s: %s", where, strerror(errno));
    }
    freeaddrinfo(res);
    return fd;
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    ev_io *io = t->data;

    (void)revents;
    ev_io_start(loop, io);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct srv *s = io->data;
    static const char full[] = "-ERR max number of clients reached\r\n";

    (void)revents;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* Out of descriptors: log, then pause the listener for a
                 * moment instead of spinning on the readable socket. */
                static ev_timer pause_timer;
                fprintf(stderr, "ringkv: accept: %s; pausing 100 ms\n",
                        strerror(errno));
                ev_io_stop(loop, io);
                ev_timer_init(&pause_timer, accept_resume_cb, 0.1, 0);
                pause_timer.data = io;
                ev_timer_start(loop, &pause_timer);
            }
            return;
        }
        atomic_fetch_add(&s->total_connections, 1);
        if (atomic_load(&s->connected_clients) >= s->cfg.maxclients) {
            ssize_t w = write(fd, full, sizeof(full) - 1);
            (void)w;
            close(fd);
            atomic_fetch_add(&s->rejected_connections, 1);
            continue;
        }
        atomic_fetch_add(&s->connected_clients, 1);
        worker_adopt(s->workers[s->next_worker++ % (unsigned)s->nworkers],
                     fd);
    }
}

/* 10 Hz on the main loop: sample the command rate for INFO. */
static void
cron_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct srv *s = t->data;
    long long now = srv_mstime();
    long long count = 0;
    long long sum = 0;

    (void)loop;
    (void)revents;
    for (int i = 0; i < s->nworkers; i++) {
        count += (long long)atomic_load_explicit(
            &s->workers[i]->stats.commands, memory_order_relaxed);
    }
    if (s->ops_last_ms != 0 && now > s->ops_last_ms &&
        count >= s->ops_last_count) {
        s->ops_samples[s->ops_idx] = (count - s->ops_last_count) * 1000 /
                                     (now - s->ops_last_ms);
        s->ops_idx = (s->ops_idx + 1) % SRV_OPS_SAMPLES;
        for (int i = 0; i < SRV_OPS_SAMPLES; i++) {
            sum += s->ops_samples[i];
        }
        atomic_store(&s->ops_per_sec, sum / SRV_OPS_SAMPLES);
    }
    s->ops_last_ms = now;
    s->ops_last_count = count;
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    fprintf(stderr, "ringkv: received %s, shutting down\n",
            w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    srv_request_shutdown(&server);
    ev_break(loop, EVBREAK_ALL);
}

static void
main_wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)a;
    (void)revents;
    if (atomic_load(&server.shutdown_asap)) {
        ev_break(loop, EVBREAK_ALL);
    }
}

/*
 * Split --seeds ("host:cport,...") into *out (n entries; the caller frees
 * the array and its strings). Exits when memory runs out.
 */
static size_t
parse_seeds(const char *list, char ***out)
{
    char **v = NULL;
    size_t n = 0;
    const char *p = list;

    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        char **nv = realloc(v, (n + 1) * sizeof(*v));

        if (nv == NULL || (nv[n] = strndup(p, len)) == NULL) {
            die("%s%s", "out of memory", "");
        }
        v = nv;
        n++;
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    *out = v;
    return n;
}

/*
 * Start membership: create the gossip state and the peer links on the
 * cluster port (already listening). Runs once, on the main thread, after
 * s->main_loop is set.
 */
static void
cluster_start(struct srv *s)
{
    struct gossip_options go;
    char **seeds = NULL;
    size_t nseeds = parse_seeds(s->cfg.seeds, &seeds);
    char addr[GOSSIP_ADDR_MAX + 64];
    char client_addr[GOSSIP_ADDR_MAX + 64];

    s->cluster_enabled = nseeds > 0;
    snprintf(addr, sizeof(addr), strchr(s->cfg.bind, ':') != NULL
             ? "[%s]:%d" : "%s:%d", s->cfg.bind, s->cluster_port);
    s->cluster_addr = strdup(addr);
    snprintf(client_addr, sizeof(client_addr), strchr(s->cfg.bind, ':')
             != NULL ? "[%s]:%d" : "%s:%d", s->cfg.bind, s->cfg.port);
    s->client_addr = strdup(client_addr);
    s->peers = srv_peers_create(s);
    if (s->peers == NULL || s->cluster_addr == NULL ||
        s->client_addr == NULL) {
        die("%s%s", "out of memory", "");
    }

    memset(&go, 0, sizeof(go));
    go.id = s->node_id;
    go.addr = s->cluster_addr;
    go.client_addr = s->client_addr;
    go.zone = s->cfg.zone;
    /* No join/leave commands yet: every node owns its share at once. */
    go.state = GOSSIP_UP;
    go.generation = srv_mstime();
    go.seeds = (const char *const *)seeds;
    go.nseeds = nseeds;
    go.transport.ctx = s->peers;
    go.transport.send = srv_peers_send;
    go.transport.clock = srv_peers_clock;
    go.transport.observe = srv_peers_observe;
    go.seed = (uint64_t)srv_ustime() ^ (uint64_t)getpid();
    go.interval_ms = s->cfg.gossip_interval_ms;
    s->gossip = gossip_create(&go);
    /* peer.c keeps the list to tell when the membership is known. */
    s->seeds = seeds;
    s->nseeds = nseeds;
    if (s->gossip == NULL) {
        die("can't start membership for node '%s': %s", s->node_id,
            "bad node id, zone or seed, or too many seeds");
    }
    srv_peers_start(s->peers);
}

static void
usage(void)
{
    printf("Usage: ringkv-server [CONFIG-FILE] [--bind ADDR] [--port N] "
           "[--data-dir DIR]\n"
           "         [--node-id NAME] [--cluster-port N] "
           "[--seeds HOST:CPORT,...]\n"
           "         [--zone NAME] [--replicas N] [--read-quorum R] "
           "[--write-quorum W]\n"
           "         [--fsync always|everysec|no] [--cache-size BYTES] "
           "[--threads N]\n"
           "         [--requirepass PASSWORD] [--cluster-secret SECRET]\n"
           "Cluster tuning: [--request-timeout MS] [--hint-window SECONDS]\n"
           "         [--sloppy-quorum yes|no] [--forward-writes yes|no]\n"
           "Any other setting of the config file is also a --flag;\n"
           "CONFIG GET * lists them all.\n");
}

int
main(int argc, char **argv)
{
    struct srv *s = &server;
    struct store_options so;
    char err[512];
    char *serr = NULL;
    char exe[PATH_MAX];
    char node_id[300];
    ev_io accept_watcher;
    ev_signal sigterm_watcher;
    ev_signal sigint_watcher;
    ev_async wake_watcher;
    ev_timer cron_watcher;
    ssize_t n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") ==
            0) {
            printf("ringkv-server %s\n", RINGKV_VERSION);
            return 0;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    srv_config_init(&s->cfg);
    if (srv_config_parse_args(&s->cfg, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    s->start_ms = srv_mstime();
    atomic_init(&s->next_client_id, 1);
    make_run_id(s->run_id);
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    s->executable = exe;
    if (s->cfg.node_id == NULL || s->cfg.node_id[0] == '\0') {
        snprintf(node_id, sizeof(node_id), "%s:%d", s->cfg.bind,
                 s->cfg.port);
    } else {
        snprintf(node_id, sizeof(node_id), "%s", s->cfg.node_id);
    }
    s->node_hash = hash32(node_id);
    s->node_id = node_id;
    store_clock_init(&s->clock);
    pthread_mutex_init(&s->slowlog_lock, NULL);
    pthread_mutex_init(&s->members_lock, NULL);
    srv_slowlog_resize(s, s->cfg.slowlog_max_len);

    /* Listen before opening the store: a busy port fails fast and leaves
     * the data dir alone. */
    s->listen_fd = listen_on(s->cfg.bind, s->cfg.port, s->cfg.tcp_backlog);
    s->cluster_port = s->cfg.cluster_port != 0 ? s->cfg.cluster_port
                                               : s->cfg.port + 10000;
    s->peer_listen_fd = listen_on(s->cfg.bind, s->cluster_port,
                                  s->cfg.tcp_backlog);

    memset(&so, 0, sizeof(so));
    so.dir = s->cfg.data_dir;
    so.fsync = (enum store_fsync)s->cfg.fsync;
    so.cache_bytes = (size_t)s->cfg.cache_size;
    so.tombstone_grace_ms = (uint64_t)s->cfg.tombstone_grace * 1000;
    if (store_open(&so, &s->store, &serr) != RK_OK) {
        fprintf(stderr, "ringkv-server: %s\n", serr ? serr : "can't open "
                "the store");
        free(serr);
        return 1;
    }
    s->scan = srv_scan_create();
    if (s->scan == NULL) {
        fprintf(stderr, "ringkv-server: out of memory\n");
        return 1;
    }

    /*
     * Default: one worker per core but one. DESIGN.md says one per core;
     * RocksDB's flush and compaction threads and the kernel's network
     * work need a core too, and on 2 cores two workers made p99 four
     * times worse (SET -P 1: 4.7 ms against 1.2 ms) for no throughput.
     */
    coord_config_refresh(s);
    s->keylocks = keylock_create();
    if (s->keylocks == NULL) {
        fprintf(stderr, "ringkv-server: out of memory\n");
        return 1;
    }
    s->nworkers = s->cfg.threads > 0
                      ? s->cfg.threads
                      : (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
    if (s->nworkers < 1) {
        s->nworkers = 1;
    }
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    for (int i = 0; s->workers != NULL && i < s->nworkers; i++) {
        s->workers[i] = worker_create(s, i);
        if (s->workers[i] == NULL || worker_start(s->workers[i]) != RK_OK) {
            fprintf(stderr, "ringkv-server: can't start worker %d\n", i);
            return 1;
        }
    }
    if (s->workers == NULL) {
        fprintf(stderr, "ringkv-server: out of memory\n");
        return 1;
    }

    s->main_loop = EV_DEFAULT;
    ev_async_init(&wake_watcher, main_wake_cb);
    ev_async_start(s->main_loop, &wake_watcher);
    s->main_wake = &wake_watcher;
    ev_io_init(&accept_watcher, accept_cb, s->listen_fd, EV_READ);
    accept_watcher.data = s;
    ev_io_start(s->main_loop, &accept_watcher);
    ev_timer_init(&cron_watcher, cron_cb, 0.1, 0.1);
    cron_watcher.data = s;
    ev_timer_start(s->main_loop, &cron_watcher);
    cluster_start(s);
    ev_signal_init(&sigterm_watcher, signal_cb, SIGTERM);
    ev_signal_start(s->main_loop, &sigterm_watcher);
    ev_signal_init(&sigint_watcher, signal_cb, SIGINT);
    ev_signal_start(s->main_loop, &sigint_watcher);

    fprintf(stderr, "ringkv %s ready on %s:%d (data %s, fsync %s, "
            "threads %d, node %s)\n", RINGKV_VERSION, s->cfg.bind,
            s->cfg.port, s->cfg.data_dir,
            s->cfg.fsync == STORE_FSYNC_ALWAYS ? "always" :
            s->cfg.fsync == STORE_FSYNC_EVERYSEC ? "everysec" : "no",
            s->nworkers, node_id);
    if (!atomic_load(&s->shutdown_asap)) {
        ev_run(s->main_loop, 0);
    }

    /* Shutdown: stop accepting, let the workers commit, sync, close. */
    ev_io_stop(s->main_loop, &accept_watcher);
    ev_timer_stop(s->main_loop, &cron_watcher);
    close(s->listen_fd);
    srv_peers_destroy(s->peers);
    gossip_destroy(s->gossip);
    close(s->peer_listen_fd);
    srv_request_shutdown(s);
    for (int i = 0; i < s->nworkers; i++) {
        worker_join(s->workers[i]);
    }
    store_close(s->store);
    for (int i = 0; i < s->nworkers; i++) {
        worker_destroy(s->workers[i]);
    }
    free(s->workers);
    free(s->members);
    free(s->members_phi);
    free(s->cluster_addr);
    for (size_t i = 0; i < s->nseeds; i++) {
        free(s->seeds[i]);
    }
    free(s->seeds);
    free(s->client_addr);
    srv_topology_release(s->topology);
    pthread_mutex_destroy(&s->members_lock);
    srv_scan_destroy(s->scan);
    keylock_destroy(s->keylocks);
    srv_slowlog_resize(s, 0);
    free(s->slowlog);
    srv_config_deinit(&s->cfg);
    fprintf(stderr, "ringkv: bye\n");
    return 0;
}
