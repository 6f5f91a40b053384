/*
 * server/command.c - the command table, lookup, checks and dispatch.
 *
 * The order of checks follows Redis's processCommand(): lookup, arity,
 * authentication, MULTI queueing, then the handler. Errors raised before a
 * handler runs count as rejected calls; error replies from a handler count
 * as failed calls (INFO commandstats).
 */
#include "command.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "coord.h"
#include "reply.h"
#include "ring.h"
#include "resp.h"
#include "srv.h"
#include "worker.h"

static const struct cmd_def command_table[] = {
#define RK_CMD(name, fn, arity, flags, first, last, step, acl) \
    {name, fn, arity, flags, first, last, step, acl, 0},
#define RK_SUBCMD(name, arity, flags)
#include "commands.def"
#undef RK_SUBCMD
#undef RK_CMD
};

#define NCOMMANDS (sizeof(command_table) / sizeof(command_table[0]))

/* Subcommands: no handler of their own (the container's runs). */
static const struct cmd_def subcommand_table[] = {
#define RK_CMD(name, fn, arity, flags, first, last, step, acl)
#define RK_SUBCMD(name, arity, flags) \
    {name, NULL, arity, flags, 0, 0, 0, "", 0},
#include "commands.def"
#undef RK_SUBCMD
#undef RK_CMD
};

#define NSUBCOMMANDS \
    (sizeof(subcommand_table) / sizeof(subcommand_table[0]))

/*
 * Open-addressing index from name to table entry. It is filled once, under
 * pthread_once, before any lookup returns, and is read-only afterwards.
 */
#define INDEX_SIZE 256
static unsigned char command_index[INDEX_SIZE];   /* entry + 1; 0 = empty */
static pthread_once_t command_index_once = PTHREAD_ONCE_INIT;

static unsigned
name_hash(const char *p, size_t len)
{
    unsigned h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)tolower((unsigned char)p[i]);
        h *= 16777619u;
    }
    return h;
}

static void
command_index_build(void)
{
    _Static_assert(NCOMMANDS < INDEX_SIZE / 2, "grow INDEX_SIZE");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *n = command_table[i].name;
        unsigned h = name_hash(n, strlen(n)) & (INDEX_SIZE - 1);
        while (command_index[h] != 0) {
            h = (h + 1) & (INDEX_SIZE - 1);
        }
        command_index[h] = (unsigned char)(i + 1);
    }
}

const struct cmd_def *
cmd_lookup(const char *name, size_t len)
{
    unsigned h;

    pthread_once(&command_index_once, command_index_build);
    if (len == 0 || len > 32) {
        return NULL;
    }
    h = name_hash(name, len) & (INDEX_SIZE - 1);
    while (command_index[h] != 0) {
        const struct cmd_def *d = &command_table[command_index[h] - 1];
        if (strncasecmp(d->name, name, len) == 0 && d->name[len] == '\0') {
            return d;
        }
        h = (h + 1) & (INDEX_SIZE - 1);
    }
    return NULL;
}

const struct cmd_def *
cmd_table(void)
{
    return command_table;
}

size_t
cmd_count(void)
{
    return NCOMMANDS;
}

size_t
cmd_stats_count(void)
{
    return NCOMMANDS + NSUBCOMMANDS;
}

const struct cmd_def *
cmd_stats_def(size_t i)
{
    return i < NCOMMANDS ? &command_table[i]
                         : &subcommand_table[i - NCOMMANDS];
}

/* Index of a command or subcommand in the statistics arrays. */
static size_t
cmd_id(const struct cmd_def *d)
{
    if (d >= command_table && d < command_table + NCOMMANDS) {
        return (size_t)(d - command_table);
    }
    return NCOMMANDS + (size_t)(d - subcommand_table);
}

/*
 * The subcommand row of "container sub", or NULL when the container has
 * none by that name (its handler then replies "unknown subcommand").
 */
static const struct cmd_def *
subcommand_lookup(const struct cmd_def *parent, const struct rk_slice *sub)
{
    size_t plen = strlen(parent->name);

    for (size_t i = 0; i < NSUBCOMMANDS; i++) {
        const char *n = subcommand_table[i].name;
        if (strncmp(n, parent->name, plen) == 0 && n[plen] == '|' &&
            strlen(n + plen + 1) == sub->len &&
            strncasecmp(n + plen + 1, sub->ptr, sub->len) == 0) {
            return &subcommand_table[i];
        }
    }
    return NULL;
}

int
cmd_key_indexes(const struct cmd_def *cmd, int argc, int *idx, int max)
{
    int n = 0;
    int last;

    if (cmd->first_key <= 0) {
        return 0;
    }
    last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    for (int i = cmd->first_key; i <= last && i < argc && n < max;
         i += cmd->key_step) {
        idx[n++] = i;
    }
    return n;
}

/* Reply "unknown command 'x', with args beginning with: 'a' 'b' ". */
static void
reply_unknown_command(struct cmd_ctx *x)
{
    char msg[512];
    size_t n;
    size_t args = 0;
    int len;

    n = x->argv[0].len < 128 ? x->argv[0].len : 128;
    len = snprintf(msg, sizeof(msg), "unknown command '%.*s', with args "
                   "beginning with: ", (int)n, x->argv[0].ptr);
    for (int i = 1; i < x->argc && args < 128; i++) {
        int room = 128 - (int)args;
        int take = (int)x->argv[i].len < room ? (int)x->argv[i].len : room;
        int w = snprintf(msg + len, sizeof(msg) - (size_t)len, "'%.*s' ",
                         take, x->argv[i].ptr);
        len += w;
        args += (size_t)w;
    }
    /* Arguments may hold NULs: stop at the first like Redis's %s does. */
    reply_error(x, msg);
}

/* Copy argv into one allocation for the MULTI queue. */
static int
queue_command(struct conn *c, const struct cmd_ctx *x, int argc,
              const struct rk_slice *argv)
{
    struct conn_queued *q;
    size_t bytes = 0;
    char *mem;
    char *p;

    if (c->nmq == c->capmq) {
        size_t cap = c->capmq ? c->capmq * 2 : 8;
        struct conn_queued *n = realloc(c->mq, cap * sizeof(*n));
        if (n == NULL) {
            return RK_ENOMEM;
        }
        c->mq = n;
        c->capmq = cap;
    }
    for (int i = 0; i < argc; i++) {
        bytes += argv[i].len;
    }
    mem = malloc(sizeof(struct rk_slice) * (size_t)argc + bytes + 1);
    if (mem == NULL) {
        return RK_ENOMEM;
    }
    q = &c->mq[c->nmq++];
    q->cmd = x->cmd;
    q->parent = x->parent;
    q->argc = argc;
    q->argv = (struct rk_slice *)(void *)mem;
    q->mem = mem;
    p = mem + sizeof(struct rk_slice) * (size_t)argc;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        q->argv[i].ptr = p;
        q->argv[i].len = argv[i].len;
        p += argv[i].len;
    }
    return RK_OK;
}

void
cmd_call(struct cmd_ctx *x)
{
    struct srv *s = x->srv;
    struct cmd_stats *st = &x->w->cmdstats[cmd_id(x->cmd)];
    long long start = srv_monotonic_us();
    long long dur;
    long long slower;

    x->failed = 0;
    x->c->last_cmd = x->cmd->name;     /* CLIENT INFO shows itself */
    (x->parent != NULL ? x->parent : x->cmd)->fn(x);
    dur = srv_monotonic_us() - start;

    STAT_ADD(&st->calls, 1);
    STAT_ADD(&st->usec, (uint64_t)dur);
    if (x->failed) {
        STAT_ADD(&st->failed, 1);
    }
    slower = s->cfg.slowlog_log_slower_than;
    if (slower >= 0 && dur >= slower && x->cmd->fn != cmd_exec) {
        srv_slowlog_push(s, x->argc, x->argv, dur, x->c->peer,
                         x->c->name ? x->c->name : "");
    }
}

void
cmd_count_failed(struct worker *w, const struct cmd_def *cmd)
{
    STAT_ADD(&w->cmdstats[cmd_id(cmd)].failed, 1);
}

static void
count_rejected(struct worker *w, const struct cmd_def *cmd)
{
    struct cmd_stats *st = &w->cmdstats[cmd_id(cmd)];
    STAT_ADD(&st->rejected, 1);
}

/*
 * In a cluster a transaction runs on one slot's replicas: a queued command
 * whose keys hash elsewhere gets Redis Cluster's -CROSSSLOT, and a
 * keyspace-wide one is refused. Returns 1 when x may be queued.
 */
static int
multi_slot_ok(struct cmd_ctx *x)
{
    struct conn *c = x->c;
    int idx[256];
    int n;

    if (x->cmd->flags & CMD_KEYSPACE) {
        reply_error(x, "keyspace-wide commands are not allowed in a "
                    "cluster transaction");
        return 0;
    }
    n = cmd_key_indexes(x->cmd, x->argc, idx, 256);
    for (int i = 0; i < n; i++) {
        const struct rk_slice *k = &x->argv[idx[i]];
        int slot = ring_key_slot(k->ptr, k->len);

        if (c->multi_slot < 0) {
            c->multi_slot = slot;
        } else if (c->multi_slot != slot) {
            reply_error(x, "-CROSSSLOT Keys in request don't hash to the "
                        "same slot");
            return 0;
        }
    }
    return 1;
}

/*
 * Check and run one command; its reply goes to slot when given (a
 * deferred command), else to the connection or a new slot behind the
 * pending ones.
 */
static void
dispatch(struct conn *c, int argc, const struct rk_slice *argv,
         struct conn_slot *slot)
{
    struct worker *w = c->w;
    struct cmd_ctx x;

    memset(&x, 0, sizeof(x));
    x.srv = w->srv;
    x.w = w;
    x.c = c;
    x.argc = argc;
    x.argv = argv;
    if (slot != NULL) {
        x.out = &slot->buf;
        x.slot = slot;
    } else if (c->slots != NULL) {
        /* Earlier replies are still pending: queue behind them. */
        slot = conn_slot_open(c);
        if (slot == NULL) {
            c->close_after_reply = 1;
            return;
        }
        x.out = &slot->buf;
        x.slot = slot;
    } else {
        x.out = &c->out;
    }
    STAT_ADD(&w->stats.commands, 1);

    x.cmd = cmd_lookup(argv[0].ptr, argv[0].len);
    if (x.cmd == NULL) {
        reply_unknown_command(&x);
        if (c->in_multi) {
            c->multi_error = 1;
        }
        goto out;
    }
    if (argc >= 2 && (x.cmd->flags & CMD_CONTAINER)) {
        const struct cmd_def *sub = subcommand_lookup(x.cmd, &argv[1]);
        if (sub != NULL) {
            x.parent = x.cmd;
            x.cmd = sub;
        }
    }
    if ((x.cmd->arity > 0 && argc != x.cmd->arity) ||
        (x.cmd->arity < 0 && argc < -x.cmd->arity)) {
        reply_arity_error(&x, x.cmd->name);
        count_rejected(w, x.cmd);
        if (c->in_multi) {
            c->multi_error = 1;
        }
        goto out;
    }
    if (!c->authenticated && !(x.cmd->flags & CMD_NOAUTH)) {
        reply_error(&x, "-NOAUTH Authentication required.");
        count_rejected(w, x.cmd);
        if (c->in_multi) {
            c->multi_error = 1;
        }
        goto out;
    }
    if (c->in_multi && !(x.cmd->flags & CMD_NOMULTI)) {
        if (coord_active(w->srv) && !multi_slot_ok(&x)) {
            c->multi_error = 1;
            goto out;
        }
        if (queue_command(c, &x, argc, argv) != RK_OK) {
            reply_error(&x, "-OOM command not allowed when used memory > "
                        "'maxmemory'.");
            c->multi_error = 1;
            goto out;
        }
        resp_add_raw(x.out, "+QUEUED\r\n", 9);
        goto out;
    }
    cmd_call(&x);
out:
    /* x.slot may have been opened by the coordinator, which keeps it
     * when the command was suspended. */
    if (x.slot != NULL && !x.suspended) {
        conn_slot_done(c, x.slot);
    }
}

/* Keep a copy of the command to run when the commands it waits for are
 * done; its reply slot holds its place. */
static void
defer_command(struct conn *c, int argc, const struct rk_slice *argv)
{
    size_t bytes = 0;
    struct conn_deferred *d;
    char *p;

    for (int i = 0; i < argc; i++) {
        bytes += argv[i].len;
    }
    d = malloc(sizeof(*d) + sizeof(struct rk_slice) * (size_t)argc + bytes +
               1);
    if (d == NULL || (d->slot = conn_slot_open(c)) == NULL) {
        free(d);
        c->close_after_reply = 1;
        return;
    }
    d->slot->held = bytes;
    d->next = NULL;
    d->argc = argc;
    d->argv = (struct rk_slice *)(void *)(d + 1);
    p = (char *)(d->argv + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        d->argv[i].ptr = p;
        d->argv[i].len = argv[i].len;
        p += argv[i].len;
    }
    if (c->deferred_tail != NULL) {
        c->deferred_tail->next = d;
    } else {
        c->deferred = d;
    }
    c->deferred_tail = d;
}

void
cmd_dispatch(struct conn *c, int argc, const struct rk_slice *argv)
{
    /* In a cluster a command may still be waiting for its replicas:
     * one that touches its keys waits for it, and so does everything
     * after a waiting command, so each client's commands run in order. */
    if (c->deferred != NULL || coord_conn_conflicts(c, argc, argv)) {
        defer_command(c, argc, argv);
        return;
    }
    dispatch(c, argc, argv, NULL);
}

void
cmd_run_deferred(struct conn *c)
{
    if (c->running_deferred) {
        return;
    }
    c->running_deferred = 1;
    while (c->deferred != NULL &&
           !coord_conn_conflicts(c, c->deferred->argc, c->deferred->argv)) {
        struct conn_deferred *d = c->deferred;

        c->deferred = d->next;
        if (c->deferred == NULL) {
            c->deferred_tail = NULL;
        }
        d->slot->held = 0;
        dispatch(c, d->argc, d->argv, d->slot);
        free(d);
    }
    c->running_deferred = 0;
}

void
cmd_run_sub(struct cmd_ctx *x, const struct cmd_sub *tab, size_t n,
            const char *upper)
{
    if (x->parent != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(tab[i].fullname, x->cmd->name) == 0) {
                tab[i].fn(x);
                return;
            }
        }
    }
    reply_unknown_subcommand(x, upper);
}

/* COMMAND's flag names, in Redis's order. */
static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {CMD_WRITE, "write"},
    {CMD_READ, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_FAST, "fast"},
    {CMD_NOAUTH, "no_auth"},
};

/* Count the words of a space-separated list. */
static int
count_words(const char *s)
{
    int n = 0;

    while (*s != '\0') {
        while (*s == ' ') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        n++;
        while (*s != '\0' && *s != ' ') {
            s++;
        }
    }
    return n;
}

static void
add_key_spec(struct resp_buf *out, const struct cmd_def *cmd)
{
    int write = (cmd->flags & CMD_WRITE) != 0;

    resp_add_map(out, 3);
    resp_add_bulk_str(out, "flags");
    resp_add_array(out, 2);
    resp_add_status(out, write ? "RW" : "RO");
    resp_add_status(out, write ? "update" : "access");
    resp_add_bulk_str(out, "begin_search");
    resp_add_map(out, 2);
    resp_add_bulk_str(out, "type");
    resp_add_bulk_str(out, "index");
    resp_add_bulk_str(out, "spec");
    resp_add_map(out, 1);
    resp_add_bulk_str(out, "index");
    resp_add_int(out, cmd->first_key);
    resp_add_bulk_str(out, "find_keys");
    resp_add_map(out, 2);
    resp_add_bulk_str(out, "type");
    resp_add_bulk_str(out, "range");
    resp_add_bulk_str(out, "spec");
    resp_add_map(out, 3);
    resp_add_bulk_str(out, "lastkey");
    resp_add_int(out, cmd->last_key < 0 ? cmd->last_key
                                        : cmd->last_key - cmd->first_key);
    resp_add_bulk_str(out, "keystep");
    resp_add_int(out, cmd->key_step);
    resp_add_bulk_str(out, "limit");
    resp_add_int(out, 0);
}

void
cmd_reply_info(struct resp_buf *out, const struct cmd_def *cmd)
{
    size_t nflags = 0;
    const char *a;

    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (cmd->flags & flag_names[i].flag) {
            nflags++;
        }
    }
    resp_add_array(out, 10);
    resp_add_bulk_str(out, cmd->name);
    resp_add_int(out, cmd->arity);
    resp_add_array(out, (long long)nflags);
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (cmd->flags & flag_names[i].flag) {
            resp_add_status(out, flag_names[i].name);
        }
    }
    resp_add_int(out, cmd->first_key);
    resp_add_int(out, cmd->last_key);
    resp_add_int(out, cmd->key_step);
    resp_add_array(out, count_words(cmd->acl));
    for (a = cmd->acl; *a != '\0';) {
        size_t n;
        while (*a == ' ') {
            a++;
        }
        n = strcspn(a, " ");
        if (n > 0) {
            resp_add_status(out, "");
            /* Rewrite the empty status into "+word". */
            out->len -= 2;
            resp_add_raw(out, a, n);
            resp_add_raw(out, "\r\n", 2);
        }
        a += n;
    }
    resp_add_array(out, 0);             /* tips */
    if (cmd->first_key > 0) {
        resp_add_array(out, 1);
        add_key_spec(out, cmd);
    } else {
        resp_add_array(out, 0);
    }
    resp_add_array(out, 0);             /* subcommands */
}
