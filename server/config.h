/*
 * server/config.h - settings from the config file, the command line and
 * CONFIG SET, in one table.
 *
 * Every setting has one row (name, type, default, whether CONFIG SET may
 * change it at run time); the file parser, the flag parser, CONFIG GET and
 * CONFIG SET all walk that table, so a setting is never known to one of
 * them and missing from another.
 */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct resp_buf;

struct srv_config {
    char *config_file;        /* absolute path, or NULL */
    char *bind;
    int port;
    char *data_dir;
    char *node_id;
    int cluster_port;         /* 0: port + 10000 */
    char *seeds;
    char *zone;
    int replicas;
    char *read_quorum;        /* ONE, QUORUM, ALL or a number */
    char *write_quorum;
    int fsync;                /* enum store_fsync */
    long long cache_size;
    int threads;              /* 0: cores - 1, at least 1 (main.c) */
    char *requirepass;        /* NULL or "": no password */
    char *cluster_secret;
    long long maxclients;
    long long timeout;        /* idle seconds, 0 = never */
    long long query_buffer_limit;   /* client-query-buffer-limit */
    long long proto_max_bulk_len;
    long long obuf_hard;      /* client-output-buffer-limit normal */
    long long obuf_soft;
    long long obuf_soft_seconds;
    long long slowlog_log_slower_than;  /* microseconds; <0 disables */
    long long slowlog_max_len;
    int tcp_backlog;
    int tcp_keepalive;
    char *logfile;            /* "" = stderr */
    char *loglevel;
    char *dbfilename;         /* accepted for tools; unused */
    char *save;               /* accepted for tools (redis-benchmark) */
    char *appendonly;         /* always "yes": every write is logged */
    char *dir;                /* = data_dir, for CONFIG GET dir */
    long long databases;      /* always 1 */
    long long maxmemory;      /* always 0: data lives on disk, the cache
                               * is bounded by cache-size */
    char *maxmemory_policy;   /* always noeviction */
    long long tombstone_grace; /* seconds */
    long long gossip_interval_ms; /* gossip round; startup only */
    long long request_timeout;   /* ms a coordinated op may take */
    char *sloppy_quorum;      /* "yes": a stored hint counts toward W */
    long long hint_window;    /* seconds a hint is kept for a replica */
    char *forward_writes;     /* "yes": read-modify-writes go to the
                               * key's primary (coord.h) */

    pthread_mutex_t lock;     /* guards the strings against CONFIG SET */
};

/*
 * Fill in the defaults of DESIGN.md's command-line contract and initialise
 * cfg->lock. Every string field is then a heap string (never NULL) owned by
 * cfg. Runs at startup: aborts if memory runs out.
 */
void srv_config_init(struct srv_config *cfg);

/* Free the strings of cfg and destroy its lock. */
void srv_config_deinit(struct srv_config *cfg);

/*
 * Parse argv (argv[0] is the program): an optional config file first (the
 * first argument, when it does not start with "--"), then "--name value" or
 * "--name=value" flags that override it. Arguments after a value that do not
 * start with "--" are appended to it with a space, as Redis does
 * ("--save 900 1"). Returns 0; SRV_CONFIG_HELP for --help or -h and
 * SRV_CONFIG_VERSION for --version or -v (the caller prints and exits 0);
 * or -1 after writing one line "ringkv-server: ..." without a newline into
 * err (errlen bytes). cfg must have been through srv_config_init().
 */
#define SRV_CONFIG_HELP     1
#define SRV_CONFIG_VERSION  2
int srv_config_parse_args(struct srv_config *cfg, int argc, char **argv,
                          char *err, size_t errlen);

/*
 * Write the --help text (usage line and every flag with its default) into
 * buf, NUL-terminated and truncated to len bytes. Returns the length the
 * whole text needs, as snprintf does.
 */
size_t srv_config_usage(char *buf, size_t len);

/*
 * CONFIG GET pattern...: append the RESP2 reply (a flat array of name,
 * value pairs for every setting whose name matches a glob pattern; each
 * setting once, in table order; matching ignores case). Returns RK_OK, or
 * RK_ENOMEM with out unchanged.
 */
int srv_config_get(struct srv_config *cfg, struct resp_buf *out,
                   size_t npat, const char **pats, const size_t *patlens);

/*
 * Copy of the current value of the setting called name, as CONFIG GET
 * prints it (taken under cfg->lock, so safe against CONFIG SET). The
 * caller frees it. NULL if name is unknown or memory ran out.
 */
char *srv_config_strdup(struct srv_config *cfg, const char *name);

/*
 * CONFIG SET name value [name value ...] (nargs words, with lengths): apply
 * all or none, under cfg->lock. Returns 0, or -1 with Redis 7's error text
 * in err (without the "ERR " prefix): unknown name, immutable, duplicate
 * (aliases count as the same setting), then the first bad value. *changed
 * (changed may be NULL) gets a bit mask of SRV_CFG_CHANGED_* for the caller
 * to act on; 0 on failure.
 */
#define SRV_CFG_CHANGED_FSYNC  (1u << 0)  /* store fsync policy */
#define SRV_CFG_CHANGED_CACHE  (1u << 1)  /* store cache bound */
#define SRV_CFG_CHANGED_BULK   (1u << 2)  /* parsers' max bulk length */
#define SRV_CFG_CHANGED_QUORUM (1u << 3)  /* read-quorum or write-quorum */
#define SRV_CFG_CHANGED_LOG    (1u << 4)  /* loglevel */
#define SRV_CFG_CHANGED_SLOWLOG (1u << 5) /* slowlog-max-len (trim) */
int srv_config_set(struct srv_config *cfg, size_t nargs, const char **args,
                   const size_t *lens, unsigned *changed, char *err,
                   size_t errlen);

/*
 * Parse a size with Redis's units (memtoll): digits, then nothing or b, k
 * (1000), kb (1024), m, mb, g, gb in any case. Returns 0 with *out set, or
 * -1 (no digits, a sign, an unknown unit, or overflow).
 */
int srv_parse_memory(const char *s, long long *out);


#endif /* SRV_CONFIG_H */
