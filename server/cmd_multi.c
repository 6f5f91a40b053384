/*
 * server/cmd_multi.c - MULTI, EXEC, DISCARD, WATCH, UNWATCH.
 *
 * MULTI queues owned copies of the commands (command.c). EXEC takes the
 * stripe locks of every key the queued commands and the watched keys touch,
 * so no other client's write interleaves with the transaction on this node,
 * then checks the watched keys' versions and runs the queue in order.
 */
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conn.h"
#include "coord.h"
#include "kv.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "srv.h"
#include "store.h"
#include "worker.h"

void
cmd_multi(struct cmd_ctx *x)
{
    if (x->c->in_multi) {
        reply_error(x, "MULTI calls can not be nested");
        return;
    }
    x->c->in_multi = 1;
    x->c->multi_error = 0;
    x->c->multi_slot = -1;
    reply_ok(x);
}

void
cmd_discard(struct cmd_ctx *x)
{
    if (!x->c->in_multi) {
        reply_error(x, "DISCARD without MULTI");
        return;
    }
    conn_multi_reset(x->c);
    conn_unwatch(x->c);
    reply_ok(x);
}

/* Read the current record of a watched key: presence, version, liveness. */
static int
watch_probe(struct cmd_ctx *x, uint16_t slot, const char *key, size_t klen,
            int *exists, uint64_t *version, uint32_t *node)
{
    struct store_buf *buf = worker_bufs(x->w, 1);
    struct store_record rec;
    int r;

    if (buf == NULL) {
        return RK_ENOMEM;
    }
    r = store_get(x->srv->store, slot, key, klen, buf, &rec);
    if (r < 0) {
        return RK_ERR;
    }
    *exists = r == 1 && store_record_live(&rec, srv_mstime());
    *version = r == 1 ? rec.version : 0;
    *node = r == 1 ? rec.node : 0;
    return RK_OK;
}

void
cmd_watch(struct cmd_ctx *x)
{
    struct conn *c = x->c;

    if (c->in_multi) {
        reply_error(x, "WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < x->argc; i++) {
        const struct rk_slice *k = &x->argv[i];
        struct conn_watch *wk;
        int dup = 0;

        for (size_t j = 0; j < c->nwatched; j++) {
            if (c->watched[j].klen == k->len &&
                memcmp(c->watched[j].key, k->ptr, k->len) == 0) {
                dup = 1;
                break;
            }
        }
        if (dup) {
            continue;
        }
        wk = realloc(c->watched, (c->nwatched + 1) * sizeof(*wk));
        if (wk == NULL) {
            reply_error(x, "-OOM out of memory");
            return;
        }
        c->watched = wk;
        wk = &c->watched[c->nwatched];
        wk->slot = ring_key_slot(k->ptr, k->len);
        wk->klen = k->len;
        wk->key = malloc(k->len + 1);
        if (wk->key == NULL) {
            reply_error(x, "-OOM out of memory");
            return;
        }
        memcpy(wk->key, k->ptr, k->len);
        if (watch_probe(x, wk->slot, wk->key, wk->klen, &wk->exists,
                        &wk->version, &wk->node) != RK_OK) {
            free(wk->key);
            reply_error(x, "storage error reading a key");
            return;
        }
        c->nwatched++;
    }
    reply_ok(x);
}

void
cmd_unwatch(struct cmd_ctx *x)
{
    conn_unwatch(x->c);
    reply_ok(x);
}

/*
 * 1 when a watched key changed since WATCH: a different record version, or
 * a key that was live then and has expired since (as Redis 7 does).
 */
static int
watched_dirty(struct cmd_ctx *x)
{
    struct conn *c = x->c;

    for (size_t i = 0; i < c->nwatched; i++) {
        struct conn_watch *wk = &c->watched[i];
        int exists;
        uint64_t version;
        uint32_t node;

        if (watch_probe(x, wk->slot, wk->key, wk->klen, &exists, &version,
                        &node) != RK_OK) {
            return 1;
        }
        if (version != wk->version || node != wk->node ||
            (wk->exists && !exists)) {
            return 1;
        }
    }
    return 0;
}

/* Lock every key the transaction touches (or every stripe). */
static int
lock_transaction(struct cmd_ctx *x, struct store_lockset *ls)
{
    struct conn *c = x->c;
    size_t cap = c->nwatched;
    size_t n = 0;
    uint16_t *slots;
    struct rk_slice *keys;
    int all = 0;

    for (size_t i = 0; i < c->nmq; i++) {
        cap += (size_t)c->mq[i].argc;
        if (c->mq[i].cmd->flags & CMD_KEYSPACE) {
            all = 1;
        }
    }
    if (all) {
        cap = STORE_LOCK_MAX + 1;
    }
    slots = calloc(cap + 1, sizeof(*slots));
    keys = calloc(cap + 1, sizeof(*keys));
    if (slots == NULL || keys == NULL) {
        free(slots);
        free(keys);
        return RK_ENOMEM;
    }
    if (all) {
        for (size_t i = 0; i < cap; i++) {
            keys[i].ptr = "";
        }
        n = cap;
    } else {
        for (size_t i = 0; i < c->nwatched; i++) {
            keys[n].ptr = c->watched[i].key;
            keys[n].len = c->watched[i].klen;
            slots[n++] = c->watched[i].slot;
        }
        for (size_t i = 0; i < c->nmq; i++) {
            int idx[256];
            int nk = cmd_key_indexes(c->mq[i].cmd, c->mq[i].argc, idx, 256);
            for (int j = 0; j < nk; j++) {
                keys[n] = c->mq[i].argv[idx[j]];
                slots[n] = ring_key_slot(keys[n].ptr, keys[n].len);
                n++;
            }
        }
    }
    store_lock_keys(x->srv->store, ls, n, slots, keys);
    free(slots);
    free(keys);
    return RK_OK;
}

/*
 * EXEC's reply: an array of the queued commands' replies. On one node the
 * transaction holds its key locks (locked); in a cluster the commands run
 * against the overlay of the transaction's records (kv_run_overlay()).
 */
static void
run_queue(struct cmd_ctx *x, const struct conn_queued *mq, size_t n,
          struct kv_op *overlay)
{
    x->c->in_exec = 1;
    reply_array(x, (long long)n);
    for (size_t i = 0; i < n; i++) {
        struct cmd_ctx sub = *x;

        sub.cmd = mq[i].cmd;
        sub.parent = mq[i].parent;
        sub.argc = mq[i].argc;
        sub.argv = mq[i].argv;
        sub.locked = overlay == NULL;
        sub.overlay = overlay;
        cmd_call(&sub);
    }
    x->c->in_exec = 0;
}

/* ---- EXEC in a cluster ------------------------------------------------ */

/*
 * A cluster transaction: the queued commands and watched keys, taken from
 * the connection at EXEC so that commands pipelined after EXEC may start
 * a new MULTI while this one waits for its replicas.
 */
struct exec_state {
    struct conn_queued *mq;
    size_t nmq;
    struct conn_watch *watched;
    size_t nwatched;
    struct rk_slice *names;     /* the distinct keys: watched ones first */
    uint16_t *slots;
    struct kv_key *keys;        /* the op's keys, filled from names */
    size_t nkeys;
};

static void
exec_state_free(void *arg)
{
    struct exec_state *st = arg;

    if (st == NULL) {
        return;
    }
    for (size_t i = 0; i < st->nmq; i++) {
        free(st->mq[i].mem);
    }
    free(st->mq);
    for (size_t i = 0; i < st->nwatched; i++) {
        free(st->watched[i].key);
    }
    free(st->watched);
    free(st->names);
    free(st->slots);
    free(st->keys);
    free(st);
}

static int
add_key(struct exec_state *st, size_t cap, const char *p, size_t len)
{
    uint16_t slot = ring_key_slot(p, len);

    for (size_t i = 0; i < st->nkeys; i++) {
        if (st->slots[i] == slot && st->names[i].len == len &&
            memcmp(st->names[i].ptr, p, len) == 0) {
            return RK_OK;
        }
    }
    if (st->nkeys == cap) {
        return RK_ERR;
    }
    st->names[st->nkeys] = (struct rk_slice){ p, len };
    st->slots[st->nkeys] = slot;
    st->nkeys++;
    return RK_OK;
}

/* Take the transaction from c; NULL when memory runs out. */
static struct exec_state *
exec_take(struct conn *c)
{
    struct exec_state *st = calloc(1, sizeof(*st));
    size_t cap = c->nwatched;

    if (st == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < c->nmq; i++) {
        cap += (size_t)c->mq[i].argc;
    }
    st->keys = calloc(cap + 1, sizeof(*st->keys));
    st->names = calloc(cap + 1, sizeof(*st->names));
    st->slots = calloc(cap + 1, sizeof(*st->slots));
    if (st->keys == NULL || st->names == NULL || st->slots == NULL) {
        exec_state_free(st);
        return NULL;
    }
    st->mq = c->mq;
    st->nmq = c->nmq;
    st->watched = c->watched;
    st->nwatched = c->nwatched;
    c->mq = NULL;
    c->nmq = 0;
    c->capmq = 0;
    c->watched = NULL;
    c->nwatched = 0;
    for (size_t i = 0; i < st->nwatched; i++) {
        add_key(st, cap, st->watched[i].key, st->watched[i].klen);
    }
    for (size_t i = 0; i < st->nmq; i++) {
        int idx[256];
        int nk = cmd_key_indexes(st->mq[i].cmd, st->mq[i].argc, idx, 256);

        for (int j = 0; j < nk; j++) {
            const struct rk_slice *a = &st->mq[i].argv[idx[j]];
            add_key(st, cap, a->ptr, a->len);
        }
    }
    return st;
}

/* The transaction's apply: check WATCH, then run the queue in order
 * against the records read (kv_run_overlay()). */
static void
exec_apply(struct kv_op *op)
{
    struct cmd_ctx *x = op->x;
    struct exec_state *st = op->arg;

    /* The watched keys lead op->keys, in order, duplicates dropped. */
    for (size_t i = 0; i < st->nwatched; i++) {
        const struct conn_watch *wk = &st->watched[i];
        const struct kv_key *k = NULL;

        for (size_t j = 0; j < op->nkeys && k == NULL; j++) {
            if (op->keys[j].key.len == wk->klen &&
                memcmp(op->keys[j].key.ptr, wk->key, wk->klen) == 0) {
                k = &op->keys[j];
            }
        }
        if (k == NULL || wk->exists != k->exists ||
            (k->exists && (k->old.version != wk->version ||
                           k->old.node != wk->node))) {
            reply_null_array(x);
            return;
        }
    }
    run_queue(x, st->mq, st->nmq, op);
}

/*
 * EXEC with --seeds: read every key of the transaction (and the watched
 * ones) at the read quorum, run the queue on those records, and write
 * what changed at the write quorum; the reply array goes out after the
 * writes are acknowledged, or a -NOQUORUM error replaces it. MULTI
 * already refused commands of another slot (-CROSSSLOT).
 */
static void
exec_cluster(struct cmd_ctx *x)
{
    struct conn *c = x->c;
    struct exec_state *st;
    struct kv_op op;
    int owner;

    if (x->resume != NULL) {
        st = coord_resume_arg(x->resume);
        owner = 0;
    } else {
        st = exec_take(c);
        conn_multi_reset(c);
        conn_unwatch(c);
        if (st == NULL) {
            reply_error(x, "-OOM out of memory");
            return;
        }
        owner = 1;
    }
    /* Not forwarded to the slot's primary: RKCMD carries one command,
     * and the queue lives on this connection. */
    kv_op_init(&op, x, KV_WRITE | KV_HERE, st->keys, st->nkeys, exec_apply,
               st);
    op.arg_free = exec_state_free;
    for (size_t i = 0; i < st->nkeys; i++) {
        st->keys[i].key = st->names[i];
        st->keys[i].slot = st->slots[i];
    }
    kv_run(&op);
    if (owner && !x->suspended) {
        exec_state_free(st);
    }
}

void
cmd_exec(struct cmd_ctx *x)
{
    struct conn *c = x->c;
    struct store_lockset ls;

    if (x->resume != NULL) {
        exec_cluster(x);
        return;
    }

    if (!c->in_multi) {
        reply_error(x, "EXEC without MULTI");
        return;
    }
    if (c->multi_error) {
        reply_error(x, "-EXECABORT Transaction discarded because of "
                    "previous errors.");
        conn_multi_reset(c);
        conn_unwatch(c);
        return;
    }
    if (coord_active(x->srv)) {
        exec_cluster(x);
        return;
    }
    if (lock_transaction(x, &ls) != RK_OK) {
        reply_error(x, "-OOM out of memory");
        conn_multi_reset(c);
        conn_unwatch(c);
        return;
    }
    if (watched_dirty(x)) {
        store_unlock_keys(x->srv->store, &ls);
        reply_null_array(x);
        conn_multi_reset(c);
        conn_unwatch(c);
        return;
    }
    c->in_multi = 0;
    run_queue(x, c->mq, c->nmq, NULL);
    store_unlock_keys(x->srv->store, &ls);
    conn_multi_reset(c);
    conn_unwatch(c);
}
