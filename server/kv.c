/*
 * server/kv.c - the single-node implementation of the kv interface: load
 * from the local store, apply, write to the local store. Every op
 * completes inside kv_run(); the worker commits the writes as one batch
 * before it writes the replies (worker_before_sleep).
 */
#include "kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conn.h"
#include "coord.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "srv.h"
#include "worker.h"

void
kv_op_init(struct kv_op *op, struct cmd_ctx *x, unsigned flags,
           struct kv_key *keys, size_t n, kv_apply_fn *apply, void *arg)
{
    memset(keys, 0, n * sizeof(*keys));
    op->x = x;
    op->flags = flags;
    op->nkeys = n;
    op->keys = keys;
    op->apply = apply;
    op->arg = arg;
    op->arg_free = NULL;
    op->now_ms = srv_mstime();
}

int
kv_run_key1(struct cmd_ctx *x, unsigned flags, kv_apply_fn *apply, void *arg)
{
    struct kv_key key;
    struct kv_op op;

    kv_op_init(&op, x, flags, &key, 1, apply, arg);
    kv_key_from_arg(&op, 0, &x->argv[1]);
    return kv_run(&op);
}

int
kv_run_args(struct cmd_ctx *x, unsigned flags, int first, int step,
            kv_apply_fn *apply, void *arg)
{
    struct kv_key stack[KV_STACK_KEYS];
    struct kv_key *keys = stack;
    size_t n = (size_t)((x->argc - first + step - 1) / step);
    struct kv_op op;
    int rc;

    if (n > KV_STACK_KEYS) {
        keys = malloc(n * sizeof(*keys));
        if (keys == NULL) {
            reply_error(x, "-OOM command not allowed when used memory > "
                        "'maxmemory'.");
            return RK_ENOMEM;
        }
    }
    kv_op_init(&op, x, flags, keys, n, apply, arg);
    for (size_t i = 0; i < n; i++) {
        kv_key_from_arg(&op, i, &x->argv[first + (int)i * step]);
    }
    rc = kv_run(&op);
    if (keys != stack) {
        free(keys);
    }
    return rc;
}

void
kv_key_from_arg(struct kv_op *op, size_t i, const struct rk_slice *arg)
{
    struct kv_key *k = &op->keys[i];

    memset(k, 0, sizeof(*k));
    k->key = *arg;
    k->slot = ring_key_slot(arg->ptr, arg->len);
}

void
kv_count_lookup(struct worker *w, int hit)
{
    atomic_uint_fast64_t *c = hit ? &w->stats.keyspace_hits
                                  : &w->stats.keyspace_misses;
    STAT_ADD(c, 1);
}

/* Lock the stripes of every key of op; keys beyond STORE_LOCK_MAX make the
 * store lock every stripe. */
static void
lock_op(struct store *st, struct kv_op *op, struct store_lockset *ls)
{
    uint16_t slots[STORE_LOCK_MAX];
    struct rk_slice keys[STORE_LOCK_MAX];
    size_t n = op->nkeys < STORE_LOCK_MAX ? op->nkeys : STORE_LOCK_MAX;

    for (size_t i = 0; i < n; i++) {
        slots[i] = op->keys[i].slot;
        keys[i] = op->keys[i].key;
    }
    store_lock_keys(st, ls, op->nkeys, slots, keys);
}

int
kv_run(struct kv_op *op)
{
    struct cmd_ctx *x = op->x;
    struct srv *s = x->srv;
    struct worker *w = x->w;
    struct store *st = s->store;
    struct store_lockset ls;
    struct store_buf *bufs = NULL;
    int locked = 0;
    int rc = RK_OK;
    size_t reply_mark;

    if (op->now_ms == 0) {
        op->now_ms = srv_mstime();
    }
    if (x->overlay != NULL) {
        return kv_run_overlay(op);
    }
    if (coord_active(s)) {
        return coord_run(op);
    }
    if ((op->flags & KV_WRITE) && !x->locked) {
        lock_op(st, op, &ls);
        locked = 1;
    }
    if (!(op->flags & KV_BLIND) && op->nkeys > 0) {
        bufs = worker_bufs(w, op->nkeys);
        if (bufs == NULL) {
            rc = RK_ENOMEM;
            reply_error(x, "-OOM out of memory loading keys");
            goto out;
        }
        for (size_t i = 0; i < op->nkeys; i++) {
            struct kv_key *k = &op->keys[i];
            int r = store_get(st, k->slot, k->key.ptr, k->key.len, &bufs[i],
                              &k->old);
            if (r < 0) {
                rc = RK_ERR;
                reply_error(x, "storage error reading a key");
                goto out;
            }
            k->exists = r == 1 && store_record_live(&k->old, op->now_ms);
            if (!(op->flags & KV_WRITE)) {
                kv_count_lookup(w, k->exists);
            }
        }
    }

    reply_mark = x->out->len;
    op->apply(op);

    for (size_t i = 0; i < op->nkeys; i++) {
        struct kv_key *k = &op->keys[i];
        uint64_t seq;

        if (!k->write && !k->del) {
            continue;
        }
        if (k->del) {
            memset(&k->new, 0, sizeof(k->new));
            k->new.flags = STORE_F_TOMBSTONE;
        }
        k->new.version = store_clock_next(&s->clock);
        k->new.node = s->node_hash;
        if (store_put(st, k->slot, k->key.ptr, k->key.len, &k->new, &seq) !=
            RK_OK) {
            /* Replace whatever apply replied: the write did not happen. */
            x->out->len = reply_mark;
            reply_error(x, "-OOM out of memory writing a key");
            rc = RK_ENOMEM;
            break;
        }
        if (seq > w->commit_seq) {
            w->commit_seq = seq;
        }
    }
out:
    for (size_t i = 0; i < op->nkeys; i++) {
        free(op->keys[i].owned);
        op->keys[i].owned = NULL;
    }
    if (locked) {
        store_unlock_keys(st, &ls);
    }
    return rc;
}

/* The overlay key holding (slot, key), or NULL. */
static struct kv_key *
overlay_find(struct kv_op *ov, const struct kv_key *k)
{
    for (size_t i = 0; i < ov->nkeys; i++) {
        struct kv_key *o = &ov->keys[i];

        if (o->slot == k->slot && o->key.len == k->key.len &&
            memcmp(o->key.ptr, k->key.ptr, k->key.len) == 0) {
            return o;
        }
    }
    return NULL;
}

int
kv_run_overlay(struct kv_op *op)
{
    struct cmd_ctx *x = op->x;
    struct kv_op *ov = x->overlay;
    int rc = RK_OK;

    for (size_t i = 0; i < op->nkeys; i++) {
        struct kv_key *k = &op->keys[i];
        struct kv_key *o = overlay_find(ov, k);

        if (o == NULL) {
            reply_error(x, "internal error: a key outside the transaction");
            rc = RK_ERR;
            goto out;
        }
        if (o->del) {
            k->exists = 0;
        } else if (o->write) {
            k->old = o->new;
            k->exists = store_record_live(&o->new, op->now_ms);
        } else {
            k->old = o->old;
            k->exists = o->exists;
        }
    }
    op->apply(op);
    for (size_t i = 0; i < op->nkeys; i++) {
        struct kv_key *k = &op->keys[i];
        struct kv_key *o;
        char *copy;

        if (!k->write && !k->del) {
            continue;
        }
        o = overlay_find(ov, k);
        if (k->del) {
            o->del = 1;
            o->write = 0;
            continue;
        }
        /* The value may live in k->owned or the queued arguments: the
         * overlay keeps its own copy. */
        copy = malloc(k->new.value.len + 1);
        if (copy == NULL) {
            reply_error(x, "-OOM out of memory");
            rc = RK_ENOMEM;
            goto out;
        }
        memcpy(copy, k->new.value.ptr, k->new.value.len);
        free(o->owned);
        o->owned = copy;
        o->new = k->new;
        o->new.value.ptr = copy;
        o->write = 1;
        o->del = 0;
    }
out:
    for (size_t i = 0; i < op->nkeys; i++) {
        free(op->keys[i].owned);
        op->keys[i].owned = NULL;
    }
    return rc;
}

int
kv_apply_record(struct worker *w, uint16_t slot, const char *key,
                size_t klen, const struct store_record *rec)
{
    struct store *st = w->srv->store;
    struct store_lockset ls;
    struct rk_slice k = { key, klen };
    struct store_buf *buf = worker_bufs(w, 1);
    struct store_record cur;
    uint64_t seq = 0;
    int rc = RK_OK;
    int r;

    if (buf == NULL) {
        return RK_ENOMEM;
    }
    store_lock_keys(st, &ls, 1, &slot, &k);
    r = store_get(st, slot, key, klen, buf, &cur);
    if (r < 0) {
        rc = RK_ERR;
    } else if (r == 0 || store_record_cmp(&cur, rec) < 0) {
        rc = store_put(st, slot, key, klen, rec, &seq);
    }
    store_unlock_keys(st, &ls);
    if (seq > w->commit_seq) {
        w->commit_seq = seq;
    }
    return rc;
}

int
kv_flush(struct cmd_ctx *x)
{
    /* Inside EXEC the transaction holds every stripe lock already. */
    return x->locked ? store_flush_all_locked(x->srv->store)
                     : store_flush_all(x->srv->store);
}

void
kv_commit_all(struct cmd_ctx *x)
{
    struct store *st = x->srv->store;

    store_commit(st, store_last_seq(st));
}
