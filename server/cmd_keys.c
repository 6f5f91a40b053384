/*
 * server/cmd_keys.c - the keyspace commands: DEL, UNLINK, EXISTS, TOUCH,
 * TYPE, the EXPIRE and TTL families, PERSIST, RENAME(NX), and the
 * keyspace-wide KEYS, SCAN and RANDOMKEY.
 *
 * Key commands describe one kv_op each (see cmd_string.c for the lifetime
 * rules). Keyspace-wide commands commit the pending writes (kv_commit_all)
 * and walk the store in (slot, key) order, skipping deleted and expired
 * records. Replies and error texts follow Redis 7.0 (src/db.c, expire.c).
 */
#include "command.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coord.h"
#include "keyspace.h"
#include "kv.h"
#include "reply.h"
#include "scan.h"
#include "srv.h"
#include "store.h"
#include "util.h"

/* Keys kept on the stack by multi-key commands before they allocate. */

/* Keys compared pairwise for duplicates before sorting pays off. */
#define DUP_SORT_MIN 32

/* SCAN's default COUNT. */
#define SCAN_COUNT 10

/* Options of EXPIRE and friends. */
#define EXP_NX (1u << 0)   /* only when the key has no expiry */
#define EXP_XX (1u << 1)   /* only when the key has an expiry */
#define EXP_GT (1u << 2)   /* only when the new expiry is later */
#define EXP_LT (1u << 3)   /* only when the new expiry is earlier */

#define OOM_ERR "-OOM command not allowed when used memory > 'maxmemory'."

/* ---------------------------------------------------------------------- */
/* Helpers */

/* Compare an option with a literal as strcasecmp() on the C string. */
static int
opt_is(const struct rk_slice *a, const char *lit)
{
    return srv_eq(a->ptr, strnlen(a->ptr, a->len), lit);
}

/* TYPE's name of a record type. */
static const char *
type_name(unsigned type)
{
    switch (type) {
    case STORE_TYPE_STRING:
        return "string";
    default:
        return "unknown";
    }
}

/* A key and its position, for finding duplicates by sorting. */
struct dup_ent {
    const char *p;
    size_t len;
    size_t i;
};

static int
dup_cmp(const void *va, const void *vb)
{
    const struct dup_ent *a = va;
    const struct dup_ent *b = vb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->p, b->p, n) : 0;

    if (c != 0) {
        return c;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    return a->i < b->i ? -1 : a->i > b->i;
}

static int
key_eq(const struct kv_key *a, const struct kv_key *b)
{
    return a->key.len == b->key.len &&
           (a->key.len == 0 || memcmp(a->key.ptr, b->key.ptr,
                                      a->key.len) == 0);
}

/*
 * Set later[i] to 1 when a key after keys[i] is the same key, else 0.
 * Returns RK_OK or RK_ENOMEM.
 */
static int
mark_later_dups(const struct kv_key *keys, size_t n, unsigned char *later)
{
    struct dup_ent *e;

    memset(later, 0, n);
    if (n < DUP_SORT_MIN) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = i + 1; j < n && !later[i]; j++) {
                later[i] = (unsigned char)key_eq(&keys[i], &keys[j]);
            }
        }
        return RK_OK;
    }
    e = malloc(n * sizeof(*e));
    if (e == NULL) {
        return RK_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        e[i].p = keys[i].key.ptr;
        e[i].len = keys[i].key.len;
        e[i].i = i;
    }
    qsort(e, n, sizeof(*e), dup_cmp);
    for (size_t i = 0; i + 1 < n; i++) {
        if (e[i].len == e[i + 1].len &&
            (e[i].len == 0 || memcmp(e[i].p, e[i + 1].p, e[i].len) == 0)) {
            later[e[i].i] = 1;
        }
    }
    free(e);
    return RK_OK;
}

/* ---------------------------------------------------------------------- */
/* DEL, UNLINK, EXISTS, TOUCH, TYPE */

static void
del_apply(struct kv_op *op)
{
    unsigned char stack[KV_STACK_KEYS];
    unsigned char *later = stack;
    long long n = 0;

    if (op->nkeys > KV_STACK_KEYS) {
        later = malloc(op->nkeys);
    }
    if (later == NULL || mark_later_dups(op->keys, op->nkeys, later) != 0) {
        reply_error(op->x, OOM_ERR);
        goto out;
    }
    /* A key named twice counts once: only its last mention deletes. */
    for (size_t i = 0; i < op->nkeys; i++) {
        if (op->keys[i].exists && !later[i]) {
            op->keys[i].del = 1;
            n++;
        }
    }
    reply_int(op->x, n);
out:
    if (later != stack) {
        free(later);
    }
}

/* DEL key [key ...]: the number of keys that existed and were removed. */
void
cmd_del(struct cmd_ctx *x)
{
    kv_run_args(x, KV_WRITE, 1, 1, del_apply, NULL);
}

/* UNLINK key [key ...]: DEL (values are freed by the store anyway). */
void
cmd_unlink(struct cmd_ctx *x)
{
    kv_run_args(x, KV_WRITE, 1, 1, del_apply, NULL);
}

static void
exists_apply(struct kv_op *op)
{
    long long n = 0;

    for (size_t i = 0; i < op->nkeys; i++) {
        n += op->keys[i].exists;
    }
    reply_int(op->x, n);
}

/* EXISTS key [key ...]: how many of the keys exist, repeats counted. */
void
cmd_exists(struct cmd_ctx *x)
{
    kv_run_args(x, 0, 1, 1, exists_apply, NULL);
}

/* TOUCH key [key ...]: as EXISTS (ringkv keeps no access times). */
void
cmd_touch(struct cmd_ctx *x)
{
    kv_run_args(x, 0, 1, 1, exists_apply, NULL);
}

static void
type_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];

    reply_status(op->x, k->exists ? type_name(k->old.type) : "none");
}

/* TYPE key: "string", or "none" when missing. */
void
cmd_type(struct cmd_ctx *x)
{
    kv_run_key1(x, 0, type_apply, NULL);
}

/* ---------------------------------------------------------------------- */
/* EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST */

struct expire_arg {
    unsigned flags;            /* EXP_* */
    int64_t when;              /* absolute deadline in ms */
};

static void
expire_apply(struct kv_op *op)
{
    const struct expire_arg *a = op->arg;
    struct kv_key *k = &op->keys[0];
    int64_t cur;

    if (!k->exists) {
        reply_int(op->x, 0);
        return;
    }
    /* A key without expiry counts as an infinite TTL for GT and LT. */
    cur = k->old.expire_ms != 0 ? k->old.expire_ms : -1;
    if (((a->flags & EXP_NX) && cur != -1) ||
        ((a->flags & EXP_XX) && cur == -1) ||
        ((a->flags & EXP_GT) && (cur == -1 || a->when <= cur)) ||
        ((a->flags & EXP_LT) && cur != -1 && a->when >= cur)) {
        reply_int(op->x, 0);
        return;
    }
    if (a->when <= op->now_ms) {
        /* A deadline in the past deletes the key. */
        k->del = 1;
    } else {
        k->write = 1;
        k->new = k->old;
        k->new.expire_ms = a->when;
    }
    reply_int(op->x, 1);
}

/*
 * Redis's expireGenericCommand(): argv[2] in seconds (ms = 0) or
 * milliseconds, relative to now (relative) or to the epoch, then the
 * NX/XX/GT/LT options. Options and overflow are checked before the key.
 */
static void
expire_generic(struct cmd_ctx *x, int relative, int ms)
{
    struct expire_arg a;
    struct kv_key key;
    struct kv_op op;
    int nx = 0;
    int xx = 0;
    int gt = 0;
    int lt = 0;
    long long when;
    long long base;

    kv_op_init(&op, x, KV_WRITE, &key, 1, expire_apply, &a);
    a.flags = 0;
    for (int j = 3; j < x->argc; j++) {
        const struct rk_slice *o = &x->argv[j];

        if (opt_is(o, "nx")) {
            a.flags |= EXP_NX;
            nx = 1;
        } else if (opt_is(o, "xx")) {
            a.flags |= EXP_XX;
            xx = 1;
        } else if (opt_is(o, "gt")) {
            a.flags |= EXP_GT;
            gt = 1;
        } else if (opt_is(o, "lt")) {
            a.flags |= EXP_LT;
            lt = 1;
        } else {
            reply_errorf(x, "Unsupported option %.*s",
                         (int)strnlen(o->ptr, o->len), o->ptr);
            return;
        }
    }
    if (nx && (xx || gt || lt)) {
        reply_error(x, "NX and XX, GT or LT options at the same time are "
                    "not compatible");
        return;
    }
    if (gt && lt) {
        reply_error(x, "GT and LT options at the same time are not "
                    "compatible");
        return;
    }
    if (!srv_str2ll(x->argv[2].ptr, x->argv[2].len, &when)) {
        reply_not_integer(x);
        return;
    }
    if (!ms) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_errorf(x, "invalid expire time in '%s' command",
                         x->cmd->name);
            return;
        }
        when *= 1000;
    }
    base = relative ? op.now_ms : 0;
    if (when > LLONG_MAX - base) {
        reply_errorf(x, "invalid expire time in '%s' command", x->cmd->name);
        return;
    }
    a.when = when + base;
    kv_key_from_arg(&op, 0, &x->argv[1]);
    kv_run(&op);
}

/* EXPIRE key seconds [NX|XX|GT|LT]: 1 when set (or deleted), else 0. */
void
cmd_expire(struct cmd_ctx *x)
{
    expire_generic(x, 1, 0);
}

/* PEXPIRE key milliseconds [NX|XX|GT|LT]. */
void
cmd_pexpire(struct cmd_ctx *x)
{
    expire_generic(x, 1, 1);
}

/* EXPIREAT key unix-seconds [NX|XX|GT|LT]. */
void
cmd_expireat(struct cmd_ctx *x)
{
    expire_generic(x, 0, 0);
}

/* PEXPIREAT key unix-milliseconds [NX|XX|GT|LT]. */
void
cmd_pexpireat(struct cmd_ctx *x)
{
    expire_generic(x, 0, 1);
}

static void
persist_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];

    if (!k->exists || k->old.expire_ms == 0) {
        reply_int(op->x, 0);
        return;
    }
    k->write = 1;
    k->new = k->old;
    k->new.expire_ms = 0;
    reply_int(op->x, 1);
}

/* PERSIST key: 1 when an expiry was removed, else 0. */
void
cmd_persist(struct cmd_ctx *x)
{
    kv_run_key1(x, KV_WRITE, persist_apply, NULL);
}

/* ---------------------------------------------------------------------- */
/* TTL, PTTL, EXPIRETIME, PEXPIRETIME */

#define TTL_MS  (1u << 0)      /* milliseconds, not seconds */
#define TTL_ABS (1u << 1)      /* the deadline, not the time left */

static void
ttl_apply(struct kv_op *op)
{
    const unsigned *how = op->arg;
    struct kv_key *k = &op->keys[0];
    long long ttl;

    if (!k->exists) {
        reply_int(op->x, -2);
        return;
    }
    if (k->old.expire_ms == 0) {
        reply_int(op->x, -1);
        return;
    }
    ttl = (*how & TTL_ABS) ? k->old.expire_ms
                           : k->old.expire_ms - op->now_ms;
    if (ttl < 0) {
        ttl = 0;
    }
    if (!(*how & TTL_MS)) {
        /* Rounded to the nearest second, as Redis's (ttl + 500) / 1000,
         * without its overflow near LLONG_MAX. */
        ttl = ttl / 1000 + (ttl % 1000 >= 500);
    }
    reply_int(op->x, ttl);
}

/* TTL key: seconds left, -1 without expiry, -2 when missing. */
void
cmd_ttl(struct cmd_ctx *x)
{
    unsigned how = 0;

    kv_run_key1(x, 0, ttl_apply, &how);
}

/* PTTL key: milliseconds left, -1 without expiry, -2 when missing. */
void
cmd_pttl(struct cmd_ctx *x)
{
    unsigned how = TTL_MS;

    kv_run_key1(x, 0, ttl_apply, &how);
}

/* EXPIRETIME key: the deadline in unix seconds, -1, or -2. */
void
cmd_expiretime(struct cmd_ctx *x)
{
    unsigned how = TTL_ABS;

    kv_run_key1(x, 0, ttl_apply, &how);
}

/* PEXPIRETIME key: the deadline in unix milliseconds, -1, or -2. */
void
cmd_pexpiretime(struct cmd_ctx *x)
{
    unsigned how = TTL_ABS | TTL_MS;

    kv_run_key1(x, 0, ttl_apply, &how);
}

/* ---------------------------------------------------------------------- */
/* RENAME, RENAMENX */

static void
rename_apply(struct kv_op *op)
{
    const int *nx = op->arg;
    struct kv_key *src = &op->keys[0];
    struct kv_key *dst = op->nkeys > 1 ? &op->keys[1] : NULL;

    if (!src->exists) {
        reply_error(op->x, "no such key");
        return;
    }
    if (dst == NULL) {
        /* Same key: nothing to do. */
        if (*nx) {
            reply_int(op->x, 0);
        } else {
            reply_ok(op->x);
        }
        return;
    }
    if (*nx && dst->exists) {
        reply_int(op->x, 0);
        return;
    }
    /* The value, its type and its expiry move together. */
    dst->write = 1;
    dst->new = src->old;
    src->del = 1;
    if (*nx) {
        reply_int(op->x, 1);
    } else {
        reply_ok(op->x);
    }
}

/* RENAME and RENAMENX: one op over both keys (one when they are equal). */
static void
rename_generic(struct cmd_ctx *x, int nx)
{
    struct kv_key keys[2];
    struct kv_op op;
    const struct rk_slice *a = &x->argv[1];
    const struct rk_slice *b = &x->argv[2];
    int same = a->len == b->len &&
               (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);

    kv_op_init(&op, x, same ? 0 : KV_WRITE, keys, same ? 1 : 2, rename_apply,
            &nx);
    kv_key_from_arg(&op, 0, a);
    if (!same) {
        kv_key_from_arg(&op, 1, b);
    }
    kv_run(&op);
}

/* RENAME key newkey: OK, or "no such key"; the TTL moves along. */
void
cmd_rename(struct cmd_ctx *x)
{
    rename_generic(x, 0);
}

/* RENAMENX key newkey: 1 when renamed, 0 when newkey exists. */
void
cmd_renamenx(struct cmd_ctx *x)
{
    rename_generic(x, 1);
}

/* ---------------------------------------------------------------------- */
/* KEYS, SCAN, RANDOMKEY */

/* Reply the collected keys as an array. */
static void
keylist_reply(struct cmd_ctx *x, const struct srv_keylist *l)
{
    srv_keylist_write(x->out, l);
}

/* 1 when a glob pattern has special characters. */
static int
has_glob(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '\\') {
            return 1;
        }
    }
    return 0;
}

static void
keys_point_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];

    if (k->exists) {
        reply_array(op->x, 1);
        reply_bulk(op->x, k->key.ptr, k->key.len);
    } else {
        reply_array(op->x, 0);
    }
}

/* KEYS pattern: every live key matching a glob pattern. */
void
cmd_keys(struct cmd_ctx *x)
{
    const struct rk_slice *pat = &x->argv[1];
    struct srv_scan_opts o;
    struct srv_keylist l;
    uint64_t cursor = 0;
    int rc;

    if (!has_glob(pat->ptr, pat->len)) {
        /* A literal pattern names one key: look it up. */
        kv_run_key1(x, 0, keys_point_apply, NULL);
        return;
    }
    if (coord_active(x->srv)) {
        keyspace_keys(x, pat->ptr, pat->len);
        return;
    }
    kv_commit_all(x);
    srv_keylist_init(&l);
    o.pat = pat->len == 1 && pat->ptr[0] == '*' ? NULL : pat->ptr;
    o.plen = pat->len;
    o.type = SRV_SCAN_TYPE_ANY;
    o.count = LLONG_MAX;
    o.slots = NULL;
    /* With no COUNT limit one step walks every slot the pattern can
     * match (just one when it pins a {hash tag}). */
    rc = srv_scan_step(NULL, x->srv->store, cursor, &o, srv_mstime(),
                       srv_keylist_add, &l, &cursor);
    if (rc != RK_OK) {
        reply_error(x, rc == RK_ENOMEM ? OOM_ERR : "storage error");
    } else {
        keylist_reply(x, &l);
    }
    srv_keylist_deinit(&l);
}

/* The record type a TYPE filter names, or SRV_SCAN_TYPE_NONE. */
static int
scan_type_filter(const struct rk_slice *a)
{
    if (opt_is(a, type_name(STORE_TYPE_STRING))) {
        return STORE_TYPE_STRING;
    }
    return SRV_SCAN_TYPE_NONE;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. */
void
cmd_scan(struct cmd_ctx *x)
{
    struct srv_scan_opts o;
    struct srv_keylist l;
    uint64_t cursor;
    uint64_t next = 0;
    char ctext[24];
    int clen;
    int rc;

    if (!srv_scan_parse_cursor(x->argv[1].ptr, x->argv[1].len, &cursor)) {
        reply_error(x, "invalid cursor");
        return;
    }
    o.pat = NULL;
    o.plen = 0;
    o.type = SRV_SCAN_TYPE_ANY;
    o.count = SCAN_COUNT;
    o.slots = NULL;
    for (int i = 2; i < x->argc; i++) {
        const struct rk_slice *a = &x->argv[i];
        int more = i + 1 < x->argc;

        if (more && opt_is(a, "count")) {
            if (!srv_str2ll(x->argv[i + 1].ptr, x->argv[i + 1].len,
                            &o.count)) {
                reply_not_integer(x);
                return;
            }
            if (o.count < 1) {
                reply_syntax_error(x);
                return;
            }
        } else if (more && opt_is(a, "match")) {
            const struct rk_slice *p = &x->argv[i + 1];

            /* "*" matches everything: no filtering. */
            o.pat = p->len == 1 && p->ptr[0] == '*' ? NULL : p->ptr;
            o.plen = p->len;
        } else if (more && opt_is(a, "type")) {
            o.type = scan_type_filter(&x->argv[i + 1]);
        } else {
            reply_syntax_error(x);
            return;
        }
        i++;
    }
    if (coord_active(x->srv)) {
        keyspace_scan(x, cursor, &o);
        return;
    }
    kv_commit_all(x);
    srv_keylist_init(&l);
    rc = srv_scan_step(x->srv->scan, x->srv->store, cursor, &o,
                       srv_mstime(), srv_keylist_add, &l, &next);
    if (rc != RK_OK) {
        reply_error(x, rc == RK_ENOMEM ? OOM_ERR : "storage error");
    } else {
        clen = snprintf(ctext, sizeof(ctext), "%llu",
                        (unsigned long long)next);
        reply_array(x, 2);
        reply_bulk(x, ctext, (size_t)clen);
        keylist_reply(x, &l);
    }
    srv_keylist_deinit(&l);
}

/*
 * RANDOMKEY: the first live key at or after a random slot (so not uniform
 * over keys), or nil when there is none; in a cluster over every member
 * (keyspace.h).
 */
void
cmd_randomkey(struct cmd_ctx *x)
{
    uint16_t start = (uint16_t)(((uint64_t)random() ^
                                 (uint64_t)srv_ustime()) % STORE_SLOTS);
    struct srv_keylist l;
    uint16_t slot;
    int rc;

    if (coord_active(x->srv)) {
        keyspace_randomkey(x, start);
        return;
    }
    kv_commit_all(x);
    srv_keylist_init(&l);
    rc = srv_scan_first_live(x->srv->store, start, NULL, srv_mstime(), &l,
                             &slot);
    if (rc < 0) {
        reply_error(x, OOM_ERR);
    } else if (rc == 0) {
        reply_null(x);
    } else {
        reply_bulk(x, l.buf, l.len);
    }
    srv_keylist_deinit(&l);
}
