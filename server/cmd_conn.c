/*
 * server/cmd_conn.c - connection commands: PING, ECHO, QUIT, RESET, AUTH,
 * SELECT, HELLO, CLIENT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conn.h"
#include "reply.h"
#include "resp.h"
#include "srv.h"
#include "util.h"
#include "worker.h"

void
cmd_ping(struct cmd_ctx *x)
{
    if (x->argc > 2) {
        reply_arity_error(x, "ping");
    } else if (x->argc == 2) {
        reply_bulk(x, x->argv[1].ptr, x->argv[1].len);
    } else {
        reply_status(x, "PONG");
    }
}

void
cmd_echo(struct cmd_ctx *x)
{
    reply_bulk(x, x->argv[1].ptr, x->argv[1].len);
}

void
cmd_quit(struct cmd_ctx *x)
{
    reply_ok(x);
    x->c->close_after_reply = 1;
}

/* 1 when no password is set. */
static int
no_password(struct srv *s)
{
    int none;

    pthread_mutex_lock(&s->cfg.lock);
    none = s->cfg.requirepass == NULL || s->cfg.requirepass[0] == '\0';
    pthread_mutex_unlock(&s->cfg.lock);
    return none;
}

/* 1 when user/pass are valid for the default user. */
static int
check_password(struct srv *s, const struct rk_slice *user,
               const struct rk_slice *pass)
{
    int ok;

    if (user != NULL && !(user->len == 7 &&
                          memcmp(user->ptr, "default", 7) == 0)) {
        return 0;
    }
    pthread_mutex_lock(&s->cfg.lock);
    if (s->cfg.requirepass == NULL || s->cfg.requirepass[0] == '\0') {
        ok = 1;     /* the default user has nopass */
    } else {
        size_t n = strlen(s->cfg.requirepass);
        /* Compare every byte so the time does not tell the prefix. */
        unsigned diff = (unsigned)(n ^ pass->len);
        for (size_t i = 0; i < pass->len; i++) {
            diff |= (unsigned char)pass->ptr[i] ^
                    (unsigned char)s->cfg.requirepass[i < n ? i : 0];
        }
        ok = diff == 0;
    }
    pthread_mutex_unlock(&s->cfg.lock);
    return ok;
}

static void
set_authenticated(struct conn *c, int yes)
{
    c->authenticated = yes != 0;
    c->parser.unauth = !c->authenticated;
}

void
cmd_auth(struct cmd_ctx *x)
{
    const struct rk_slice *user = NULL;
    const struct rk_slice *pass;

    if (x->argc > 3) {
        reply_syntax_error(x);
        return;
    }
    if (x->argc == 2) {
        if (no_password(x->srv)) {
            reply_error(x, "AUTH <password> called without any password "
                        "configured for the default user. Are you sure your "
                        "configuration is correct?");
            return;
        }
        pass = &x->argv[1];
    } else {
        user = &x->argv[1];
        pass = &x->argv[2];
    }
    if (check_password(x->srv, user, pass)) {
        set_authenticated(x->c, 1);
        reply_ok(x);
    } else {
        reply_error(x, "-WRONGPASS invalid username-password pair or user "
                    "is disabled.");
    }
}

void
cmd_select(struct cmd_ctx *x)
{
    long long db;

    if (!srv_str2ll(x->argv[1].ptr, x->argv[1].len, &db)) {
        reply_not_integer(x);
        return;
    }
    if (db != 0) {
        /* One keyspace per cluster, as Redis Cluster has. */
        reply_error(x, "DB index is out of range");
        return;
    }
    reply_ok(x);
}

static int
set_client_name(struct cmd_ctx *x, const struct rk_slice *name)
{
    char *copy = NULL;

    for (size_t i = 0; i < name->len; i++) {
        unsigned char ch = (unsigned char)name->ptr[i];
        if (ch < '!' || ch > '~') {
            reply_error(x, "Client names cannot contain spaces, newlines or "
                        "special characters.");
            return RK_ERR;
        }
    }
    if (name->len > 0) {
        copy = malloc(name->len + 1);
        if (copy == NULL) {
            reply_error(x, "-OOM out of memory");
            return RK_ERR;
        }
        memcpy(copy, name->ptr, name->len);
        copy[name->len] = '\0';
    }
    free(x->c->name);
    x->c->name = copy;
    return RK_OK;
}

void
cmd_reset(struct cmd_ctx *x)
{
    struct conn *c = x->c;

    conn_multi_reset(c);
    conn_unwatch(c);
    free(c->name);
    c->name = NULL;
    c->read_level = 0;
    c->write_level = 0;
    set_authenticated(c, no_password(x->srv));
    c->out.resp3 = 0;
    x->out->resp3 = 0;
    reply_status(x, "RESET");
}

void
cmd_hello(struct cmd_ctx *x)
{
    struct conn *c = x->c;
    long long ver = c->out.resp3 ? 3 : 2;   /* HELLO alone keeps it */
    const struct rk_slice *user = NULL;
    const struct rk_slice *pass = NULL;
    const struct rk_slice *name = NULL;

    if (x->argc >= 2) {
        if (!srv_str2ll(x->argv[1].ptr, x->argv[1].len, &ver)) {
            reply_error(x, "Protocol version is not an integer or out of "
                        "range");
            return;
        }
        for (int i = 2; i < x->argc; i++) {
            int more = x->argc - i - 1;
            if (srv_eq(x->argv[i].ptr, x->argv[i].len, "auth") &&
                more >= 2) {
                user = &x->argv[i + 1];
                pass = &x->argv[i + 2];
                i += 2;
            } else if (srv_eq(x->argv[i].ptr, x->argv[i].len, "setname") &&
                       more >= 1) {
                name = &x->argv[i + 1];
                i += 1;
            } else {
                reply_errorf(x, "Syntax error in HELLO option '%.*s'",
                             (int)(x->argv[i].len > 128 ? 128
                                                        : x->argv[i].len),
                             x->argv[i].ptr);
                return;
            }
        }
        if (ver != 2 && ver != 3) {
            reply_error(x, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    if (user != NULL) {
        if (!check_password(x->srv, user, pass)) {
            reply_error(x, "-WRONGPASS invalid username-password pair or "
                        "user is disabled.");
            return;
        }
        set_authenticated(c, 1);
    }
    if (!c->authenticated) {
        reply_error(x, "-NOAUTH HELLO must be called with the client already "
                    "authenticated, otherwise the HELLO AUTH <user> <pass> "
                    "option can be used to authenticate the client and "
                    "select the RESP protocol version at the same time");
        return;
    }
    if (name != NULL && set_client_name(x, name) != RK_OK) {
        return;
    }
    /* The reply is already in the new protocol, as in Redis. */
    c->out.resp3 = ver == 3;
    x->out->resp3 = c->out.resp3;
    resp_add_map(x->out, 7);
    reply_bulk_str(x, "server");
    reply_bulk_str(x, "redis");
    reply_bulk_str(x, "version");
    reply_bulk_str(x, "7.0.15");
    reply_bulk_str(x, "proto");
    reply_int(x, c->out.resp3 ? 3 : 2);
    reply_bulk_str(x, "id");
    reply_int(x, (long long)c->id);
    reply_bulk_str(x, "mode");
    reply_bulk_str(x, "standalone");
    reply_bulk_str(x, "role");
    reply_bulk_str(x, "master");
    reply_bulk_str(x, "modules");
    reply_array(x, 0);
}

/* CLIENT LIST / CLIENT INFO output of every client (or one). */
static void
client_list(struct cmd_ctx *x, const long long *ids, size_t nids)
{
    struct srv *s = x->srv;
    struct resp_buf text;

    resp_buf_init(&text);
    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = s->workers[i];
        pthread_mutex_lock(&w->lock);
        for (struct conn *c = w->clients; c != NULL; c = c->next) {
            int want = nids == 0;
            for (size_t j = 0; j < nids; j++) {
                if ((unsigned long long)ids[j] == c->id) {
                    want = 1;
                }
            }
            if (want) {
                conn_describe(c, &text);
            }
        }
        pthread_mutex_unlock(&w->lock);
    }
    resp_add_verbatim(x->out, "txt", text.ptr, text.len);
    resp_buf_deinit(&text);
}

/* Filters of CLIENT KILL. */
struct kill_filter {
    const struct rk_slice *addr;
    const struct rk_slice *laddr;
    long long id;             /* 0: any */
    int skipme;
    long long maxage;         /* seconds; 0: any */
};

static int
slice_is(const struct rk_slice *s, const char *str)
{
    return s->len == strlen(str) && memcmp(s->ptr, str, s->len) == 0;
}

static long long
client_kill(struct cmd_ctx *x, const struct kill_filter *f)
{
    struct srv *s = x->srv;
    long long killed = 0;
    long long now = srv_mstime();

    for (int i = 0; i < s->nworkers; i++) {
        struct worker *w = s->workers[i];
        int any = 0;
        pthread_mutex_lock(&w->lock);
        for (struct conn *c = w->clients; c != NULL; c = c->next) {
            if (f->addr != NULL && !slice_is(f->addr, c->peer)) {
                continue;
            }
            if (f->laddr != NULL && !slice_is(f->laddr, c->local)) {
                continue;
            }
            if (f->id != 0 && (unsigned long long)f->id != c->id) {
                continue;
            }
            if (f->maxage > 0 && (now - c->ctime_ms) / 1000 < f->maxage) {
                continue;
            }
            if (c == x->c) {
                if (f->skipme) {
                    continue;
                }
                c->close_after_reply = 1;
            } else {
                atomic_store(&c->kill, 1);
                any = 1;
            }
            killed++;
        }
        pthread_mutex_unlock(&w->lock);
        if (any) {
            worker_wake(w);
        }
    }
    return killed;
}

static void
client_kill_cmd(struct cmd_ctx *x)
{
    struct kill_filter f;

    memset(&f, 0, sizeof(f));
    f.skipme = 1;
    if (x->argc == 3) {
        /* Old form: CLIENT KILL addr:port. */
        f.addr = &x->argv[2];
        f.skipme = 0;
        if (client_kill(x, &f) == 0) {
            reply_error(x, "No such client");
        } else {
            reply_ok(x);
        }
        return;
    }
    if (x->argc % 2 != 0) {
        reply_syntax_error(x);
        return;
    }
    for (int i = 2; i + 1 < x->argc; i += 2) {
        const struct rk_slice *k = &x->argv[i];
        const struct rk_slice *v = &x->argv[i + 1];
        if (srv_eq(k->ptr, k->len, "id")) {
            if (!srv_str2ll(v->ptr, v->len, &f.id) || f.id <= 0) {
                reply_error(x, "client-id should be greater than 0");
                return;
            }
        } else if (srv_eq(k->ptr, k->len, "addr")) {
            f.addr = v;
        } else if (srv_eq(k->ptr, k->len, "laddr")) {
            f.laddr = v;
        } else if (srv_eq(k->ptr, k->len, "skipme")) {
            if (srv_eq(v->ptr, v->len, "yes")) {
                f.skipme = 1;
            } else if (srv_eq(v->ptr, v->len, "no")) {
                f.skipme = 0;
            } else {
                reply_syntax_error(x);
                return;
            }
        } else if (srv_eq(k->ptr, k->len, "maxage")) {
            if (!srv_str2ll(v->ptr, v->len, &f.maxage) || f.maxage < 0) {
                reply_syntax_error(x);
                return;
            }
        } else if (srv_eq(k->ptr, k->len, "type")) {
            if (!srv_eq(v->ptr, v->len, "normal")) {
                if (srv_eq(v->ptr, v->len, "master") ||
                    srv_eq(v->ptr, v->len, "replica") ||
                    srv_eq(v->ptr, v->len, "slave") ||
                    srv_eq(v->ptr, v->len, "pubsub")) {
                    reply_int(x, 0);
                } else {
                    reply_errorf(x, "Unknown client type '%.*s'",
                                 (int)v->len, v->ptr);
                }
                return;
            }
        } else if (srv_eq(k->ptr, k->len, "user")) {
            if (!slice_is(v, "default")) {
                reply_errorf(x, "No such user '%.*s'", (int)v->len, v->ptr);
                return;
            }
        } else {
            reply_syntax_error(x);
            return;
        }
    }
    reply_int(x, client_kill(x, &f));
}

static const char *client_help[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients of specified IDs only.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "HELP",
    "    Print this help.",
};

static void
client_setinfo(struct cmd_ctx *x)
{
    const struct rk_slice *v = &x->argv[3];
    char *dst;

    if (srv_eq(x->argv[2].ptr, x->argv[2].len, "lib-name")) {
        dst = x->c->lib_name;
    } else if (srv_eq(x->argv[2].ptr, x->argv[2].len, "lib-ver")) {
        dst = x->c->lib_ver;
    } else {
        reply_errorf(x, "Unrecognized option '%.*s'",
                     (int)(x->argv[2].len > 64 ? 64 : x->argv[2].len),
                     x->argv[2].ptr);
        return;
    }
    for (size_t i = 0; i < v->len; i++) {
        unsigned char ch = (unsigned char)v->ptr[i];
        if (ch < '!' || ch > '~') {
            reply_errorf(x, "%.*s cannot contain spaces, newlines or special "
                         "characters.", (int)x->argv[2].len, x->argv[2].ptr);
            return;
        }
    }
    if (v->len >= CONN_LIB_LEN) {
        reply_errorf(x, "%.*s is too long", (int)x->argv[2].len,
                     x->argv[2].ptr);
        return;
    }
    memcpy(dst, v->ptr, v->len);
    dst[v->len] = '\0';
    reply_ok(x);
}

static void
client_id(struct cmd_ctx *x)
{
    reply_int(x, (long long)x->c->id);
}

static void
client_setname(struct cmd_ctx *x)
{
    if (set_client_name(x, &x->argv[2]) == RK_OK) {
        reply_ok(x);
    }
}

static void
client_getname(struct cmd_ctx *x)
{
    if (x->c->name != NULL) {
        reply_bulk_str(x, x->c->name);
    } else {
        reply_null(x);
    }
}

/* CLIENT LIST [TYPE type] [ID id ...] */
static void
client_list_cmd(struct cmd_ctx *x)
{
    long long ids[64];
    size_t nids = 0;

    for (int i = 2; i < x->argc; i++) {
        if (srv_eq(x->argv[i].ptr, x->argv[i].len, "type") &&
            i + 1 < x->argc && x->argc == 4) {
            const struct rk_slice *t = &x->argv[i + 1];
            if (srv_eq(t->ptr, t->len, "normal")) {
                i++;
                continue;
            }
            if (srv_eq(t->ptr, t->len, "master") ||
                srv_eq(t->ptr, t->len, "replica") ||
                srv_eq(t->ptr, t->len, "slave") ||
                srv_eq(t->ptr, t->len, "pubsub")) {
                resp_add_verbatim(x->out, "txt", "", 0);
            } else {
                reply_errorf(x, "Unknown client type '%.*s'", (int)t->len,
                             t->ptr);
            }
            return;
        }
        if (srv_eq(x->argv[i].ptr, x->argv[i].len, "id") &&
            i + 1 < x->argc) {
            for (i++; i < x->argc && nids < 64; i++) {
                if (!srv_str2ll(x->argv[i].ptr, x->argv[i].len, &ids[nids]) ||
                    ids[nids] <= 0) {
                    reply_errorf(x, "Invalid client ID");
                    return;
                }
                nids++;
            }
            break;
        }
        reply_syntax_error(x);
        return;
    }
    if (nids == 0 && x->argc > 4) {
        reply_syntax_error(x);
        return;
    }
    client_list(x, ids, nids);
}

static void
client_info(struct cmd_ctx *x)
{
    struct resp_buf text;

    resp_buf_init(&text);
    conn_describe(x->c, &text);
    resp_add_verbatim(x->out, "txt", text.ptr, text.len);
    resp_buf_deinit(&text);
}

/* CLIENT NO-EVICT / NO-TOUCH on|off: accepted; nothing is evicted or
 * touched differently in ringkv. */
static void
client_onoff(struct cmd_ctx *x)
{
    if (srv_eq(x->argv[2].ptr, x->argv[2].len, "on") ||
        srv_eq(x->argv[2].ptr, x->argv[2].len, "off")) {
        reply_ok(x);
    } else {
        reply_syntax_error(x);
    }
}

static void
client_help_cmd(struct cmd_ctx *x)
{
    size_t n = sizeof(client_help) / sizeof(client_help[0]);

    reply_array(x, (long long)n);
    for (size_t i = 0; i < n; i++) {
        reply_status(x, client_help[i]);
    }
}

static const struct cmd_sub client_subcmds[] = {
    {"client|id", client_id},
    {"client|setname", client_setname},
    {"client|getname", client_getname},
    {"client|list", client_list_cmd},
    {"client|info", client_info},
    {"client|kill", client_kill_cmd},
    {"client|setinfo", client_setinfo},
    {"client|no-evict", client_onoff},
    {"client|no-touch", client_onoff},
    {"client|help", client_help_cmd},
};

/* CLIENT ID|SETNAME|GETNAME|LIST|INFO|KILL|SETINFO|NO-EVICT|NO-TOUCH|HELP */
void
cmd_client(struct cmd_ctx *x)
{
    cmd_run_sub(x, client_subcmds,
                sizeof(client_subcmds) / sizeof(client_subcmds[0]),
                "CLIENT");
}
