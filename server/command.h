/*
 * server/command.h - the command table and the context a handler runs in.
 *
 * Every command is one line of server/commands.def; this header expands it
 * into the handler prototypes and command.c into the table, so arity and
 * flag checks, key positions, COMMAND output and statistics all come from
 * the same line. Handlers never check arity.
 */
#ifndef COMMAND_H
#define COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "rk.h"

struct conn;
struct worker;
struct srv;
struct resp_buf;
struct conn_slot;
struct coord_op;
struct kv_op;

#define CMD_WRITE    (1u << 0)   /* may modify the keyspace */
#define CMD_READ     (1u << 1)   /* reads the keyspace */
#define CMD_FAST     (1u << 2)   /* O(1) or O(log N) */
#define CMD_ADMIN    (1u << 3)   /* server administration */
#define CMD_NOAUTH   (1u << 4)   /* allowed before AUTH */
#define CMD_NOMULTI  (1u << 5)   /* runs at once inside MULTI (not queued) */
#define CMD_DENYOOM  (1u << 6)   /* may grow memory */
#define CMD_LOADING  (1u << 7)   /* allowed while loading */
#define CMD_STALE    (1u << 8)   /* allowed on a stale replica */
#define CMD_NOSCRIPT (1u << 9)   /* not from scripts */
#define CMD_KEYSPACE (1u << 10)  /* whole-keyspace (SCAN, KEYS, FLUSH*) */
#define CMD_CONTAINER (1u << 11) /* has RK_SUBCMD rows ("config|get") */

struct cmd_ctx;
typedef void cmd_fn(struct cmd_ctx *x);

struct cmd_def {
    const char *name;     /* lower case */
    cmd_fn *fn;
    int arity;            /* exact, or -N for "at least N" */
    unsigned flags;       /* CMD_* */
    int first_key;        /* 0: no keys */
    int last_key;         /* negative: counted from the end */
    int key_step;
    const char *acl;      /* ACL categories for COMMAND, space separated */
    int id;               /* index in the table */
};

/* What a handler gets: the arguments and where its reply goes. */
struct cmd_ctx {
    struct srv *srv;
    struct worker *w;
    struct conn *c;
    const struct cmd_def *cmd;    /* the command, or its subcommand row */
    const struct cmd_def *parent; /* the container when cmd is a
                                   * subcommand row, else NULL */
    int argc;
    const struct rk_slice *argv;  /* valid while the handler runs */
    struct resp_buf *out;         /* the reply goes here */
    unsigned locked : 1;          /* EXEC holds every key lock already */
    unsigned failed : 1;          /* an error reply was written */
    unsigned suspended : 1;       /* the coordinator owns slot now and
                                   * completes it later (coord.h) */
    struct conn_slot *slot;       /* the reply slot out points into, or
                                   * NULL when out is the connection's */
    struct coord_op *resume;      /* second run of a suspended command:
                                   * its reads are done (coord.h) */
    struct kv_op *overlay;        /* inside a cluster EXEC: the
                                   * transaction's records (kv.h) */
    unsigned no_forward : 1;      /* coordinate here even if this node is
                                   * not the key's primary (coord.h) */
};

#define RK_CMD(name, fn, arity, flags, first, last, step, acl) cmd_fn fn;
#define RK_SUBCMD(name, arity, flags)
#include "commands.def"
#undef RK_SUBCMD
#undef RK_CMD

/* Look a command up by name, any case. NULL when unknown. */
const struct cmd_def *cmd_lookup(const char *name, size_t len);

/* The top-level commands and their number (COMMAND). */
const struct cmd_def *cmd_table(void);
size_t cmd_count(void);

/*
 * Every entry that has statistics: the top-level commands, then the
 * subcommands ("config|get"). Index i of a worker's cmdstats array belongs
 * to cmd_stats_def(i).
 */
size_t cmd_stats_count(void);
const struct cmd_def *cmd_stats_def(size_t i);
/* Count one failed call of cmd (cmd_call() counts those that fail at
 * once; the coordinator those whose error reply comes later). */
struct worker;
void cmd_count_failed(struct worker *w, const struct cmd_def *cmd);

/*
 * Check and run one command for c: lookup, arity, authentication, MULTI
 * queueing, then the handler; counts statistics and the slowlog. In a
 * cluster a command that must wait for an earlier one of c is kept and
 * run by cmd_run_deferred() (coord.h).
 */
void cmd_dispatch(struct conn *c, int argc, const struct rk_slice *argv);

/* Run c's kept commands that no longer wait, in order. */
void cmd_run_deferred(struct conn *c);

/* The handler of one subcommand row of commands.def. */
struct cmd_sub {
    const char *fullname;   /* "config|get", as in commands.def */
    cmd_fn *fn;
};

/*
 * Run the handler in tab (n entries) of the subcommand the dispatcher
 * resolved: x->cmd is its commands.def row, whose arity is already
 * checked. When argv[1] named no subcommand, reply Redis's "unknown
 * subcommand ... Try UPPER HELP." (upper: the container's name).
 */
void cmd_run_sub(struct cmd_ctx *x, const struct cmd_sub *tab, size_t n,
                 const char *upper);

/* Run an already-checked command (EXEC runs its queue through this). */
void cmd_call(struct cmd_ctx *x);

/*
 * Expand the key positions of a command into idx (at most max entries).
 * Returns the number of keys.
 */
int cmd_key_indexes(const struct cmd_def *cmd, int argc, int *idx, int max);

/* Append the COMMAND INFO reply of one command. */
void cmd_reply_info(struct resp_buf *out, const struct cmd_def *cmd);

#endif /* COMMAND_H */
