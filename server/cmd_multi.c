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

void
cmd_exec(struct cmd_ctx *x)
{
    struct conn *c = x->c;
    struct store_lockset ls;

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
    c->in_exec = 1;
    reply_array(x, (long long)c->nmq);
    for (size_t i = 0; i < c->nmq; i++) {
        struct cmd_ctx sub = *x;
        sub.cmd = c->mq[i].cmd;
        sub.parent = c->mq[i].parent;
        sub.argc = c->mq[i].argc;
        sub.argv = c->mq[i].argv;
        sub.locked = 1;
        cmd_call(&sub);
    }
    c->in_exec = 0;
    store_unlock_keys(x->srv->store, &ls);
    conn_multi_reset(c);
    conn_unwatch(c);
}
