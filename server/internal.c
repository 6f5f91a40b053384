/*
 * server/internal.c - the internal commands of peers' data links. See
 * internal.h.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "conn.h"
#include "coord.h"
#include "keyspace.h"
#include "kv.h"
#include "resp.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

static int
name_is(const struct rk_slice *a, const char *name)
{
    return a->len == strlen(name) && strncasecmp(a->ptr, name, a->len) == 0;
}

static void
reply_err(struct conn *c, const char *msg)
{
    resp_add_error(&c->out, msg, strlen(msg));
}

/* Parse and observe the sender's clock. */
static int
observe_clock(struct srv *s, const struct rk_slice *a)
{
    long long v;

    if (!resp_str2ll(a->ptr, a->len, &v) || v < 0) {
        return RK_ERR;
    }
    store_clock_observe(&s->clock, (uint64_t)v);
    return RK_OK;
}

static int
parse_slot(const struct rk_slice *a, uint16_t *slot)
{
    long long v;

    if (!resp_str2ll(a->ptr, a->len, &v) || v < 0 ||
        v >= STORE_SLOTS) {
        return RK_ERR;
    }
    *slot = (uint16_t)v;
    return RK_OK;
}

static void
add_clock(struct conn *c)
{
    resp_add_int(&c->out, (long long)store_clock_next(&c->w->srv->clock));
}

static void
rkget(struct conn *c, int argc, const struct rk_slice *argv)
{
    struct srv *s = c->w->srv;
    struct store_buf *buf;
    struct store_record rec;
    uint16_t slot;
    int r;

    if (argc != 4 || parse_slot(&argv[2], &slot) != RK_OK) {
        reply_err(c, "ERR bad RKGET");
        return;
    }
    buf = worker_bufs(c->w, 1);
    if (buf == NULL) {
        reply_err(c, "ERR out of memory");
        return;
    }
    r = store_get(s->store, slot, argv[3].ptr, argv[3].len, buf, &rec);
    if (r < 0) {
        reply_err(c, "ERR storage error reading a key");
        return;
    }
    resp_add_array(&c->out, 2);
    add_clock(c);
    if (r == 1) {
        resp_add_bulk(&c->out, buf->ptr, buf->len);
    } else {
        resp_add_null(&c->out);
    }
}

static void
rkput(struct conn *c, int argc, const struct rk_slice *argv)
{
    struct store_record rec;
    uint16_t slot;

    if (argc != 5 || parse_slot(&argv[2], &slot) != RK_OK ||
        store_record_decode(argv[4].ptr, argv[4].len, &rec) != RK_OK) {
        reply_err(c, "ERR bad RKPUT");
        return;
    }
    store_clock_observe(&c->w->srv->clock, rec.version);
    if (kv_apply_record(c->w, slot, argv[3].ptr, argv[3].len, &rec) !=
        RK_OK) {
        reply_err(c, "ERR storage error writing a key");
        return;
    }
    add_clock(c);
}

static void
rkflush(struct conn *c, int argc)
{
    if (argc != 2) {
        reply_err(c, "ERR bad RKFLUSH");
        return;
    }
    if (store_flush_all(c->w->srv->store) != RK_OK) {
        reply_err(c, "ERR storage error flushing");
        return;
    }
    add_clock(c);
}

static void
rkdbsize(struct conn *c, int argc)
{
    uint64_t n;

    if (argc != 2) {
        reply_err(c, "ERR bad RKDBSIZE");
        return;
    }
    if (keyspace_local_count(c->w->srv, c->w, &n) != RK_OK) {
        reply_err(c, "ERR storage error counting keys");
        return;
    }
    resp_add_array(&c->out, 2);
    add_clock(c);
    resp_add_int(&c->out, (long long)n);
}

/* RKRANDOMKEY <clock> <slot>: *3 :clock :slot $key, or :-1 and nil. */
static void
rkrandomkey(struct conn *c, int argc, const struct rk_slice *argv)
{
    struct srv_keylist l;
    uint16_t start;
    uint16_t slot = 0;
    int rc;

    if (argc != 3 || parse_slot(&argv[2], &start) != RK_OK) {
        reply_err(c, "ERR bad RKRANDOMKEY");
        return;
    }
    srv_keylist_init(&l);
    rc = keyspace_local_random(c->w->srv, c->w, start, &l, &slot);
    if (rc < 0) {
        reply_err(c, "ERR storage error finding a key");
    } else {
        resp_add_array(&c->out, 3);
        add_clock(c);
        if (rc == 1) {
            resp_add_int(&c->out, slot);
            resp_add_bulk(&c->out, l.buf, l.len);
        } else {
            resp_add_int(&c->out, -1);
            resp_add_null(&c->out);
        }
    }
    srv_keylist_deinit(&l);
}

/* RKSCAN <clock> <cursor> <count> <type> <pattern or "">. */
static void
rkscan(struct conn *c, int argc, const struct rk_slice *argv)
{
    struct srv_scan_opts o;
    struct srv_keylist l;
    long long cursor;
    long long type;
    uint64_t next;
    char text[24];

    if (argc != 6 || !resp_str2ll(argv[2].ptr, argv[2].len, &cursor) ||
        cursor < 0 || !resp_str2ll(argv[3].ptr, argv[3].len, &o.count) ||
        o.count < 1 || !resp_str2ll(argv[4].ptr, argv[4].len, &type) ||
        type < SRV_SCAN_TYPE_NONE || type > STORE_TYPE_STRING) {
        reply_err(c, "ERR bad RKSCAN");
        return;
    }
    o.type = (int)type;
    o.pat = argv[5].len > 0 ? argv[5].ptr : NULL;
    o.plen = argv[5].len;
    srv_keylist_init(&l);
    if (keyspace_local_scan(c->w->srv, c->w, (uint64_t)cursor, &o, &l,
                            &next) != RK_OK) {
        reply_err(c, "ERR storage error scanning keys");
    } else {
        resp_add_array(&c->out, 3);
        add_clock(c);
        snprintf(text, sizeof(text), "%llu", (unsigned long long)next);
        resp_add_bulk(&c->out, text, strlen(text));
        srv_keylist_write(&c->out, &l);
    }
    srv_keylist_deinit(&l);
}

/*
 * RKCMD <clock> <read-level> <write-level> <command> [args...]: run a
 * client's read-modify-write command here, the key's primary, so that
 * all of them take the key in turn on one node (coord.h). The reply is
 * the command's own; a command run this way is never forwarded again.
 */
static void
rkcmd(struct conn *c, int argc, const struct rk_slice *argv)
{
    long long r;
    long long w;

    if (argc < 5 || !resp_str2ll(argv[2].ptr, argv[2].len, &r) ||
        !resp_str2ll(argv[3].ptr, argv[3].len, &w) || r < COORD_ALL ||
        w < COORD_ALL || r > QUORUM_MAX_REPLICAS ||
        w > QUORUM_MAX_REPLICAS) {
        reply_err(c, "ERR bad RKCMD");
        return;
    }
    c->read_level = (int)r;
    c->write_level = (int)w;
    cmd_dispatch(c, argc - 4, argv + 4);
}

void
internal_dispatch(struct conn *c, int argc, const struct rk_slice *argv)
{
    struct srv *s = c->w->srv;

    if (name_is(&argv[0], "ping")) {
        resp_add_raw(&c->out, "+PONG\r\n", 7);
        return;
    }
    if (argc < 2 || observe_clock(s, &argv[1]) != RK_OK) {
        reply_err(c, "ERR unknown internal command or bad clock");
        return;
    }
    if (name_is(&argv[0], "rkcmd")) {
        rkcmd(c, argc, argv);
    } else if (name_is(&argv[0], "rkget")) {
        rkget(c, argc, argv);
    } else if (name_is(&argv[0], "rkput")) {
        rkput(c, argc, argv);
    } else if (name_is(&argv[0], "rkflush")) {
        rkflush(c, argc);
    } else if (name_is(&argv[0], "rkscan")) {
        rkscan(c, argc, argv);
    } else if (name_is(&argv[0], "rkdbsize")) {
        rkdbsize(c, argc);
    } else if (name_is(&argv[0], "rkrandomkey")) {
        rkrandomkey(c, argc, argv);
    } else {
        reply_err(c, "ERR unknown internal command");
    }
}
