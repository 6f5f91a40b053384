/*
 * server/info.c - INFO: a table of sections, each a function that appends
 * its "field:value" lines; the sums over the workers' statistics; CONFIG
 * RESETSTAT; the live-key count that DBSIZE shares.
 *
 * Field names and formats are Redis 7.0's, so tools that parse INFO work.
 * Fields that mean nothing here (RDB forks, Lua, replication backlog) are
 * left out rather than faked; ringkv's own fields (the record cache, the
 * RocksDB engine) come last in their section.
 */
#include "info.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ev.h>

#include "command.h"
#include "coord.h"
#include "gossip.h"
#include "peer.h"
#include "resp.h"
#include "srv.h"
#include "store.h"
#include "util.h"
#include "worker.h"

/* The Redis version we answer like: clients enable features by it. */
#define INFO_REDIS_VERSION "7.0.15"

/*
 * jemalloc's control interface. Weak, because the server links jemalloc
 * only when no sanitizer is on: then the address is NULL and memory is
 * reported from the resident set instead.
 */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp,
                   void *newp, size_t newlen) __attribute__((weak));

/* One INFO text being generated. */
struct info_gen {
    struct srv *s;
    struct worker *w;          /* the worker running INFO */
    struct resp_buf *out;
    int oom;                   /* an append failed: the text is unusable */
    int have_store_stats;      /* st is filled in */
    struct store_stats st;
};

/* The workers' counters, summed. */
struct info_totals {
    uint64_t commands;
    uint64_t net_in;
    uint64_t net_out;
    uint64_t keyspace_hits;
    uint64_t keyspace_misses;
    uint64_t expired_keys;
    uint64_t error_replies;
    uint64_t qbuf_limit_disconnections;
    uint64_t obuf_limit_disconnections;
};

typedef void info_section_fn(struct info_gen *g);

static info_section_fn info_server;
static info_section_fn info_clients;
static info_section_fn info_memory;
static info_section_fn info_persistence;
static info_section_fn info_stats;
static info_section_fn info_replication;
static info_section_fn info_cpu;
static info_section_fn info_nothing;
static info_section_fn info_commandstats;
static info_section_fn info_errorstats;
static info_section_fn info_cluster;
static info_section_fn info_keyspace;

/* Every section in Redis's output order. */
static const struct info_section {
    const char *name;          /* as INFO takes it, lower case */
    const char *title;         /* the "# Title" line */
    unsigned in_default : 1;   /* part of INFO / INFO default */
    info_section_fn *fn;
} info_sections[] = {
    {"server",       "Server",       1, info_server},
    {"clients",      "Clients",      1, info_clients},
    {"memory",       "Memory",       1, info_memory},
    {"persistence",  "Persistence",  1, info_persistence},
    {"stats",        "Stats",        1, info_stats},
    {"replication",  "Replication",  1, info_replication},
    {"cpu",          "CPU",          1, info_cpu},
    {"modules",      "Modules",      1, info_nothing},
    {"commandstats", "Commandstats", 0, info_commandstats},
    {"errorstats",   "Errorstats",   1, info_errorstats},
    {"latencystats", "Latencystats", 0, info_nothing},
    {"cluster",      "Cluster",      1, info_cluster},
    {"keyspace",     "Keyspace",     1, info_keyspace},
};

#define INFO_NSECTIONS (sizeof(info_sections) / sizeof(info_sections[0]))

/* Append printf-formatted text to the INFO being generated. */
static void info_add(struct info_gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
info_add(struct info_gen *g, const char *fmt, ...)
{
    size_t room = 256;
    va_list ap;
    char *p;
    int n;

    while (!g->oom) {
        p = resp_buf_reserve(g->out, room);
        if (p == NULL) {
            g->oom = 1;
            break;
        }
        va_start(ap, fmt);
        n = vsnprintf(p, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            g->oom = 1;
        } else if ((size_t)n < room) {
            g->out->len += (size_t)n;
            break;
        } else {
            room = (size_t)n + 1;
        }
    }
}

/* Redis's bytesToHuman(): 100B, 1.50K, 2.00M, ... into buf (32 bytes). */
static const char *
bytes_human(char *buf, size_t len, uint64_t n)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    size_t u = 0;

    if (n < 1024) {
        snprintf(buf, len, "%" PRIu64 "B", n);
        return buf;
    }
    d /= 1024;
    while (d >= 1024 && u + 1 < sizeof(units) - 1) {
        d /= 1024;
        u++;
    }
    snprintf(buf, len, "%.2f%c", d, units[u]);
    return buf;
}

/* Store statistics, fetched once per INFO and only when a section asks. */
static const struct store_stats *
info_store_stats(struct info_gen *g)
{
    if (!g->have_store_stats) {
        store_get_stats(g->s->store, &g->st);
        g->have_store_stats = 1;
    }
    return &g->st;
}

static uint64_t
load64(atomic_uint_fast64_t *a)
{
    return (uint64_t)atomic_load_explicit(a, memory_order_relaxed);
}

static void
info_sum_workers(struct srv *s, struct info_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < s->nworkers; i++) {
        struct worker_stats *ws = &s->workers[i]->stats;

        t->commands += load64(&ws->commands);
        t->net_in += load64(&ws->net_in);
        t->net_out += load64(&ws->net_out);
        t->keyspace_hits += load64(&ws->keyspace_hits);
        t->keyspace_misses += load64(&ws->keyspace_misses);
        t->expired_keys += load64(&ws->expired_keys);
        t->error_replies += load64(&ws->error_replies);
        t->qbuf_limit_disconnections +=
            load64(&ws->qbuf_limit_disconnections);
        t->obuf_limit_disconnections +=
            load64(&ws->obuf_limit_disconnections);
    }
}

static const char *
fsync_name(int f)
{
    switch (f) {
    case STORE_FSYNC_NO:
        return "no";
    case STORE_FSYNC_ALWAYS:
        return "always";
    default:
        return "everysec";
    }
}

/* The libev backend of the worker's loop, named as Redis names its own. */
static const char *
backend_name(struct worker *w)
{
    switch (w != NULL ? ev_backend(w->loop) : 0) {
    case EVBACKEND_EPOLL:
        return "epoll";
    case EVBACKEND_KQUEUE:
        return "kqueue";
    case EVBACKEND_POLL:
        return "poll";
    case EVBACKEND_SELECT:
        return "select";
    case EVBACKEND_PORT:
        return "evport";
    default:
        return "libev";
    }
}

static void
info_server(struct info_gen *g)
{
    struct srv *s = g->s;
    long long now_us = srv_ustime();
    long long uptime = (now_us / 1000 - s->start_ms) / 1000;
    struct utsname un;

    if (uname(&un) != 0) {
        memset(&un, 0, sizeof(un));
    }
    /* port and config_file are fixed at start: no lock needed. */
    info_add(g,
             "redis_version:" INFO_REDIS_VERSION "\r\n"
             "redis_git_sha1:00000000\r\n"
             "redis_git_dirty:0\r\n"
             "redis_mode:standalone\r\n"
             "os:%s %s %s\r\n"
             "arch_bits:%d\r\n"
             "monotonic_clock:POSIX clock_gettime\r\n"
             "multiplexing_api:%s\r\n"
             "atomicvar_api:c11-builtin\r\n",
             un.sysname, un.release, un.machine,
             (int)(sizeof(void *) * 8), backend_name(g->w));
#ifdef __GNUC__
    info_add(g, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__,
             __GNUC_PATCHLEVEL__);
#endif
    info_add(g,
             "process_id:%ld\r\n"
             "process_supervised:no\r\n"
             "run_id:%s\r\n"
             "tcp_port:%d\r\n"
             "server_time_usec:%lld\r\n"
             "uptime_in_seconds:%lld\r\n"
             "uptime_in_days:%lld\r\n"
             "hz:10\r\n"
             "configured_hz:10\r\n"
             "executable:%s\r\n"
             "config_file:%s\r\n"
             "io_threads_active:0\r\n"
             "ringkv_version:" RINGKV_VERSION "\r\n"
             "ringkv_workers:%d\r\n",
             (long)getpid(), s->run_id, s->cfg.port, now_us, uptime,
             uptime / (3600 * 24),
             s->executable != NULL ? s->executable : "",
             s->cfg.config_file != NULL ? s->cfg.config_file : "",
             s->nworkers);
}

static void
info_clients(struct info_gen *g)
{
    struct srv *s = g->s;
    long long maxclients;

    pthread_mutex_lock(&s->cfg.lock);
    maxclients = s->cfg.maxclients;
    pthread_mutex_unlock(&s->cfg.lock);
    info_add(g,
             "connected_clients:%ld\r\n"
             "cluster_connections:0\r\n"
             "maxclients:%lld\r\n"
             "blocked_clients:0\r\n"
             "tracking_clients:0\r\n",
             atomic_load_explicit(&s->connected_clients,
                                  memory_order_relaxed),
             maxclients);
}

/* Bytes resident in memory (/proc/self/statm); 0 when unknown. */
static uint64_t
mem_rss(void)
{
    unsigned long long size = 0;
    unsigned long long resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%llu %llu", &size, &resident) != 2) {
        resident = 0;
    }
    fclose(f);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

/*
 * Bytes allocated: jemalloc's stats.allocated when jemalloc is linked,
 * else rss. *allocator gets Redis's mem_allocator text into buf.
 */
static uint64_t
mem_used(uint64_t rss, char *buf, size_t len, const char **allocator)
{
    uint64_t epoch = 1;
    size_t allocated = 0;
    const char *version = NULL;
    size_t sz;

    *allocator = "libc";
    if (mallctl == NULL) {
        return rss;
    }
    sz = sizeof(version);
    if (mallctl("version", &version, &sz, NULL, 0) == 0) {
        /* "5.3.0-0-g54eaed1d..." is reported as Redis does: "5.3.0". */
        snprintf(buf, len, "jemalloc-%.*s", (int)strcspn(version, "-"),
                 version);
        *allocator = buf;
    }
    /* Statistics are a snapshot taken at the last "epoch" write. */
    sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &sz, NULL, 0) != 0) {
        return rss;
    }
    return allocated;
}

static void
info_memory(struct info_gen *g)
{
    struct srv *s = g->s;
    const struct store_stats *st = info_store_stats(g);
    char h1[32];
    char h2[32];
    char h3[32];
    char h4[32];
    char alloc_buf[64];
    const char *allocator;
    uint64_t rss = mem_rss();
    uint64_t used = mem_used(rss, alloc_buf, sizeof(alloc_buf), &allocator);
    uint64_t peak = used;
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page
                                           : 0;
    struct rusage ru;
    long long cache_size;

    /*
     * No allocation peak is tracked; the peak resident set (which holds
     * every allocated byte) is an upper bound of it.
     */
    if (getrusage(RUSAGE_SELF, &ru) == 0 &&
        (uint64_t)ru.ru_maxrss * 1024 > peak) {
        peak = (uint64_t)ru.ru_maxrss * 1024;
    }
    pthread_mutex_lock(&s->cfg.lock);
    cache_size = s->cfg.cache_size;
    pthread_mutex_unlock(&s->cfg.lock);
    info_add(g,
             "used_memory:%" PRIu64 "\r\n"
             "used_memory_human:%s\r\n"
             "used_memory_rss:%" PRIu64 "\r\n"
             "used_memory_rss_human:%s\r\n"
             "used_memory_peak:%" PRIu64 "\r\n"
             "used_memory_peak_human:%s\r\n"
             "total_system_memory:%" PRIu64 "\r\n"
             "total_system_memory_human:%s\r\n"
             "maxmemory:0\r\n"
             "maxmemory_human:0B\r\n"
             "maxmemory_policy:noeviction\r\n"
             "mem_allocator:%s\r\n"
             "cache_size:%lld\r\n"
             "cache_used:%" PRIu64 "\r\n"
             "cache_entries:%" PRIu64 "\r\n",
             used, bytes_human(h1, sizeof(h1), used),
             rss, bytes_human(h2, sizeof(h2), rss),
             peak, bytes_human(h3, sizeof(h3), peak),
             total, bytes_human(h4, sizeof(h4), total),
             allocator, cache_size, st->cache_bytes, st->cache_entries);
}

static void
info_persistence(struct info_gen *g)
{
    struct srv *s = g->s;
    const struct store_stats *st = info_store_stats(g);
    int fsync;

    pthread_mutex_lock(&s->cfg.lock);
    fsync = s->cfg.fsync;
    pthread_mutex_unlock(&s->cfg.lock);
    /* Every write goes to the RocksDB WAL: that is the AOF here. */
    info_add(g,
             "loading:0\r\n"
             "async_loading:0\r\n"
             "rdb_changes_since_last_save:0\r\n"
             "rdb_bgsave_in_progress:0\r\n"
             "rdb_last_bgsave_status:ok\r\n"
             "aof_enabled:1\r\n"
             "aof_rewrite_in_progress:0\r\n"
             "aof_last_write_status:%s\r\n"
             "storage_engine:rocksdb\r\n"
             "storage_fsync:%s\r\n"
             "storage_wal_syncs:%" PRIu64 "\r\n"
             "storage_last_sync_ms:%" PRIu64 "\r\n"
             "storage_commits:%" PRIu64 "\r\n"
             "storage_committed_puts:%" PRIu64 "\r\n"
             "storage_sst_bytes:%" PRIu64 "\r\n"
             "storage_memtable_bytes:%" PRIu64 "\r\n"
             "storage_estimate_keys:%" PRIu64 "\r\n",
             st->last_write_ok ? "ok" : "err", fsync_name(fsync),
             st->wal_syncs, st->last_sync_ms, st->commits,
             st->committed_puts, st->sst_bytes, st->memtable_bytes,
             st->estimate_keys);
}

static void
info_stats(struct info_gen *g)
{
    struct srv *s = g->s;
    const struct store_stats *st = info_store_stats(g);
    struct info_totals t;

    info_sum_workers(s, &t);
    info_add(g,
             "total_connections_received:%" PRIu64 "\r\n"
             "total_commands_processed:%" PRIu64 "\r\n"
             "instantaneous_ops_per_sec:%lld\r\n"
             "total_net_input_bytes:%" PRIu64 "\r\n"
             "total_net_output_bytes:%" PRIu64 "\r\n"
             "rejected_connections:%" PRIu64 "\r\n"
             "expired_keys:%" PRIu64 "\r\n"
             "evicted_keys:0\r\n"
             "keyspace_hits:%" PRIu64 "\r\n"
             "keyspace_misses:%" PRIu64 "\r\n"
             "pubsub_channels:0\r\n"
             "pubsub_patterns:0\r\n"
             "total_error_replies:%" PRIu64 "\r\n"
             "client_query_buffer_limit_disconnections:%" PRIu64 "\r\n"
             "client_output_buffer_limit_disconnections:%" PRIu64 "\r\n"
             "cache_hits:%" PRIu64 "\r\n"
             "cache_misses:%" PRIu64 "\r\n"
             "cache_evictions:%" PRIu64 "\r\n",
             load64(&s->total_connections), t.commands,
             (long long)atomic_load(&s->ops_per_sec), t.net_in,
             t.net_out, load64(&s->rejected_connections), t.expired_keys,
             t.keyspace_hits, t.keyspace_misses, t.error_replies,
             t.qbuf_limit_disconnections, t.obuf_limit_disconnections,
             st->cache_hits, st->cache_misses, st->cache_evictions);
}

static void
info_replication(struct info_gen *g)
{
    /* Replicas are cluster peers, not Redis replicas: a lone master. */
    info_add(g,
             "role:master\r\n"
             "connected_slaves:0\r\n"
             "master_failover_state:no-failover\r\n"
             "master_replid:%s\r\n"
             "master_replid2:0000000000000000000000000000000000000000\r\n"
             "master_repl_offset:0\r\n"
             "second_repl_offset:-1\r\n"
             "repl_backlog_active:0\r\n",
             g->s->run_id);
}

static void
info_cpu(struct info_gen *g)
{
    struct rusage self;
    struct rusage children;

    if (getrusage(RUSAGE_SELF, &self) != 0) {
        memset(&self, 0, sizeof(self));
    }
    if (getrusage(RUSAGE_CHILDREN, &children) != 0) {
        memset(&children, 0, sizeof(children));
    }
    info_add(g,
             "used_cpu_sys:%ld.%06ld\r\n"
             "used_cpu_user:%ld.%06ld\r\n"
             "used_cpu_sys_children:%ld.%06ld\r\n"
             "used_cpu_user_children:%ld.%06ld\r\n",
             (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
             (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
             (long)children.ru_stime.tv_sec,
             (long)children.ru_stime.tv_usec,
             (long)children.ru_utime.tv_sec,
             (long)children.ru_utime.tv_usec);
}

/* Modules and latency histograms: ringkv has none, the title stays. */
static void
info_nothing(struct info_gen *g)
{
    (void)g;
}

/* Commands with calls, rejections or failures, in table order. */
static void
info_commandstats(struct info_gen *g)
{
    struct srv *s = g->s;
    for (size_t i = 0; i < cmd_stats_count(); i++) {
        const struct cmd_def *d = cmd_stats_def(i);
        uint64_t calls = 0;
        uint64_t usec = 0;
        uint64_t rejected = 0;
        uint64_t failed = 0;

        for (int j = 0; j < s->nworkers; j++) {
            struct cmd_stats *cs = &s->workers[j]->cmdstats[i];

            calls += load64(&cs->calls);
            usec += load64(&cs->usec);
            rejected += load64(&cs->rejected);
            failed += load64(&cs->failed);
        }
        if (calls == 0 && rejected == 0 && failed == 0) {
            continue;
        }
        info_add(g,
                 "cmdstat_%s:calls=%" PRIu64 ",usec=%" PRIu64
                 ",usec_per_call=%.2f,rejected_calls=%" PRIu64
                 ",failed_calls=%" PRIu64 "\r\n",
                 d->name, calls, usec,
                 calls == 0 ? 0.0 : (double)usec / (double)calls,
                 rejected, failed);
    }
}

/* One error code summed over the workers. */
struct err_total {
    const char *code;
    uint64_t count;
};

static int
err_total_cmp(const void *a, const void *b)
{
    return strcmp(((const struct err_total *)a)->code,
                  ((const struct err_total *)b)->code);
}

/* Error codes with a count, sorted by code as Redis's rax keeps them. */
static void
info_errorstats(struct info_gen *g)
{
    struct srv *s = g->s;
    size_t cap = (size_t)s->nworkers * WORKER_ERRCODES;
    struct err_total *t;
    size_t n = 0;

    if (cap == 0) {
        return;
    }
    t = malloc(cap * sizeof(*t));
    if (t == NULL) {
        g->oom = 1;
        return;
    }
    for (int i = 0; i < s->nworkers; i++) {
        for (size_t j = 0; j < WORKER_ERRCODES; j++) {
            struct err_stat *e = &s->workers[i]->errstats[j];
            /* Acquire: the worker writes code before the first count. */
            uint64_t c = atomic_load_explicit(&e->count,
                                              memory_order_acquire);
            size_t k;

            if (c == 0) {
                continue;
            }
            for (k = 0; k < n && strcmp(t[k].code, e->code) != 0; k++) {
                continue;
            }
            if (k == n) {
                t[n].code = e->code;
                t[n].count = 0;
                n++;
            }
            t[k].count += c;
        }
    }
    qsort(t, n, sizeof(*t), err_total_cmp);
    for (size_t k = 0; k < n; k++) {
        info_add(g, "errorstat_%s:count=%" PRIu64 "\r\n", t[k].code,
                 t[k].count);
    }
    free(t);
}

/*
 * The coordinator's settings and counters (coord.h): quorum levels,
 * quorum successes and -NOQUORUM failures, read repairs, hints.
 */
static void
info_quorum(struct info_gen *g)
{
    struct srv *s = g->s;
    struct coord_stats cs;
    struct store_hint_stats hs;
    char rl[16];
    char wl[16];

    coord_stats(s, &cs);
    store_hint_get_stats(s->store, &hs);
    coord_level_name(atomic_load(&s->read_level), rl, sizeof(rl));
    coord_level_name(atomic_load(&s->write_level), wl, sizeof(wl));
    info_add(g, "replicas:%d\r\nread_quorum:%s\r\nwrite_quorum:%s\r\n"
             "sloppy_quorum:%s\r\n", s->cfg.replicas, rl, wl,
             atomic_load(&s->sloppy_quorum) ? "yes" : "no");
    info_add(g, "quorum_writes_ok:%" PRIu64 "\r\n"
             "quorum_writes_failed:%" PRIu64 "\r\n"
             "quorum_reads_ok:%" PRIu64 "\r\n"
             "quorum_reads_failed:%" PRIu64 "\r\n"
             "read_repairs_blocking:%" PRIu64 "\r\n"
             "read_repairs_sent:%" PRIu64 "\r\n"
             "read_repairs_acked:%" PRIu64 "\r\n"
             "read_repairs_failed:%" PRIu64 "\r\n",
             cs.q.writes_ok, cs.q.writes_failed, cs.q.reads_ok,
             cs.q.reads_failed, cs.q.reads_repairing, cs.q.repairs_sent,
             cs.q.repairs_acked, cs.q.repairs_failed);
    info_add(g, "hints_stored:%" PRIu64 "\r\n"
             "hints_store_failed:%" PRIu64 "\r\n"
             "hints_delivered:%" PRIu64 "\r\n"
             "hints_expired:%" PRIu64 "\r\n"
             "hints_pending:%" PRIu64 "\r\n"
             "peer_requests:%" PRIu64 "\r\n"
             "peer_request_failures:%" PRIu64 "\r\n"
             "forwarded_writes:%" PRIu64 "\r\n",
             cs.hints_stored, cs.hints_failed, hs.delivered, hs.expired,
             hs.pending, cs.peer_requests, cs.peer_failures, cs.forwarded);
}

/*
 * cluster_enabled is 1 when --seeds was given. ringkv adds the member
 * count, the ALIVE count and one member_<i> line per member (the local
 * failure detector's view), then the coordinator's settings and counters.
 */
static void
info_cluster(struct info_gen *g)
{
    struct srv_cluster_view v;
    size_t alive = 0;

    info_add(g, "cluster_enabled:%d\r\n", g->s->cluster_enabled);
    if (srv_peers_view(g->s, &v) != RK_OK) {
        g->oom = 1;
        return;
    }
    for (size_t i = 0; i < v.n; i++) {
        alive += v.members[i].liveness == GOSSIP_ALIVE;
    }
    info_add(g, "cluster_members:%zu\r\ncluster_alive:%zu\r\n", v.n,
             alive);
    for (size_t i = 0; i < v.n; i++) {
        const struct gossip_member *m = &v.members[i];

        info_add(g, "member_%zu:id=%s,addr=%s,zone=%s,state=%s,"
                 "liveness=%s,phi=%.2f\r\n", i, m->id, m->addr, m->zone,
                 gossip_state_name(m->state),
                 gossip_liveness_name(m->liveness), v.phi[i]);
    }
    srv_peers_view_free(&v);
    info_quorum(g);
}

static void
info_keyspace(struct info_gen *g)
{
    struct srv_key_count kc;
    int64_t now = store_now_ms();
    int rc;

    rc = srv_info_count_keys(g->s->store, now, SRV_EXACT_KEYS_LIMIT, &kc);
    if (rc == RK_ENOMEM) {
        g->oom = 1;
        return;
    }
    if (rc == 0) {
        /* Too many to count here: the estimate, expiry unknown. */
        const struct store_stats *st = info_store_stats(g);

        kc.keys = st->estimate_keys > kc.keys ? st->estimate_keys : kc.keys;
        kc.expires = 0;
        kc.ttl_ms_sum = 0;
    }
    if (kc.keys == 0) {
        return;
    }
    info_add(g, "db0:keys=%" PRIu64 ",expires=%" PRIu64 ",avg_ttl=%" PRIu64
             "\r\n", kc.keys, kc.expires,
             kc.expires == 0 ? 0 : kc.ttl_ms_sum / kc.expires);
}

/* The sections INFO's arguments name, as a bit mask over info_sections. */
static unsigned
info_select(int argc, const struct rk_slice *argv)
{
    unsigned all = (1u << INFO_NSECTIONS) - 1;
    unsigned def = 0;
    unsigned mask = 0;

    for (size_t i = 0; i < INFO_NSECTIONS; i++) {
        if (info_sections[i].in_default) {
            def |= 1u << i;
        }
    }
    if (argc == 0) {
        return def;
    }
    for (int a = 0; a < argc; a++) {
        const char *p = argv[a].ptr;
        size_t len = argv[a].len;

        if (srv_eq(p, len, "default")) {
            mask |= def;
        } else if (srv_eq(p, len, "all") || srv_eq(p, len, "everything")) {
            mask |= all;
        } else {
            if (srv_eq(p, len, "module_list")) {
                /* Redis's other name of the modules section. */
                p = "modules";
                len = strlen(p);
            }
            for (size_t i = 0; i < INFO_NSECTIONS; i++) {
                if (srv_eq(p, len, info_sections[i].name)) {
                    mask |= 1u << i;
                }
            }
        }
    }
    return mask;
}

int
srv_info_generate(struct srv *s, struct worker *w, int argc,
                  const struct rk_slice *argv, struct resp_buf *out)
{
    struct info_gen g;
    unsigned mask = info_select(argc, argv);
    int first = 1;

    _Static_assert(INFO_NSECTIONS < 32, "sections must fit the mask");
    memset(&g, 0, sizeof(g));
    g.s = s;
    g.w = w;
    g.out = out;
    for (size_t i = 0; i < INFO_NSECTIONS && !g.oom; i++) {
        if (!(mask & (1u << i))) {
            continue;
        }
        info_add(&g, "%s# %s\r\n", first ? "" : "\r\n",
                 info_sections[i].title);
        info_sections[i].fn(&g);
        first = 0;
    }
    return g.oom ? RK_ENOMEM : RK_OK;
}

int
srv_info_count_keys(struct store *st, int64_t now_ms, uint64_t limit,
                    struct srv_key_count *kc)
{
    struct store_iter *it = store_iter_create(st);
    uint64_t visited = 0;
    int complete = 1;

    memset(kc, 0, sizeof(*kc));
    if (it == NULL) {
        return RK_ENOMEM;
    }
    for (store_iter_seek(it, 0, NULL, 0); store_iter_valid(it);
         store_iter_next(it)) {
        struct store_record rec;
        struct rk_slice key;
        uint16_t slot;

        if (limit != 0 && visited == limit) {
            complete = 0;
            break;
        }
        visited++;
        if (store_iter_get(it, &slot, &key, &rec) != RK_OK ||
            !store_record_live(&rec, now_ms)) {
            continue;
        }
        kc->keys++;
        if (rec.expire_ms != 0) {
            kc->expires++;
            kc->ttl_ms_sum += (uint64_t)(rec.expire_ms - now_ms);
        }
    }
    store_iter_destroy(it);
    return complete;
}

static void
zero64(atomic_uint_fast64_t *a)
{
    atomic_store_explicit(a, 0, memory_order_relaxed);
}

void
srv_info_reset_stats(struct srv *s)
{
    size_t ncmd = cmd_stats_count();

    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = s->workers[i];
        struct worker_stats *ws = &w->stats;

        zero64(&ws->commands);
        zero64(&ws->net_in);
        zero64(&ws->net_out);
        zero64(&ws->keyspace_hits);
        zero64(&ws->keyspace_misses);
        zero64(&ws->expired_keys);
        zero64(&ws->error_replies);
        zero64(&ws->qbuf_limit_disconnections);
        zero64(&ws->obuf_limit_disconnections);
        for (size_t c = 0; c < ncmd; c++) {
            zero64(&w->cmdstats[c].calls);
            zero64(&w->cmdstats[c].usec);
            zero64(&w->cmdstats[c].rejected);
            zero64(&w->cmdstats[c].failed);
        }
        /* Codes stay: a worker never rewrites a slot it has named. */
        for (size_t e = 0; e < WORKER_ERRCODES; e++) {
            zero64(&w->errstats[e].count);
        }
    }
    zero64(&s->total_connections);
    zero64(&s->rejected_connections);
    atomic_store(&s->stat_reset_ms, srv_mstime());
}
