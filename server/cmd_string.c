/*
 * server/cmd_string.c - the string commands: GET, SET and its variants,
 * MGET/MSET, APPEND, the INCR family, GETRANGE/SETRANGE.
 *
 * Each handler checks what Redis checks before it looks at the key, then
 * describes one kv_op and lets apply() do the rest against the loaded
 * records, with Redis's replies and error texts (src/t_string.c, 7.0).
 *
 * Lifetimes: the op, its keys and the apply argument live on the handler's
 * stack. kv_run() completes before it returns on a single node and copies
 * what it needs otherwise; the arguments are plain data (numbers, inline
 * buffers and views into argv), so a copy works as well as the original.
 * A value written by apply points into argv, into the loaded old record,
 * into the apply argument, or into a malloc'd buffer handed to kv through
 * kv_key.owned.
 *
 * Hot path: GET, SET without options and INCR allocate nothing; SET without
 * NX/XX/GET/KEEPTTL (and SETEX, PSETEX, MSET) are blind writes that do not
 * load the old record.
 */
#include "command.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "reply.h"
#include "resp.h"
#include "srv.h"
#include "store.h"
#include "util.h"

#define WRONGTYPE_ERR \
    "-WRONGTYPE Operation against a key holding the wrong kind of value"


/* Longest text of a long double that INCRBYFLOAT writes (Redis's
 * MAX_LONG_DOUBLE_CHARS). */
#define LD_CHARS (5 * 1024)

/* Options of SET and GETEX (Redis's OBJ_* flags). */
#define SET_NX       (1u << 0)   /* only if the key does not exist */
#define SET_XX       (1u << 1)   /* only if the key exists */
#define SET_GET      (1u << 2)   /* reply the old value */
#define SET_KEEPTTL  (1u << 3)   /* keep the old expiry */
#define SET_EX       (1u << 4)   /* relative seconds */
#define SET_PX       (1u << 5)   /* relative milliseconds */
#define SET_EXAT     (1u << 6)   /* absolute unix seconds */
#define SET_PXAT     (1u << 7)   /* absolute unix milliseconds */
#define SET_PERSIST  (1u << 8)   /* GETEX: drop the expiry */
#define SET_EXPIRES  (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* How SET-like commands reply: SET/SETEX/PSETEX "+OK" or nil, SETNX 1/0. */
enum set_reply {
    SET_REPLY_OK,
    SET_REPLY_INT,
};

/* ---------------------------------------------------------------------- */
/* Helpers */

/*
 * Compare an option with a lower-case literal as Redis's strcasecmp() on
 * the C string does: the argument ends at its first NUL.
 */
static int
opt_is(const struct rk_slice *a, const char *lit)
{
    return srv_eq(a->ptr, strnlen(a->ptr, a->len), lit);
}

/* When the key exists with another type than string: reply WRONGTYPE. */
static int
wrong_type(struct cmd_ctx *x, const struct kv_key *k)
{
    if (k->exists && k->old.type != STORE_TYPE_STRING) {
        reply_error(x, WRONGTYPE_ERR);
        return 1;
    }
    return 0;
}

/* Ask kv to write a string value with an absolute expiry (0: none). */
static void
put_string(struct kv_key *k, const char *p, size_t n, int64_t expire_ms)
{
    k->write = 1;
    k->del = 0;
    k->new.type = STORE_TYPE_STRING;
    k->new.flags = 0;
    k->new.expire_ms = expire_ms;
    k->new.value.ptr = p;
    k->new.value.len = n;
}

/* The expiry a write keeps when it does not change the TTL. */
static int64_t
kept_expire(const struct kv_key *k)
{
    return k->exists ? k->old.expire_ms : 0;
}

/* Redis's addReplyErrorExpireTime(). */
static void
reply_expire_error(struct cmd_ctx *x)
{
    reply_errorf(x, "invalid expire time in '%s' command", x->cmd->name);
}

/*
 * Turn an EX/PX/EXAT/PXAT argument into an absolute deadline in ms, as
 * Redis's getExpireMillisecondsOrReply(): positive, no overflow. Returns 0,
 * or -1 after an error reply.
 */
static int
parse_expire(struct cmd_ctx *x, const struct rk_slice *arg, unsigned flags,
             int64_t now_ms, int64_t *out)
{
    long long ms;
    int seconds = (flags & (SET_EX | SET_EXAT)) != 0;

    if (!srv_str2ll(arg->ptr, arg->len, &ms)) {
        reply_not_integer(x);
        return -1;
    }
    if (ms <= 0 || (seconds && ms > LLONG_MAX / 1000)) {
        reply_expire_error(x);
        return -1;
    }
    if (seconds) {
        ms *= 1000;
    }
    if (flags & (SET_EX | SET_PX)) {
        if (ms > LLONG_MAX - now_ms) {
            reply_expire_error(x);
            return -1;
        }
        ms += now_ms;
    }
    *out = ms;
    return 0;
}

/*
 * Parse the options of SET (is_set) or GETEX from argv[first] on, with
 * Redis's parseExtendedStringArgumentsOrReply() rules: each option is
 * refused when a conflicting one came before it, and a repeated expiry
 * replaces the earlier one. Sets *flags and *expire (the argv index of the
 * expiry argument, 0 when none). Returns 0, or -1 after "syntax error".
 */
static int
parse_string_opts(struct cmd_ctx *x, int first, int is_set, unsigned *flags,
                  int *expire)
{
    unsigned f = 0;

    *expire = 0;
    for (int j = first; j < x->argc; j++) {
        const struct rk_slice *a = &x->argv[j];
        int more = j + 1 < x->argc;

        if (is_set && opt_is(a, "nx") && !(f & SET_XX)) {
            f |= SET_NX;
        } else if (is_set && opt_is(a, "xx") && !(f & SET_NX)) {
            f |= SET_XX;
        } else if (is_set && opt_is(a, "get")) {
            f |= SET_GET;
        } else if (is_set && opt_is(a, "keepttl") &&
                   !(f & (SET_PERSIST | SET_EXPIRES))) {
            f |= SET_KEEPTTL;
        } else if (!is_set && opt_is(a, "persist") &&
                   !(f & (SET_EXPIRES | SET_KEEPTTL))) {
            f |= SET_PERSIST;
        } else if (opt_is(a, "ex") && more &&
                   !(f & (SET_KEEPTTL | SET_PERSIST |
                          (SET_EXPIRES & ~SET_EX)))) {
            f |= SET_EX;
            *expire = ++j;
        } else if (opt_is(a, "px") && more &&
                   !(f & (SET_KEEPTTL | SET_PERSIST |
                          (SET_EXPIRES & ~SET_PX)))) {
            f |= SET_PX;
            *expire = ++j;
        } else if (opt_is(a, "exat") && more &&
                   !(f & (SET_KEEPTTL | SET_PERSIST |
                          (SET_EXPIRES & ~SET_EXAT)))) {
            f |= SET_EXAT;
            *expire = ++j;
        } else if (opt_is(a, "pxat") && more &&
                   !(f & (SET_KEEPTTL | SET_PERSIST |
                          (SET_EXPIRES & ~SET_PXAT)))) {
            f |= SET_PXAT;
            *expire = ++j;
        } else {
            reply_syntax_error(x);
            return -1;
        }
    }
    *flags = f;
    return 0;
}

/* Append the decimal text of v to buf (at least 21 bytes); its length. */
static size_t
ll_to_str(char *buf, long long v)
{
    char tmp[24];
    size_t n = 0;
    size_t len = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
                                 : (unsigned long long)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        buf[len++] = '-';
    }
    while (n > 0) {
        buf[len++] = tmp[--n];
    }
    return len;
}

/* Redis's checkStringLength(): the result may not exceed
 * proto-max-bulk-len. Returns 0, or -1 after the error reply. */
static int
check_string_length(struct cmd_ctx *x, unsigned long long size,
                    unsigned long long append)
{
    long long max;

    pthread_mutex_lock(&x->srv->cfg.lock);
    max = x->srv->cfg.proto_max_bulk_len;
    pthread_mutex_unlock(&x->srv->cfg.lock);
    if (max <= 0) {
        max = (long long)RESP_DEFAULT_MAX_BULK;
    }
    if (size + append < size || size + append > (unsigned long long)max) {
        reply_error(x, "string exceeds maximum allowed size "
                    "(proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* GET, GETDEL, STRLEN */

static void
get_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];

    if (!k->exists) {
        reply_null(op->x);
    } else if (!wrong_type(op->x, k)) {
        reply_bulk(op->x, k->old.value.ptr, k->old.value.len);
    }
}

/* GET key: the value, or nil. */
void
cmd_get(struct cmd_ctx *x)
{
    kv_run_key1(x, 0, get_apply, NULL);
}

static void
getdel_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];

    if (!k->exists) {
        reply_null(op->x);
    } else if (!wrong_type(op->x, k)) {
        reply_bulk(op->x, k->old.value.ptr, k->old.value.len);
        k->del = 1;
    }
}

/* GETDEL key: the value (or nil), then delete the key. */
void
cmd_getdel(struct cmd_ctx *x)
{
    kv_run_key1(x, KV_WRITE, getdel_apply, NULL);
}

static void
strlen_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];

    if (!k->exists) {
        reply_int(op->x, 0);
    } else if (!wrong_type(op->x, k)) {
        reply_int(op->x, (long long)k->old.value.len);
    }
}

/* STRLEN key: length of the value, 0 when missing. */
void
cmd_strlen(struct cmd_ctx *x)
{
    kv_run_key1(x, 0, strlen_apply, NULL);
}

/* ---------------------------------------------------------------------- */
/* SET, SETNX, SETEX, PSETEX, GETSET */

struct set_arg {
    unsigned flags;            /* SET_* */
    enum set_reply reply;
    struct rk_slice val;       /* view into argv */
    int64_t expire_ms;         /* absolute deadline, 0 when not given */
};

static void
set_apply(struct kv_op *op)
{
    struct set_arg *a = op->arg;
    struct kv_key *k = &op->keys[0];
    struct cmd_ctx *x = op->x;
    int64_t expire_ms = a->expire_ms;

    if (a->flags & SET_GET) {
        if (!k->exists) {
            reply_null(x);
        } else if (wrong_type(x, k)) {
            return;
        } else {
            reply_bulk(x, k->old.value.ptr, k->old.value.len);
        }
    }
    if (((a->flags & SET_NX) && k->exists) ||
        ((a->flags & SET_XX) && !k->exists)) {
        if (!(a->flags & SET_GET)) {
            if (a->reply == SET_REPLY_INT) {
                reply_int(x, 0);
            } else {
                reply_null(x);
            }
        }
        return;
    }
    if (a->flags & SET_KEEPTTL) {
        expire_ms = kept_expire(k);
    }
    /* A deadline already past is stored as it is: the key reads as
     * missing from now on, as in Redis. */
    put_string(k, a->val.ptr, a->val.len, expire_ms);
    if (!(a->flags & SET_GET)) {
        if (a->reply == SET_REPLY_INT) {
            reply_int(x, 1);
        } else {
            reply_ok(x);
        }
    }
}

/*
 * Redis's setGenericCommand(): set argv[1] to *val with flags (SET_*), an
 * optional expiry argument and the reply style. Checks the expiry before
 * anything else; without NX, XX, GET or KEEPTTL the write is blind.
 */
static void
set_generic(struct cmd_ctx *x, unsigned flags, const struct rk_slice *val,
            const struct rk_slice *expire, enum set_reply reply)
{
    struct set_arg a;
    struct kv_key key;
    struct kv_op op;
    unsigned kvf = KV_WRITE;

    kv_op_init(&op, x, 0, &key, 1, set_apply, &a);
    a.flags = flags;
    a.reply = reply;
    a.val = *val;
    a.expire_ms = 0;
    if (expire != NULL &&
        parse_expire(x, expire, flags, op.now_ms, &a.expire_ms) != 0) {
        return;
    }
    if (!(flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL))) {
        kvf |= KV_BLIND;
    }
    op.flags = kvf;
    kv_key_from_arg(&op, 0, &x->argv[1]);
    kv_run(&op);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]. */
void
cmd_set(struct cmd_ctx *x)
{
    unsigned flags;
    int expire;

    if (parse_string_opts(x, 3, 1, &flags, &expire) != 0) {
        return;
    }
    set_generic(x, flags, &x->argv[2], expire ? &x->argv[expire] : NULL,
                SET_REPLY_OK);
}

/* SETNX key value: 1 when set, 0 when the key existed. */
void
cmd_setnx(struct cmd_ctx *x)
{
    set_generic(x, SET_NX, &x->argv[2], NULL, SET_REPLY_INT);
}

/* SETEX key seconds value. */
void
cmd_setex(struct cmd_ctx *x)
{
    set_generic(x, SET_EX, &x->argv[3], &x->argv[2], SET_REPLY_OK);
}

/* PSETEX key milliseconds value. */
void
cmd_psetex(struct cmd_ctx *x)
{
    set_generic(x, SET_PX, &x->argv[3], &x->argv[2], SET_REPLY_OK);
}

static void
getset_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];
    const struct rk_slice *val = &op->x->argv[2];

    if (!k->exists) {
        reply_null(op->x);
    } else if (wrong_type(op->x, k)) {
        return;
    } else {
        reply_bulk(op->x, k->old.value.ptr, k->old.value.len);
    }
    put_string(k, val->ptr, val->len, 0);
}

/* GETSET key value: the old value (or nil); the new one has no TTL. */
void
cmd_getset(struct cmd_ctx *x)
{
    kv_run_key1(x, KV_WRITE, getset_apply, NULL);
}

/* ---------------------------------------------------------------------- */
/* GETEX */

struct getex_arg {
    unsigned flags;            /* SET_PERSIST or one of SET_EXPIRES */
    int expire;                /* argv index of the expiry, 0: none */
};

static void
getex_apply(struct kv_op *op)
{
    struct getex_arg *a = op->arg;
    struct kv_key *k = &op->keys[0];
    struct cmd_ctx *x = op->x;
    int64_t ms = 0;

    if (!k->exists) {
        reply_null(x);
        return;
    }
    if (wrong_type(x, k)) {
        return;
    }
    /* Redis checks the expiry only once it knows the key exists. */
    if (a->expire != 0 &&
        parse_expire(x, &x->argv[a->expire], a->flags, op->now_ms,
                     &ms) != 0) {
        return;
    }
    reply_bulk(x, k->old.value.ptr, k->old.value.len);
    if ((a->flags & (SET_EXAT | SET_PXAT)) && ms <= op->now_ms) {
        k->del = 1;
    } else if (a->expire != 0) {
        put_string(k, k->old.value.ptr, k->old.value.len, ms);
    } else if ((a->flags & SET_PERSIST) && k->old.expire_ms != 0) {
        put_string(k, k->old.value.ptr, k->old.value.len, 0);
    }
}

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]. */
void
cmd_getex(struct cmd_ctx *x)
{
    struct getex_arg a;

    if (parse_string_opts(x, 2, 0, &a.flags, &a.expire) != 0) {
        return;
    }
    kv_run_key1(x, a.flags != 0 ? KV_WRITE : 0, getex_apply, &a);
}

/* ---------------------------------------------------------------------- */
/* MGET, MSET, MSETNX */

static void
mget_apply(struct kv_op *op)
{
    reply_array(op->x, (long long)op->nkeys);
    for (size_t i = 0; i < op->nkeys; i++) {
        struct kv_key *k = &op->keys[i];

        if (k->exists && k->old.type == STORE_TYPE_STRING) {
            reply_bulk(op->x, k->old.value.ptr, k->old.value.len);
        } else {
            reply_null(op->x);
        }
    }
}

/* MGET key [key ...]: values or nils (nil for other types too). */
void
cmd_mget(struct cmd_ctx *x)
{
    kv_run_args(x, 0, 1, 1, mget_apply, NULL);
}

/*
 * MSET and MSETNX apply: the value of key i is argv[2 + 2i]. A key given
 * twice is written twice in argument order, so the last value wins (kv
 * writes the keys of an op in order, with increasing versions).
 */
static void
mset_apply(struct kv_op *op)
{
    const int *nx = op->arg;
    struct cmd_ctx *x = op->x;

    if (*nx) {
        for (size_t i = 0; i < op->nkeys; i++) {
            if (op->keys[i].exists) {
                reply_int(x, 0);
                return;
            }
        }
    }
    for (size_t i = 0; i < op->nkeys; i++) {
        const struct rk_slice *v = &x->argv[2 + 2 * i];

        put_string(&op->keys[i], v->ptr, v->len, 0);
    }
    if (*nx) {
        reply_int(x, 1);
    } else {
        reply_ok(x);
    }
}

/* MSET and MSETNX: one op over every key, so MSETNX is all or nothing. */
static void
mset_generic(struct cmd_ctx *x, int nx)
{
    if (x->argc % 2 == 0) {
        reply_arity_error(x, x->cmd->name);
        return;
    }
    kv_run_args(x, nx ? KV_WRITE : KV_WRITE | KV_BLIND, 1, 2, mset_apply,
                &nx);
}

/* MSET key value [key value ...]: OK; every TTL is cleared. */
void
cmd_mset(struct cmd_ctx *x)
{
    mset_generic(x, 0);
}

/* MSETNX key value [key value ...]: 1 when all were set, 0 when none. */
void
cmd_msetnx(struct cmd_ctx *x)
{
    mset_generic(x, 1);
}

/* ---------------------------------------------------------------------- */
/* APPEND, SETRANGE, GETRANGE */

static void
append_apply(struct kv_op *op)
{
    struct kv_key *k = &op->keys[0];
    struct cmd_ctx *x = op->x;
    const struct rk_slice *add = &x->argv[2];
    size_t olen;
    char *p;

    if (!k->exists) {
        put_string(k, add->ptr, add->len, 0);
        reply_int(x, (long long)add->len);
        return;
    }
    if (wrong_type(x, k)) {
        return;
    }
    olen = k->old.value.len;
    if (check_string_length(x, olen, add->len) != 0) {
        return;
    }
    p = malloc(olen + add->len + 1);
    if (p == NULL) {
        reply_error(x, "-OOM command not allowed when used memory > "
                    "'maxmemory'.");
        return;
    }
    memcpy(p, k->old.value.ptr, olen);
    memcpy(p + olen, add->ptr, add->len);
    k->owned = p;
    put_string(k, p, olen + add->len, k->old.expire_ms);
    reply_int(x, (long long)(olen + add->len));
}

/* APPEND key value: the new length; the TTL is kept. */
void
cmd_append(struct cmd_ctx *x)
{
    kv_run_key1(x, KV_WRITE, append_apply, NULL);
}

static void
setrange_apply(struct kv_op *op)
{
    const long long *offset = op->arg;
    struct kv_key *k = &op->keys[0];
    struct cmd_ctx *x = op->x;
    const struct rk_slice *v = &x->argv[3];
    size_t off = (size_t)*offset;
    size_t olen = k->exists ? k->old.value.len : 0;
    size_t nlen;
    char *p;

    if (wrong_type(x, k)) {
        return;
    }
    if (v->len == 0) {
        /* Setting nothing: the current length, and no key is made. */
        reply_int(x, (long long)olen);
        return;
    }
    if (check_string_length(x, off, v->len) != 0) {
        return;
    }
    nlen = off + v->len > olen ? off + v->len : olen;
    p = malloc(nlen);
    if (p == NULL) {
        reply_error(x, "-OOM command not allowed when used memory > "
                    "'maxmemory'.");
        return;
    }
    if (olen > 0) {
        memcpy(p, k->old.value.ptr, olen);
    }
    if (off > olen) {
        memset(p + olen, 0, off - olen);
    }
    memcpy(p + off, v->ptr, v->len);
    k->owned = p;
    put_string(k, p, nlen, kept_expire(k));
    reply_int(x, (long long)nlen);
}

/* SETRANGE key offset value: the new length; the TTL is kept. */
void
cmd_setrange(struct cmd_ctx *x)
{
    long long offset;

    if (!srv_str2ll(x->argv[2].ptr, x->argv[2].len, &offset)) {
        reply_not_integer(x);
        return;
    }
    if (offset < 0) {
        reply_error(x, "offset is out of range");
        return;
    }
    kv_run_key1(x, KV_WRITE, setrange_apply, &offset);
}

struct range_arg {
    long long start;
    long long end;
};

static void
getrange_apply(struct kv_op *op)
{
    const struct range_arg *a = op->arg;
    struct kv_key *k = &op->keys[0];
    long long start = a->start;
    long long end = a->end;
    long long len;

    if (!k->exists) {
        reply_bulk(op->x, "", 0);
        return;
    }
    if (wrong_type(op->x, k)) {
        return;
    }
    len = (long long)k->old.value.len;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(op->x, "", 0);
        return;
    }
    if (start < 0) {
        start = len + start;
    }
    if (end < 0) {
        end = len + end;
    }
    if (start < 0) {
        start = 0;
    }
    if (end < 0) {
        end = 0;
    }
    if (end >= len) {
        end = len - 1;
    }
    if (start > end || len == 0) {
        reply_bulk(op->x, "", 0);
    } else {
        reply_bulk(op->x, k->old.value.ptr + start,
                   (size_t)(end - start + 1));
    }
}

/* GETRANGE key start end: a substring, inclusive, negative from the end. */
void
cmd_getrange(struct cmd_ctx *x)
{
    struct range_arg a;

    if (!srv_str2ll(x->argv[2].ptr, x->argv[2].len, &a.start) ||
        !srv_str2ll(x->argv[3].ptr, x->argv[3].len, &a.end)) {
        reply_not_integer(x);
        return;
    }
    kv_run_key1(x, 0, getrange_apply, &a);
}

/* ---------------------------------------------------------------------- */
/* INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT */

struct incr_arg {
    long long by;
    char buf[24];              /* the new value's text, written by kv */
};

static void
incr_apply(struct kv_op *op)
{
    struct incr_arg *a = op->arg;
    struct kv_key *k = &op->keys[0];
    struct cmd_ctx *x = op->x;
    long long v = 0;
    size_t n;

    if (wrong_type(x, k)) {
        return;
    }
    if (k->exists &&
        !srv_str2ll(k->old.value.ptr, k->old.value.len, &v)) {
        reply_not_integer(x);
        return;
    }
    if ((a->by < 0 && v < 0 && a->by < LLONG_MIN - v) ||
        (a->by > 0 && v > 0 && a->by > LLONG_MAX - v)) {
        reply_error(x, "increment or decrement would overflow");
        return;
    }
    v += a->by;
    n = ll_to_str(a->buf, v);
    put_string(k, a->buf, n, kept_expire(k));
    reply_int(x, v);
}

/* Add by to the integer at argv[1]; the TTL is kept. */
static void
incr_generic(struct cmd_ctx *x, long long by)
{
    struct incr_arg a;

    a.by = by;
    kv_run_key1(x, KV_WRITE, incr_apply, &a);
}

/* INCR key: the value plus one. */
void
cmd_incr(struct cmd_ctx *x)
{
    incr_generic(x, 1);
}

/* DECR key: the value minus one. */
void
cmd_decr(struct cmd_ctx *x)
{
    incr_generic(x, -1);
}

/* INCRBY key increment. */
void
cmd_incrby(struct cmd_ctx *x)
{
    long long by;

    if (!srv_str2ll(x->argv[2].ptr, x->argv[2].len, &by)) {
        reply_not_integer(x);
        return;
    }
    incr_generic(x, by);
}

/* DECRBY key decrement. */
void
cmd_decrby(struct cmd_ctx *x)
{
    long long by;

    if (!srv_str2ll(x->argv[2].ptr, x->argv[2].len, &by)) {
        reply_not_integer(x);
        return;
    }
    if (by == LLONG_MIN) {
        reply_error(x, "decrement would overflow");
        return;
    }
    incr_generic(x, -by);
}

struct incrfloat_arg {
    long double by;
    int by_ok;                 /* the increment parsed */
};

static void
incrbyfloat_apply(struct kv_op *op)
{
    const struct incrfloat_arg *a = op->arg;
    struct kv_key *k = &op->keys[0];
    struct cmd_ctx *x = op->x;
    long double v = 0;
    char buf[LD_CHARS];
    char *p;
    int n;

    if (wrong_type(x, k)) {
        return;
    }
    /* Redis checks the stored value before the increment. */
    if ((k->exists &&
         !srv_str2ld(k->old.value.ptr, k->old.value.len, &v)) ||
        !a->by_ok) {
        reply_error(x, "value is not a valid float");
        return;
    }
    v += a->by;
    if (isnan(v) || isinf(v)) {
        reply_error(x, "increment would produce NaN or Infinity");
        return;
    }
    n = resp_format_ld(buf, sizeof(buf), v);
    if (n <= 0) {
        reply_error(x, "value is not a valid float");
        return;
    }
    p = malloc((size_t)n);
    if (p == NULL) {
        reply_error(x, "-OOM command not allowed when used memory > "
                    "'maxmemory'.");
        return;
    }
    memcpy(p, buf, (size_t)n);
    k->owned = p;
    put_string(k, p, (size_t)n, kept_expire(k));
    reply_bulk(x, p, (size_t)n);
}

/* INCRBYFLOAT key increment: the new value as a bulk string. */
void
cmd_incrbyfloat(struct cmd_ctx *x)
{
    struct incrfloat_arg a;

    a.by = 0;
    a.by_ok = srv_str2ld(x->argv[2].ptr, x->argv[2].len, &a.by);
    kv_run_key1(x, KV_WRITE, incrbyfloat_apply, &a);
}
