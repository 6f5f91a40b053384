/*
 * server/cmd_server.c - server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL,
 * CONFIG, COMMAND, TIME, SLOWLOG and SHUTDOWN, answered as Redis 7.0 does.
 *
 * CONFIG, COMMAND and SLOWLOG are containers: a small table per command
 * gives each subcommand its Redis arity (errors name it "config|get") and
 * handler. The INFO text itself is built in info.c.
 */
#include "command.h"
#include "coord.h"
#include "keyspace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "glob.h"
#include "info.h"
#include "kv.h"
#include "reply.h"
#include "resp.h"
#include "srv.h"
#include "store.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Redis's addReplyHelp(): a header naming the container (upper), the
 * NULL-terminated lines, then the HELP entry, each a status reply.
 */
static void
reply_help(struct cmd_ctx *x, const char *upper, const char *const *lines)
{
    char head[128];
    size_t n = 0;

    while (lines[n] != NULL) {
        n++;
    }
    snprintf(head, sizeof(head), "%s <subcommand> [<arg> [value] [opt] "
             "...]. Subcommands are:", upper);
    reply_array(x, (long long)n + 3);
    reply_status(x, head);
    for (size_t i = 0; i < n; i++) {
        reply_status(x, lines[i]);
    }
    reply_status(x, "HELP");
    reply_status(x, "    Prints this help.");
}

static void
reply_oom(struct cmd_ctx *x)
{
    reply_error(x, "-OOM command not allowed when used memory > "
                "'maxmemory'.");
}

/*
 * INFO [section ...]: the text of info.c as one bulk string. Pending
 * writes of this worker are committed first, so the keyspace section
 * counts them.
 */
void
cmd_info(struct cmd_ctx *x)
{
    struct resp_buf text;

    resp_buf_init(&text);
    kv_commit_all(x);
    if (srv_info_generate(x->srv, x->w, x->argc - 1, x->argv + 1,
                          &text) != RK_OK) {
        reply_oom(x);
    } else {
        resp_add_verbatim(x->out, "txt", text.ptr, text.len);
    }
    resp_buf_deinit(&text);
}

/* DBSIZE: live keys of this node's store, counted exactly (O(N)). */
void
cmd_dbsize(struct cmd_ctx *x)
{
    struct srv_key_count kc;

    int rc;

    /* Exact up to SRV_EXACT_KEYS_LIMIT records, then RocksDB's estimate:
     * a full count of millions of keys blocks this worker for seconds
     * (6.7 s for 1.6M keys), and Redis's DBSIZE is O(1). */
    if (coord_active(x->srv)) {
        keyspace_dbsize(x);
        return;
    }
    kv_commit_all(x);
    rc = srv_info_count_keys(x->srv->store, store_now_ms(),
                             SRV_EXACT_KEYS_LIMIT, &kc);
    if (rc < 0) {
        reply_oom(x);
        return;
    }
    if (rc == 0) {
        struct store_stats st;
        store_get_stats(x->srv->store, &st);
        if (st.estimate_keys > kc.keys) {
            kc.keys = st.estimate_keys;
        }
    }
    reply_int(x, (long long)kc.keys);
}

/*
 * FLUSHDB and FLUSHALL [ASYNC|SYNC]: both empty the only database; the
 * flush is synchronous either way.
 */
static void
flush(struct cmd_ctx *x)
{
    if (x->argc > 2 ||
        (x->argc == 2 && !srv_eq(x->argv[1].ptr, x->argv[1].len, "sync") &&
         !srv_eq(x->argv[1].ptr, x->argv[1].len, "async"))) {
        reply_syntax_error(x);
        return;
    }
    if (coord_active(x->srv) && x->overlay == NULL) {
        keyspace_flush(x);
        return;
    }
    if (kv_flush(x) != RK_OK) {
        if (!x->failed) {
            reply_error(x, "Flushing the store failed");
        }
        return;
    }
    reply_ok(x);
}

/* FLUSHDB [ASYNC|SYNC] */
void
cmd_flushdb(struct cmd_ctx *x)
{
    flush(x);
}

/* FLUSHALL [ASYNC|SYNC] */
void
cmd_flushall(struct cmd_ctx *x)
{
    flush(x);
}

/* argv[from..argc) as the (pointer, length) arrays config.c takes. */
struct arg_views {
    size_t n;
    const char **ptrs;
    size_t *lens;
};

/* Fill v (free with arg_views_deinit() either way). RK_OK or RK_ENOMEM. */
static int
arg_views_init(struct arg_views *v, const struct cmd_ctx *x, int from)
{
    v->n = (size_t)(x->argc - from);
    v->ptrs = malloc(v->n * sizeof(*v->ptrs));
    v->lens = malloc(v->n * sizeof(*v->lens));
    if (v->ptrs == NULL || v->lens == NULL) {
        return RK_ENOMEM;
    }
    for (size_t i = 0; i < v->n; i++) {
        v->ptrs[i] = x->argv[from + (int)i].ptr;
        v->lens[i] = x->argv[from + (int)i].len;
    }
    return RK_OK;
}

static void
arg_views_deinit(struct arg_views *v)
{
    free(v->ptrs);
    free(v->lens);
}

/* CONFIG GET pattern [pattern ...] */
static void
config_get(struct cmd_ctx *x)
{
    struct arg_views v;

    if (arg_views_init(&v, x, 2) != RK_OK ||
        srv_config_get(&x->srv->cfg, x->out, v.n, v.ptrs, v.lens) != RK_OK) {
        reply_oom(x);
    }
    arg_views_deinit(&v);
}

/*
 * Hand what CONFIG SET changed to the parts that keep their own copy. The
 * current values are applied, not the ones this call set, so concurrent
 * CONFIG SETs leave the store agreeing with the config. Bulk length,
 * quorums and the log level are read from the config where they are used.
 */
static void
config_apply(struct srv *s, unsigned changed)
{
    int fsync;
    long long cache_size;
    long long slowlog_max_len;

    pthread_mutex_lock(&s->cfg.lock);
    fsync = s->cfg.fsync;
    cache_size = s->cfg.cache_size;
    slowlog_max_len = s->cfg.slowlog_max_len;
    pthread_mutex_unlock(&s->cfg.lock);
    if (changed & SRV_CFG_CHANGED_QUORUM) {
        coord_config_refresh(s);
    }
    if (changed & SRV_CFG_CHANGED_FSYNC) {
        store_set_fsync(s->store, (enum store_fsync)fsync);
    }
    if (changed & SRV_CFG_CHANGED_CACHE) {
        store_set_cache_bytes(s->store, (size_t)cache_size);
    }
    if (changed & SRV_CFG_CHANGED_SLOWLOG) {
        srv_slowlog_resize(s, slowlog_max_len);
    }
}

/* CONFIG SET name value [name value ...]: all or nothing, as Redis 7. */
static void
config_set(struct cmd_ctx *x)
{
    struct arg_views v;
    unsigned changed = 0;
    char err[512];

    if (arg_views_init(&v, x, 2) != RK_OK) {
        reply_oom(x);
        goto out;
    }
    if (srv_config_set(&x->srv->cfg, v.n, v.ptrs, v.lens, &changed, err,
                       sizeof(err)) != 0) {
        reply_error(x, err);
        goto out;
    }
    config_apply(x->srv, changed);
    reply_ok(x);
out:
    arg_views_deinit(&v);
}

static void
config_resetstat(struct cmd_ctx *x)
{
    srv_info_reset_stats(x->srv);
    reply_ok(x);
}

/* CONFIG REWRITE: ringkv never writes its config file. */
static void
config_rewrite(struct cmd_ctx *x)
{
    const char *file = x->srv->cfg.config_file;   /* fixed at start */

    if (file == NULL) {
        reply_error(x, "The server is running without a config file");
        return;
    }
    reply_errorf(x, "CONFIG REWRITE is not supported by ringkv; edit %s "
                 "instead", file);
}

static void
config_help(struct cmd_ctx *x)
{
    static const char *const lines[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their "
        "values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };

    reply_help(x, "CONFIG", lines);
}

static const struct cmd_sub config_subcmds[] = {
    {"config|get", config_get},
    {"config|set", config_set},
    {"config|resetstat", config_resetstat},
    {"config|rewrite", config_rewrite},
    {"config|help", config_help},
};

/* CONFIG GET|SET|RESETSTAT|REWRITE|HELP ... */
void
cmd_config(struct cmd_ctx *x)
{
    cmd_run_sub(x, config_subcmds, NELEM(config_subcmds), "CONFIG");
}

/*
 * COMMAND DOCS text: Redis 7.0's group, first version, complexity (its
 * leading formula) and summary of each command. A command missing here
 * gets a summary pointing at redis-compat.md and a group from its ACL
 * categories.
 */
static const struct cmd_doc {
    const char *name;
    const char *group;
    const char *since;
    const char *complexity;
    const char *summary;
} cmd_docs[] = {
    {"ping", "connection", "1.0.0", "O(1)", "Ping the server"},
    {"echo", "connection", "1.0.0", "O(1)", "Echo the given string"},
    {"quit", "connection", "1.0.0", "O(1)", "Close the connection"},
    {"reset", "connection", "6.2.0", "O(1)", "Reset the connection"},
    {"auth", "connection", "1.0.0", "O(N)", "Authenticate to the server"},
    {"select", "connection", "1.0.0", "O(1)",
     "Change the selected database for the current connection"},
    {"hello", "connection", "6.0.0", "O(1)", "Handshake with Redis"},
    {"client", "connection", "2.4.0", "Depends on subcommand",
     "A container for client connection commands"},
    {"multi", "transactions", "1.2.0", "O(1)",
     "Mark the start of a transaction block"},
    {"exec", "transactions", "1.2.0", "Depends on the queued commands",
     "Execute all commands issued after MULTI"},
    {"discard", "transactions", "2.0.0", "O(N)",
     "Discard all commands issued after MULTI"},
    {"watch", "transactions", "2.2.0", "O(1) for every key",
     "Watch the given keys to determine execution of the MULTI/EXEC block"},
    {"unwatch", "transactions", "2.2.0", "O(1)",
     "Forget about all watched keys"},
    {"info", "server", "1.0.0", "O(1)",
     "Get information and statistics about the server"},
    {"dbsize", "server", "1.0.0", "O(N)",
     "Return the number of keys in the selected database"},
    {"flushdb", "server", "1.0.0", "O(N)",
     "Remove all keys from the current database"},
    {"flushall", "server", "1.0.0", "O(N)",
     "Remove all keys from all databases"},
    {"config", "server", "2.0.0", "Depends on subcommand",
     "A container for server configuration commands"},
    {"command", "server", "2.8.13", "O(N)",
     "Get array of Redis command details"},
    {"time", "server", "2.6.0", "O(1)", "Return the current server time"},
    {"slowlog", "server", "2.2.12", "Depends on subcommand",
     "A container for slow log commands"},
    {"shutdown", "server", "1.0.0", "O(1)",
     "Synchronously save the dataset to disk and then shut down the server"},
    {"get", "string", "1.0.0", "O(1)", "Get the value of a key"},
    {"set", "string", "1.0.0", "O(1)", "Set the string value of a key"},
    {"setnx", "string", "1.0.0", "O(1)",
     "Set the value of a key, only if the key does not exist"},
    {"setex", "string", "2.0.0", "O(1)",
     "Set the value and expiration of a key"},
    {"psetex", "string", "2.6.0", "O(1)",
     "Set the value and expiration in milliseconds of a key"},
    {"getset", "string", "1.0.0", "O(1)",
     "Set the string value of a key and return its old value"},
    {"getdel", "string", "6.2.0", "O(1)",
     "Get the value of a key and delete the key"},
    {"getex", "string", "6.2.0", "O(1)",
     "Get the value of a key and optionally set its expiration"},
    {"mget", "string", "1.0.0", "O(N)", "Get the values of all the given keys"},
    {"mset", "string", "1.0.1", "O(N)", "Set multiple keys to multiple values"},
    {"msetnx", "string", "1.0.1", "O(N)",
     "Set multiple keys to multiple values, only if none of the keys exist"},
    {"append", "string", "2.0.0", "O(1)", "Append a value to a key"},
    {"strlen", "string", "2.2.0", "O(1)",
     "Get the length of the value stored in a key"},
    {"incr", "string", "1.0.0", "O(1)",
     "Increment the integer value of a key by one"},
    {"decr", "string", "1.0.0", "O(1)",
     "Decrement the integer value of a key by one"},
    {"incrby", "string", "1.0.0", "O(1)",
     "Increment the integer value of a key by the given amount"},
    {"decrby", "string", "1.0.0", "O(1)",
     "Decrement the integer value of a key by the given number"},
    {"incrbyfloat", "string", "2.6.0", "O(1)",
     "Increment the float value of a key by the given amount"},
    {"getrange", "string", "2.4.0", "O(N)",
     "Get a substring of the string stored at a key"},
    {"setrange", "string", "2.2.0", "O(1)",
     "Overwrite part of a string at key starting at the specified offset"},
    {"del", "generic", "1.0.0", "O(N)", "Delete a key"},
    {"unlink", "generic", "4.0.0", "O(1)",
     "Delete a key asynchronously in another thread. Otherwise it is just as "
     "DEL, but non blocking."},
    {"exists", "generic", "1.0.0", "O(N)", "Determine if a key exists"},
    {"touch", "generic", "3.2.1", "O(N)",
     "Alters the last access time of a key(s). Returns the number of "
     "existing keys specified."},
    {"type", "generic", "1.0.0", "O(1)", "Determine the type stored at key"},
    {"expire", "generic", "1.0.0", "O(1)",
     "Set a key's time to live in seconds"},
    {"pexpire", "generic", "2.6.0", "O(1)",
     "Set a key's time to live in milliseconds"},
    {"expireat", "generic", "1.2.0", "O(1)",
     "Set the expiration for a key as a UNIX timestamp"},
    {"pexpireat", "generic", "2.6.0", "O(1)",
     "Set the expiration for a key as a UNIX timestamp specified in "
     "milliseconds"},
    {"ttl", "generic", "1.0.0", "O(1)",
     "Get the time to live for a key in seconds"},
    {"pttl", "generic", "2.6.0", "O(1)",
     "Get the time to live for a key in milliseconds"},
    {"expiretime", "generic", "7.0.0", "O(1)",
     "Get the expiration Unix timestamp for a key"},
    {"pexpiretime", "generic", "7.0.0", "O(1)",
     "Get the expiration Unix timestamp for a key in milliseconds"},
    {"persist", "generic", "2.2.0", "O(1)", "Remove the expiration from a key"},
    {"keys", "generic", "1.0.0", "O(N)",
     "Find all keys matching the given pattern"},
    {"scan", "generic", "2.8.0", "O(1) for every call",
     "Incrementally iterate the keys space"},
    {"randomkey", "generic", "1.0.0", "O(1)",
     "Return a random key from the keyspace"},
    {"rename", "generic", "1.0.0", "O(1)", "Rename a key"},
    {"renamenx", "generic", "1.0.0", "O(1)",
     "Rename a key, only if the new key does not exist"},
};

/* 1 when the space-separated ACL list acl holds "@cat" (any case). */
static int
acl_has(const char *acl, const char *cat, size_t len)
{
    while (*acl != '\0') {
        size_t n;

        while (*acl == ' ') {
            acl++;
        }
        n = strcspn(acl, " ");
        if (n == len + 1 && acl[0] == '@' &&
            strncasecmp(acl + 1, cat, len) == 0) {
            return 1;
        }
        acl += n;
    }
    return 0;
}

/* Redis's command group of a command that cmd_docs does not list. */
static const char *
acl_group(const char *acl)
{
    if (acl_has(acl, "string", 6)) {
        return "string";
    }
    if (acl_has(acl, "transaction", 11)) {
        return "transactions";
    }
    if (acl_has(acl, "connection", 10)) {
        return "connection";
    }
    if (acl_has(acl, "keyspace", 8)) {
        return "generic";
    }
    return "server";
}

/* Append "name" and its COMMAND DOCS map (a flat array in RESP2). */
static void
reply_docs(struct cmd_ctx *x, const struct cmd_def *d)
{
    const struct cmd_doc *doc = NULL;

    for (size_t i = 0; i < NELEM(cmd_docs) && doc == NULL; i++) {
        if (strcmp(cmd_docs[i].name, d->name) == 0) {
            doc = &cmd_docs[i];
        }
    }
    reply_bulk_str(x, d->name);
    if (doc == NULL) {
        resp_add_map(x->out, 2);
        reply_bulk_str(x, "summary");
        reply_bulk_str(x, "A ringkv command: see redis-compat.md");
        reply_bulk_str(x, "group");
        reply_bulk_str(x, acl_group(d->acl));
        return;
    }
    resp_add_map(x->out, 4);
    reply_bulk_str(x, "summary");
    reply_bulk_str(x, doc->summary);
    reply_bulk_str(x, "since");
    reply_bulk_str(x, doc->since);
    reply_bulk_str(x, "group");
    reply_bulk_str(x, doc->group);
    reply_bulk_str(x, "complexity");
    reply_bulk_str(x, doc->complexity);
}

/* COMMAND and COMMAND INFO without names: every command. */
static void
command_all(struct cmd_ctx *x)
{
    const struct cmd_def *tab = cmd_table();

    reply_array(x, (long long)cmd_count());
    for (size_t i = 0; i < cmd_count(); i++) {
        cmd_reply_info(x->out, &tab[i]);
    }
}

static void
command_count(struct cmd_ctx *x)
{
    reply_int(x, (long long)cmd_count());
}

/* COMMAND INFO [name ...]: a nil for each unknown name. */
static void
command_info(struct cmd_ctx *x)
{
    if (x->argc == 2) {
        command_all(x);
        return;
    }
    reply_array(x, x->argc - 2);
    for (int i = 2; i < x->argc; i++) {
        const struct cmd_def *d = cmd_lookup(x->argv[i].ptr,
                                             x->argv[i].len);
        if (d == NULL) {
            reply_null(x);
        } else {
            cmd_reply_info(x->out, d);
        }
    }
}

/* COMMAND DOCS [name ...]: unknown names are left out. */
static void
command_docs(struct cmd_ctx *x)
{
    const struct cmd_def *tab = cmd_table();
    long long n = 0;

    if (x->argc == 2) {
        resp_add_map(x->out, (long long)cmd_count());
        for (size_t i = 0; i < cmd_count(); i++) {
            reply_docs(x, &tab[i]);
        }
        return;
    }
    for (int i = 2; i < x->argc; i++) {
        n += cmd_lookup(x->argv[i].ptr, x->argv[i].len) != NULL;
    }
    resp_add_map(x->out, n);
    for (int i = 2; i < x->argc; i++) {
        const struct cmd_def *d = cmd_lookup(x->argv[i].ptr,
                                             x->argv[i].len);
        if (d != NULL) {
            reply_docs(x, d);
        }
    }
}

/*
 * COMMAND GETKEYS / GETKEYSANDFLAGS cmd arg...: the keys of a full command
 * line (argv[2..]), each with Redis's key-spec flags when with_flags.
 */
static void
command_getkeys_impl(struct cmd_ctx *x, int with_flags)
{
    const struct cmd_def *d = cmd_lookup(x->argv[2].ptr, x->argv[2].len);
    const struct rk_slice *args = x->argv + 2;
    int argc = x->argc - 2;
    int *idx = NULL;
    int n;

    if (d == NULL) {
        reply_error(x, "Invalid command specified");
        return;
    }
    if (d->first_key <= 0) {
        reply_error(x, "The command has no key arguments");
        return;
    }
    if ((d->arity > 0 && d->arity != argc) ||
        (d->arity < 0 && argc < -d->arity)) {
        reply_error(x, "Invalid number of arguments specified for command");
        return;
    }
    idx = malloc((size_t)argc * sizeof(*idx));
    if (idx == NULL) {
        reply_oom(x);
        goto out;
    }
    n = cmd_key_indexes(d, argc, idx, argc);
    if (n == 0) {
        reply_error(x, "Invalid arguments specified for command");
        goto out;
    }
    reply_array(x, n);
    for (int i = 0; i < n; i++) {
        const struct rk_slice *k = &args[idx[i]];

        if (with_flags) {
            reply_array(x, 2);
        }
        reply_bulk(x, k->ptr, k->len);
        if (with_flags) {
            int write = (d->flags & CMD_WRITE) != 0;

            reply_array(x, 2);
            reply_status(x, write ? "RW" : "RO");
            reply_status(x, write ? "update" : "access");
        }
    }
out:
    free(idx);
}

static void
command_getkeys(struct cmd_ctx *x)
{
    command_getkeys_impl(x, 0);
}

static void
command_getkeysandflags(struct cmd_ctx *x)
{
    command_getkeys_impl(x, 1);
}

/* COMMAND LIST's FILTERBY kinds. */
enum list_filter {
    LIST_ALL,
    LIST_MODULE,       /* no modules here: matches nothing */
    LIST_ACLCAT,
    LIST_PATTERN,
};

static int
list_match(const struct cmd_def *d, enum list_filter f,
           const struct rk_slice *arg)
{
    switch (f) {
    case LIST_ALL:
        return 1;
    case LIST_ACLCAT:
        return acl_has(d->acl, arg->ptr, arg->len);
    case LIST_PATTERN:
        return srv_glob_match(arg->ptr, arg->len, d->name, strlen(d->name),
                              1);
    default:
        return 0;
    }
}

/* COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN glob] */
static void
command_list(struct cmd_ctx *x)
{
    const struct cmd_def *tab = cmd_table();
    enum list_filter f = LIST_ALL;
    const struct rk_slice *arg = NULL;
    long long n = 0;

    for (int i = 2; i < x->argc; i++) {
        const struct rk_slice *a = &x->argv[i];

        if (!srv_eq(a->ptr, a->len, "filterby") || x->argc - 1 - i != 2) {
            reply_syntax_error(x);
            return;
        }
        a = &x->argv[i + 1];
        if (srv_eq(a->ptr, a->len, "module")) {
            f = LIST_MODULE;
        } else if (srv_eq(a->ptr, a->len, "aclcat")) {
            f = LIST_ACLCAT;
        } else if (srv_eq(a->ptr, a->len, "pattern")) {
            f = LIST_PATTERN;
        } else {
            reply_syntax_error(x);
            return;
        }
        arg = &x->argv[i + 2];
        i += 2;
    }
    for (size_t i = 0; i < cmd_count(); i++) {
        n += list_match(&tab[i], f, arg);
    }
    reply_array(x, n);
    for (size_t i = 0; i < cmd_count(); i++) {
        if (list_match(&tab[i], f, arg)) {
            reply_bulk_str(x, tab[i].name);
        }
    }
}

static void
command_help(struct cmd_ctx *x)
{
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL,
    };

    reply_help(x, "COMMAND", lines);
}

static const struct cmd_sub command_subcmds[] = {
    {"command|count", command_count},
    {"command|docs", command_docs},
    {"command|getkeys", command_getkeys},
    {"command|getkeysandflags", command_getkeysandflags},
    {"command|help", command_help},
    {"command|info", command_info},
    {"command|list", command_list},
};

/* COMMAND [COUNT|DOCS|GETKEYS|GETKEYSANDFLAGS|HELP|INFO|LIST ...] */
void
cmd_command(struct cmd_ctx *x)
{
    if (x->argc == 1) {
        command_all(x);
        return;
    }
    cmd_run_sub(x, command_subcmds, NELEM(command_subcmds), "COMMAND");
}

/* TIME: unix seconds and microseconds, two bulk strings. */
void
cmd_time(struct cmd_ctx *x)
{
    long long us = srv_ustime();

    reply_array(x, 2);
    resp_add_bulk_ll(x->out, us / 1000000);
    resp_add_bulk_ll(x->out, us % 1000000);
}

/* SLOWLOG GET [count]: newest first; count -1 means all, default 10. */
static void
slowlog_get(struct cmd_ctx *x)
{
    struct srv *s = x->srv;
    long long count = 10;

    if (x->argc > 3) {
        int n = x->argv[1].len < 128 ? (int)x->argv[1].len : 128;

        reply_errorf(x, "unknown subcommand or wrong number of arguments "
                     "for '%.*s'. Try SLOWLOG HELP.", n, x->argv[1].ptr);
        return;
    }
    if (x->argc == 3 &&
        (!srv_str2ll(x->argv[2].ptr, x->argv[2].len, &count) ||
         count < -1)) {
        reply_error(x, "count should be greater than or equal to -1");
        return;
    }
    pthread_mutex_lock(&s->slowlog_lock);
    if (count == -1 || count > s->slowlog_len) {
        count = s->slowlog_len;
    }
    reply_array(x, count);
    for (long long i = 0; i < count; i++) {
        long long at = (s->slowlog_head - i + s->slowlog_cap) %
                       s->slowlog_cap;
        const struct srv_slowlog_entry *e = &s->slowlog[at];

        reply_array(x, 6);
        reply_int(x, e->id);
        reply_int(x, e->time);
        reply_int(x, e->duration_us);
        reply_array(x, e->argc);
        for (int j = 0; j < e->argc; j++) {
            reply_bulk(x, e->argv[j], e->argv_len[j]);
        }
        reply_bulk_str(x, e->peer != NULL ? e->peer : "");
        reply_bulk_str(x, e->name != NULL ? e->name : "");
    }
    pthread_mutex_unlock(&s->slowlog_lock);
}

static void
slowlog_len(struct cmd_ctx *x)
{
    long long n;

    pthread_mutex_lock(&x->srv->slowlog_lock);
    n = x->srv->slowlog_len;
    pthread_mutex_unlock(&x->srv->slowlog_lock);
    reply_int(x, n);
}

static void
slowlog_reset(struct cmd_ctx *x)
{
    srv_slowlog_reset(x->srv);
    reply_ok(x);
}

static void
slowlog_help(struct cmd_ctx *x)
{
    static const char *const lines[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 "
        "mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client "
        "IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };

    reply_help(x, "SLOWLOG", lines);
}

static const struct cmd_sub slowlog_subcmds[] = {
    {"slowlog|get", slowlog_get},
    {"slowlog|len", slowlog_len},
    {"slowlog|reset", slowlog_reset},
    {"slowlog|help", slowlog_help},
};

/* SLOWLOG GET|LEN|RESET|HELP ... */
void
cmd_slowlog(struct cmd_ctx *x)
{
    cmd_run_sub(x, slowlog_subcmds, NELEM(slowlog_subcmds), "SLOWLOG");
}

/*
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stop every loop; main then
 * commits and syncs the store and exits 0. As in Redis the client gets no
 * reply: its connection closes. Every write is already in the WAL, so SAVE
 * changes nothing; NOSAVE is passed on in shutdown_nosave. A shutdown
 * cannot be aborted once asked for, so ABORT always finds none running.
 */
void
cmd_shutdown(struct cmd_ctx *x)
{
    int nosave = 0;
    int save = 0;
    int other = 0;    /* NOW, FORCE */
    int abort = 0;

    for (int i = 1; i < x->argc; i++) {
        const char *p = x->argv[i].ptr;
        size_t len = x->argv[i].len;

        if (srv_eq(p, len, "nosave")) {
            nosave = 1;
        } else if (srv_eq(p, len, "save")) {
            save = 1;
        } else if (srv_eq(p, len, "now") || srv_eq(p, len, "force")) {
            other = 1;
        } else if (srv_eq(p, len, "abort")) {
            abort = 1;
        } else {
            reply_syntax_error(x);
            return;
        }
    }
    if ((abort && (nosave || save || other)) || (nosave && save)) {
        reply_syntax_error(x);
        return;
    }
    if (abort) {
        reply_error(x, "No shutdown in progress.");
        return;
    }
    if (nosave) {
        atomic_store(&x->srv->shutdown_nosave, 1);
    }
    if (x->c != NULL) {
        x->c->close_after_reply = 1;
    }
    srv_request_shutdown(x->srv);
}
