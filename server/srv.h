/*
 * server/srv.h - the process-wide server state shared by every worker.
 *
 * One struct srv lives in main.c; everything else receives a pointer to it.
 * Fields written after start are either atomics (counters), guarded by the
 * mutex named next to them, or owned by one worker thread.
 */
#ifndef SRV_H
#define SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

struct worker;
struct ev_loop;
struct ev_async;
struct srv_scan;
struct srv_peers;
struct gossip;
struct gossip_member;
struct srv_topology;
struct keylock_table;

#define SRV_RUN_ID_LEN 40

/* One slow command, as SLOWLOG GET shows it. */
struct srv_slowlog_entry {
    long long id;
    long long time;           /* unix seconds */
    long long duration_us;
    int argc;                 /* arguments kept (at most 32) */
    char **argv;              /* copies, each truncated to 128 bytes */
    size_t *argv_len;
    char *peer;               /* "ip:port" */
    char *name;               /* client name or "" */
};

struct srv {
    struct srv_config cfg;
    struct store *store;
    struct store_clock clock;
    uint32_t node_hash;       /* tie break of versions written here */
    char run_id[SRV_RUN_ID_LEN + 1];
    char *executable;         /* absolute path of the binary */
    long long start_ms;

    int listen_fd;
    struct ev_loop *main_loop;   /* acceptor, cron, signals */
    struct ev_async *main_wake;  /* wakes main_loop for shutdown */
    struct srv_scan *scan;       /* SCAN cursors (scan.c) */
    int nworkers;
    struct worker **workers;
    unsigned next_worker;        /* round robin, main thread only */

    atomic_uint_fast64_t next_client_id;
    atomic_long connected_clients;
    atomic_uint_fast64_t total_connections;
    atomic_uint_fast64_t rejected_connections;
    atomic_int shutdown_asap;    /* SHUTDOWN or a signal: stop the loops */
    atomic_int shutdown_nosave;

    pthread_mutex_t slowlog_lock;   /* guards the slowlog ring */
    struct srv_slowlog_entry *slowlog;   /* ring of slowlog_max_len */
    long long slowlog_cap;
    long long slowlog_len;
    long long slowlog_head;      /* index of the newest entry */
    long long slowlog_next_id;

    atomic_llong stat_reset_ms;  /* time of the last CONFIG RESETSTAT */

    /* instantaneous_ops_per_sec: the main thread samples the command
     * count every 100 ms and keeps the mean rate of the last 16 samples. */
#define SRV_OPS_SAMPLES 16
    long long ops_samples[SRV_OPS_SAMPLES];   /* main thread only */
    int ops_idx;
    long long ops_last_count;
    long long ops_last_ms;
    atomic_llong ops_per_sec;

    /* Cluster membership (peer.c). gossip and peers belong to the main
     * thread; workers read the snapshot below, which the main thread
     * refreshes every gossip tick under members_lock. */
    char *node_id;               /* --node-id or "bind:port"; read-only */
    char *cluster_addr;          /* "bind:cport"; read-only */
    char *client_addr;           /* "bind:port", gossiped; read-only */
    int cluster_port;            /* resolved: never 0 */
    int cluster_enabled;         /* --seeds was given; read-only */
    int peer_listen_fd;
    struct gossip *gossip;       /* main thread only */
    struct srv_peers *peers;     /* main thread only */
    pthread_mutex_t members_lock;   /* guards the six fields below */
    struct gossip_member *members;  /* sorted by id; malloc()ed */
    double *members_phi;         /* phi of members[i] */
    size_t nmembers;
    uint64_t gossip_sent;        /* messages sent / merged, for INFO */
    uint64_t gossip_received;
    struct srv_topology *topology;  /* ring of the members above (peer.h);
                                     * swapped, never changed in place */
    uint64_t topology_version;   /* main thread only: gossip_version()
                                  * the topology was built at */
    atomic_uint_fast64_t topology_gen;   /* bumped when topology changes */
    char **seeds;                /* --seeds, parsed; read-only */
    size_t nseeds;
    atomic_int cluster_ready;    /* the member table is known (peer.c) */
    struct keylock_table *keylocks;  /* coordinated writes' key locks */
    atomic_int read_level;       /* --read-quorum / --write-quorum parsed */
    atomic_int write_level;      /* (coord.h levels) */
    atomic_int sloppy_quorum;    /* cfg sloppy-quorum is "yes" */
    atomic_int rmw_forward;      /* cfg forward-writes is "yes" */
};

/* Milliseconds and microseconds of wall-clock and monotonic time. */
long long srv_mstime(void);
long long srv_ustime(void);
long long srv_monotonic_us(void);

/*
 * The next value of this node's hybrid logical clock as decimal text in
 * buf (SRV_CLOCK_TEXT bytes), for the clock argument every peer request
 * carries (internal.h). Returns a view of buf.
 */
#define SRV_CLOCK_TEXT 24
struct rk_slice srv_clock_text(struct srv *s, char *buf);

/* Ask every loop to stop (SHUTDOWN, SIGTERM). Thread-safe. */
void srv_request_shutdown(struct srv *s);

/* Record one slow command (thread-safe). */
void srv_slowlog_push(struct srv *s, int argc, const struct rk_slice *argv,
                      long long duration_us, const char *peer,
                      const char *name);
void srv_slowlog_reset(struct srv *s);
/* Resize the ring after CONFIG SET slowlog-max-len. */
void srv_slowlog_resize(struct srv *s, long long cap);

#endif /* SRV_H */
