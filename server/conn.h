/*
 * server/conn.h - one client connection: query buffer, replies in pipeline
 * order, transaction state, limits.
 *
 * A connection belongs to one worker thread for its whole life. Commands
 * are parsed and run in arrival order. A command that completes at once
 * appends its reply to c->out; one that completes later (a quorum read or
 * write) gets a reply slot, and replies of later commands queue behind it,
 * so the client always reads replies in the order it sent commands.
 */
#ifndef CONN_H
#define CONN_H

#include <ev.h>
#include <stdatomic.h>
#include <stdint.h>

#include "resp.h"

struct worker;
struct cmd_def;
struct coord_op;

/* A reply that completes after its command returned (see conn_slot_*). */
struct conn_slot {
    struct conn_slot *next;
    struct resp_buf buf;
    size_t held;              /* bytes held elsewhere for this command
                               * (a deferred command's arguments) */
    unsigned done : 1;        /* the reply is complete */
};

/* What conn_output_bytes() counts for a pending reply besides its bytes:
 * the slot, and the coordinator's op or the deferred command behind it. */
#define CONN_SLOT_WEIGHT 256

/* A command queued by MULTI: owned copies of its arguments. */
struct conn_queued {
    const struct cmd_def *cmd;
    const struct cmd_def *parent; /* container of a subcommand row */
    int argc;
    struct rk_slice *argv;    /* views into mem */
    char *mem;
};

/*
 * A command that must wait for an earlier one of its connection (coord.h,
 * coord_conn_conflicts()): owned copies of its arguments and the reply
 * slot that keeps its place in the pipeline.
 */
struct conn_deferred {
    struct conn_deferred *next;
    struct conn_slot *slot;
    int argc;
    struct rk_slice *argv;        /* views into the same allocation */
};

/* A WATCHed key and the version it had when it was watched. */
struct conn_watch {
    uint16_t slot;
    char *key;
    size_t klen;
    int exists;               /* a live record existed */
    uint64_t version;
    uint32_t node;
};

#define CONN_PEER_LEN 64
#define CONN_LIB_LEN  128

struct conn {
    uint64_t id;
    int fd;
    struct worker *w;
    ev_io rio;
    ev_io wio;

    struct resp_parser parser;
    struct resp_buf out;          /* replies ready to write */
    size_t out_pos;               /* bytes of out already written */
    struct conn_slot *slots;      /* replies still pending, oldest first */
    struct conn_slot *slots_tail;
    size_t out_peak;              /* largest out seen (CLIENT LIST omem) */

    unsigned authenticated : 1;   /* AUTH passed, or no password set */
    unsigned close_after_reply : 1;  /* QUIT, protocol error */
    unsigned in_multi : 1;        /* between MULTI and EXEC/DISCARD */
    unsigned multi_error : 1;     /* a queued command was refused */
    unsigned reading_paused : 1;  /* output too large: stop reading */
    unsigned write_queued : 1;    /* on the worker's pending_write list */
    unsigned write_watching : 1;  /* wio started: socket was full */
    unsigned in_exec : 1;         /* running the queue of EXEC */
    unsigned processing : 1;      /* inside conn_process_input() */
    unsigned internal : 1;        /* a peer's data link (internal.h) */
    atomic_int kill;              /* CLIENT KILL from any thread */

    char *name;                   /* CLIENT SETNAME, or NULL */
    char lib_name[CONN_LIB_LEN];  /* CLIENT SETINFO */
    char lib_ver[CONN_LIB_LEN];
    char peer[CONN_PEER_LEN];     /* "ip:port" */
    char local[CONN_PEER_LEN];
    long long ctime_ms;
    long long last_ms;            /* last command */
    long long obuf_soft_since_ms; /* 0: under the soft limit */
    const char *last_cmd;         /* name of the last command run */

    struct conn_queued *mq;       /* MULTI queue */
    size_t nmq;
    size_t capmq;
    struct conn_watch *watched;
    size_t nwatched;
    int multi_slot;               /* cluster MULTI: the slot of its keys,
                                   * -1 before the first key */

    int read_level;               /* CONSISTENCY (coord.h levels); 0 =
                                   * the server's default */
    int write_level;
    struct coord_op *ops;         /* coordinated commands in flight */
    struct conn_deferred *deferred;   /* commands waiting for them, FIFO */
    struct conn_deferred *deferred_tail;
    unsigned running_deferred : 1;

    struct conn *prev;            /* worker's clients list */
    struct conn *next;
    struct conn *next_write;      /* worker's pending_write list */
};

/* Take ownership of an accepted, non-blocking fd. NULL on failure (the fd
 * is closed then). */
struct conn *conn_create(struct worker *w, int fd);
/* The same for a peer's data link: its commands are internal ones, it is
 * not a client (not counted, not listed, no idle timeout). */
struct conn *conn_create_internal(struct worker *w, int fd);
/* Stop watchers, unlink from the worker, close and free. */
void conn_destroy(struct conn *c);

/* Parse and run every complete command in the query buffer. */
void conn_process_input(struct conn *c);

/*
 * Write as much of c->out as the socket takes. Returns RK_OK, or RK_ERR
 * when the connection was closed (c is freed then).
 */
int conn_write(struct conn *c);

/*
 * Reply slots for commands that complete later. conn_slot_open() returns a
 * slot for the reply of the command being run (NULL on ENOMEM);
 * conn_slot_done() marks it complete and moves every complete slot at the
 * head of the queue into c->out.
 */
struct conn_slot *conn_slot_open(struct conn *c);
void conn_slot_done(struct conn *c, struct conn_slot *slot);

/* Forget MULTI state and watched keys (DISCARD, EXEC, RESET). */
void conn_multi_reset(struct conn *c);
void conn_unwatch(struct conn *c);

/* One CLIENT LIST line for c, appended to out (NUL-terminated string). */
void conn_describe(struct conn *c, struct resp_buf *out);

/* Output bytes held for c (out plus slots). */
size_t conn_output_bytes(const struct conn *c);

#endif /* CONN_H */
