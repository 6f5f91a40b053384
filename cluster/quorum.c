/*
 * cluster/quorum.c - the write and read quorum state machines and their
 * error texts. The rules are described in quorum.h; this file keeps to
 * them.
 *
 * Every per-replica fact is one bit of a 64-bit set, bit i standing for
 * the i-th replica of the preference list, so each decision is a few mask
 * operations and a population count, and an op needs no memory besides
 * the read's copy of the newest record.
 */
#include "quorum.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"
#include "store.h"

/* The set of all n replicas. */
static uint64_t
all_of(unsigned n)
{
    return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
}

static unsigned
count_of(uint64_t set)
{
    unsigned c = 0;

    while (set != 0) {
        set &= set - 1;
        c++;
    }
    return c;
}

/* Position of member in replica[0..n-1], or -1. */
static int
position(const uint16_t *replica, unsigned n, uint16_t member)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (replica[i] == member) {
            return (int)i;
        }
    }
    return -1;
}

/* Bit of member, or 0 when it is not one of the replicas. */
static uint64_t
bit_of(const uint16_t *replica, unsigned n, uint16_t member)
{
    int pos = position(replica, n, member);

    return pos < 0 ? 0 : (uint64_t)1 << pos;
}

/* Check and copy a preference list; RK_ERR when n is bad or has dups. */
static int
copy_replicas(uint16_t *dst, const uint16_t *src, unsigned n)
{
    unsigned i;

    if (n == 0 || n > QUORUM_MAX_REPLICAS || src == NULL) {
        return RK_ERR;
    }
    for (i = 0; i < n; i++) {
        if (position(src, i, src[i]) >= 0) {
            return RK_ERR;
        }
        dst[i] = src[i];
    }
    return RK_OK;
}

/*
 * Write the members of set (in list order) to out, at most cap of them,
 * and return how many were written; *taken gets their bits.
 */
static size_t
list_of(const uint16_t *replica, unsigned n, uint64_t set, uint16_t *out,
        size_t cap, uint64_t *taken)
{
    size_t k = 0;
    unsigned i;

    *taken = 0;
    for (i = 0; i < n && k < cap; i++) {
        if (set & ((uint64_t)1 << i)) {
            out[k++] = replica[i];
            *taken |= (uint64_t)1 << i;
        }
    }
    return k;
}

/* ---- writes ------------------------------------------------------------ */

/*
 * Start a write; see quorum.h. RK_OK or RK_ERR for bad arguments.
 */
int
quorum_write_init(struct quorum_write *q, const uint16_t *replica,
                  unsigned n, unsigned w, unsigned flags,
                  int64_t deadline_ms, struct quorum_stats *stats)
{
    memset(q, 0, sizeof(*q));
    if (copy_replicas(q->replica, replica, n) != RK_OK || w == 0 ||
        w > n || (flags & ~QUORUM_F_SLOPPY) != 0) {
        memset(q, 0, sizeof(*q));
        return RK_ERR;
    }
    q->n = n;
    q->w = w;
    q->flags = flags;
    q->state = QUORUM_PENDING;
    q->deadline_ms = deadline_ms;
    q->stats = stats;
    return RK_OK;
}

/* Forget the op; it holds no memory. */
void
quorum_write_deinit(struct quorum_write *q)
{
    memset(q, 0, sizeof(*q));
}

/* Replicas counted toward W now. */
static uint64_t
write_ok_set(const struct quorum_write *q)
{
    uint64_t ok = q->acked;

    if (q->flags & QUORUM_F_SLOPPY) {
        ok |= q->hinted;
    }
    return ok;
}

/* Replicas counted toward W now or possibly later. */
static uint64_t
write_reachable_set(const struct quorum_write *q)
{
    uint64_t open = all_of(q->n) & ~q->acked & ~q->failed;
    uint64_t ok = q->acked | open;

    if (q->flags & QUORUM_F_SLOPPY) {
        ok |= q->hinted | (q->failed & ~q->hint_failed);
    }
    return ok;
}

/* Finish the op with state st, freezing its count. */
static void
write_finish(struct quorum_write *q, enum quorum_state st)
{
    q->state = st;
    q->done_count = count_of(write_ok_set(q));
    if (q->stats != NULL) {
        if (st == QUORUM_DONE_OK) {
            q->stats->writes_ok++;
        } else {
            q->stats->writes_failed++;
        }
    }
}

/* Decide a PENDING op after an event; returns the state. */
static int
write_update(struct quorum_write *q)
{
    if (q->state == QUORUM_PENDING) {
        if (count_of(write_ok_set(q)) >= q->w) {
            write_finish(q, QUORUM_DONE_OK);
        } else if (count_of(write_reachable_set(q)) < q->w) {
            write_finish(q, QUORUM_DONE_FAIL);
        }
    }
    return (int)q->state;
}

/*
 * The replica acked. Ignored for an unknown replica or one that already
 * acked or failed. Returns the state after the event.
 */
int
quorum_write_ack(struct quorum_write *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if (bit != 0 && ((q->acked | q->failed) & bit) == 0) {
        q->acked |= bit;
    }
    return write_update(q);
}

/*
 * The replica failed. Ignored for an unknown replica or one that already
 * acked or failed. Returns the state after the event.
 */
int
quorum_write_fail(struct quorum_write *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if (bit != 0 && ((q->acked | q->failed) & bit) == 0) {
        q->failed |= bit;
    }
    return write_update(q);
}

/*
 * A hint for the replica is stored. Ignored for an unknown replica or one
 * that acked or was already hinted. Returns the state after the event.
 */
int
quorum_write_hinted(struct quorum_write *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if (bit != 0 && ((q->acked | q->hinted) & bit) == 0) {
        q->hinted |= bit;
    }
    return write_update(q);
}

/*
 * Storing the replica's hint failed. Ignored for an unknown replica, one
 * that acked or was hinted, or a repeat. Returns the state after it.
 */
int
quorum_write_hint_fail(struct quorum_write *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if (bit != 0 && ((q->acked | q->hinted) & bit) == 0) {
        q->hint_failed |= bit;
    }
    return write_update(q);
}

/*
 * The clock reached now_ms: at or past the deadline a PENDING op fails
 * and the op is settled. Returns the state after the event.
 */
int
quorum_write_timeout(struct quorum_write *q, int64_t now_ms)
{
    if (now_ms >= q->deadline_ms) {
        q->expired = 1;
        if (q->state == QUORUM_PENDING) {
            write_finish(q, QUORUM_DONE_FAIL);
        }
    }
    return (int)q->state;
}

/* Current state. */
enum quorum_state
quorum_write_state(const struct quorum_write *q)
{
    return q->state;
}

/* Count toward W: frozen once done, current while PENDING. */
unsigned
quorum_write_count(const struct quorum_write *q)
{
    if (q->state == QUORUM_PENDING) {
        return count_of(write_ok_set(q));
    }
    return q->done_count;
}

/* Acks so far, late ones included. */
unsigned
quorum_write_acks(const struct quorum_write *q)
{
    return count_of(q->acked);
}

/* 1 when every replica acked or failed, or the deadline passed. */
int
quorum_write_settled(const struct quorum_write *q)
{
    return q->expired || (q->acked | q->failed) == all_of(q->n);
}

/*
 * Hand out the replicas due a hint (failed ones, and once settled all that
 * did not ack), each once; see quorum.h. Returns how many went to out.
 */
size_t
quorum_write_take_hints(struct quorum_write *q, uint16_t *out, size_t cap)
{
    uint64_t why = q->failed;
    uint64_t due;
    uint64_t taken;
    size_t k;

    if (quorum_write_settled(q)) {
        why = all_of(q->n);
    }
    due = why & ~q->acked & ~q->hinted & ~q->hint_failed & ~q->hint_taken;
    k = list_of(q->replica, q->n, due, out, cap, &taken);
    q->hint_taken |= taken;
    if (q->stats != NULL) {
        q->stats->hints_requested += k;
    }
    return k;
}

/* The -NOQUORUM text of the write; returns as quorum_error_text(). */
int
quorum_write_error(const struct quorum_write *q, char *buf, size_t len)
{
    enum quorum_err_kind kind = QUORUM_ERR_WRITE;

    if (q->flags & QUORUM_F_SLOPPY) {
        kind = QUORUM_ERR_WRITE_SLOPPY;
    }
    return quorum_error_text(buf, len, kind, quorum_write_count(q), q->n,
                             q->w);
}

/* ---- reads ------------------------------------------------------------- */

/*
 * Start a read; see quorum.h. RK_OK or RK_ERR for bad arguments.
 */
int
quorum_read_init(struct quorum_read *q, const uint16_t *replica,
                 unsigned n, unsigned r, int64_t deadline_ms,
                 struct quorum_stats *stats)
{
    memset(q, 0, sizeof(*q));
    if (copy_replicas(q->replica, replica, n) != RK_OK || r == 0 ||
        r > n) {
        memset(q, 0, sizeof(*q));
        return RK_ERR;
    }
    q->n = n;
    q->r = r;
    q->state = QUORUM_PENDING;
    q->deadline_ms = deadline_ms;
    q->fail_kind = QUORUM_ERR_READ;
    q->blocking = 2 * r > n;
    q->stats = stats;
    return RK_OK;
}

/* Free the record copy; the op is zeroed, so a second call is harmless. */
void
quorum_read_deinit(struct quorum_read *q)
{
    free(q->buf);
    memset(q, 0, sizeof(*q));
}

/* Order of rec against the newest record kept (which must exist). */
static int
cmp_newest(const struct quorum_read *q, const struct store_record *rec)
{
    struct store_record newest;

    memset(&newest, 0, sizeof(newest));
    newest.version = q->version;
    newest.node = q->node;
    return store_record_cmp(rec, &newest);
}

/* Keep a copy of rec as the newest record. RK_OK or RK_ENOMEM. */
static int
keep_newest(struct quorum_read *q, const struct store_record *rec)
{
    size_t len = store_record_encoded_len(rec);

    if (len > q->cap) {
        char *p = realloc(q->buf, len);
        if (p == NULL) {
            return RK_ENOMEM;
        }
        q->buf = p;
        q->cap = len;
    }
    q->len = store_record_encode(rec, q->buf);
    q->version = rec->version;
    q->node = rec->node;
    q->found = 1;
    return RK_OK;
}

/* Replicas whose read is still outstanding. */
static uint64_t
read_open_set(const struct quorum_read *q)
{
    return all_of(q->n) & ~q->answered & ~q->failed;
}

/* Holders of the result (meaningful once it is fixed). */
static uint64_t
read_holder_set(const struct quorum_read *q)
{
    return q->match | q->repair_acked;
}

/* Answered older than the newest. */
static uint64_t
read_stale_set(const struct quorum_read *q)
{
    return q->answered & ~q->match;
}

static void
read_finish(struct quorum_read *q, enum quorum_state st,
            enum quorum_err_kind kind)
{
    q->state = st;
    if (st == QUORUM_DONE_FAIL) {
        q->fail_kind = kind;
        q->done_count = kind == QUORUM_ERR_READ
                        ? count_of(q->answered)
                        : count_of(read_holder_set(q));
    }
    if (q->stats != NULL) {
        if (st == QUORUM_DONE_OK) {
            q->stats->reads_ok++;
        } else {
            q->stats->reads_failed++;
        }
    }
}

/* Decide after an event; returns the state. */
static int
read_update(struct quorum_read *q)
{
    if (q->state == QUORUM_PENDING) {
        if (count_of(q->answered) >= q->r) {
            /* The result is fixed: the newest of these R answers. */
            if (count_of(q->match) >= q->r || !q->blocking) {
                read_finish(q, QUORUM_DONE_OK, QUORUM_ERR_READ);
            } else {
                q->state = QUORUM_REPAIRING;
                if (q->stats != NULL) {
                    q->stats->reads_repairing++;
                }
            }
        } else if (count_of(q->answered | read_open_set(q)) < q->r) {
            read_finish(q, QUORUM_DONE_FAIL, QUORUM_ERR_READ);
        }
    }
    if (q->state == QUORUM_REPAIRING) {
        /*
         * Holders, plus what may still become one: outstanding reads
         * (equal answers, or stale ones then repaired) and answered
         * replicas whose repair has not failed.
         */
        uint64_t may = read_holder_set(q) | read_open_set(q) |
                       (q->answered & ~q->repair_failed);

        if (count_of(read_holder_set(q)) >= q->r) {
            read_finish(q, QUORUM_DONE_OK, QUORUM_ERR_READ);
        } else if (count_of(may) < q->r) {
            read_finish(q, QUORUM_DONE_FAIL, QUORUM_ERR_REPAIR);
        }
    }
    return (int)q->state;
}

/*
 * A replica answered (found: it has rec). Ignored for an unknown replica
 * or one that answered or failed before. Returns the state after the
 * answer, or RK_ENOMEM (nothing changed) when the newest record could not
 * be copied.
 */
int
quorum_read_answer(struct quorum_read *q, uint16_t replica, int found,
                   const struct store_record *rec)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if (bit == 0 || ((q->answered | q->failed) & bit) != 0) {
        return (int)q->state;
    }
    assert(!found || rec != NULL);
    if (q->state == QUORUM_PENDING) {
        /* Still collecting: the newest so far may change. */
        if (found) {
            int c = q->found ? cmp_newest(q, rec) : 1;
            if (c > 0) {
                if (keep_newest(q, rec) != RK_OK) {
                    return RK_ENOMEM;
                }
                q->match = bit;
            } else if (c == 0) {
                q->match |= bit;
            }
        } else if (!q->found) {
            q->match |= bit;
        }
    } else {
        /* The result is fixed: holder when not older, else stale. */
        if (found ? !q->found || cmp_newest(q, rec) >= 0 : !q->found) {
            q->match |= bit;
        }
    }
    q->answered |= bit;
    return read_update(q);
}

/*
 * The replica's read failed. Ignored for an unknown replica or one that
 * answered or failed before. Returns the state after the event.
 */
int
quorum_read_fail(struct quorum_read *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if (bit != 0 && ((q->answered | q->failed) & bit) == 0) {
        q->failed |= bit;
    }
    return read_update(q);
}

/*
 * The replica acked its repair write. Ignored unless it was handed out for
 * repair and has not acked or failed it yet. Returns the state after it.
 */
int
quorum_read_repair_ack(struct quorum_read *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if ((q->repair_taken & bit) != 0 &&
        ((q->repair_acked | q->repair_failed) & bit) == 0) {
        q->repair_acked |= bit;
        if (q->stats != NULL) {
            q->stats->repairs_acked++;
        }
    }
    return read_update(q);
}

/*
 * The replica's repair write failed. Ignored as quorum_read_repair_ack().
 * Returns the state after the event.
 */
int
quorum_read_repair_fail(struct quorum_read *q, uint16_t replica)
{
    uint64_t bit = bit_of(q->replica, q->n, replica);

    if ((q->repair_taken & bit) != 0 &&
        ((q->repair_acked | q->repair_failed) & bit) == 0) {
        q->repair_failed |= bit;
        if (q->stats != NULL) {
            q->stats->repairs_failed++;
        }
    }
    return read_update(q);
}

/*
 * The clock reached now_ms: at or past the deadline a PENDING or
 * REPAIRING op fails and the op is settled. Returns the state after it.
 */
int
quorum_read_timeout(struct quorum_read *q, int64_t now_ms)
{
    if (now_ms >= q->deadline_ms) {
        q->expired = 1;
        if (q->state == QUORUM_PENDING) {
            read_finish(q, QUORUM_DONE_FAIL, QUORUM_ERR_READ);
        } else if (q->state == QUORUM_REPAIRING) {
            read_finish(q, QUORUM_DONE_FAIL, QUORUM_ERR_REPAIR);
        }
    }
    return (int)q->state;
}

/* Current state. */
enum quorum_state
quorum_read_state(const struct quorum_read *q)
{
    return q->state;
}

/* 1 when the read blocks on repair. */
int
quorum_read_blocking(const struct quorum_read *q)
{
    return q->blocking;
}

/* Answers so far. */
unsigned
quorum_read_answers(const struct quorum_read *q)
{
    return count_of(q->answered);
}

/* Holders of the result; 0 while PENDING. */
unsigned
quorum_read_holders(const struct quorum_read *q)
{
    if (q->state == QUORUM_PENDING) {
        return 0;
    }
    return count_of(read_holder_set(q));
}

/*
 * The newest record: 1 with views into the op's buffer, 0 when every
 * answer was absent. See quorum.h for how long the views live.
 */
int
quorum_read_result(const struct quorum_read *q, struct store_record *rec,
                   struct rk_slice *enc)
{
    if (!q->found) {
        return 0;
    }
    if (rec != NULL) {
        int rc = store_record_decode(q->buf, q->len, rec);
        /* The bytes are our own encoding of a valid record. */
        assert(rc == RK_OK);
        (void)rc;
    }
    if (enc != NULL) {
        enc->ptr = q->buf;
        enc->len = q->len;
    }
    return 1;
}

/* Stale replicas in list order; returns how many there are. */
size_t
quorum_read_stale(const struct quorum_read *q, uint16_t *out, size_t cap)
{
    uint64_t stale = read_stale_set(q);
    uint64_t taken;

    list_of(q->replica, q->n, stale, out, cap, &taken);
    return count_of(stale);
}

/*
 * Hand out the stale replicas not handed out before, once the result is
 * fixed. Returns how many went to out.
 */
size_t
quorum_read_take_repairs(struct quorum_read *q, uint16_t *out, size_t cap)
{
    uint64_t taken;
    size_t k;

    if (q->state == QUORUM_PENDING) {
        return 0;
    }
    k = list_of(q->replica, q->n, read_stale_set(q) & ~q->repair_taken,
                out, cap, &taken);
    q->repair_taken |= taken;
    if (q->stats != NULL) {
        q->stats->repairs_sent += k;
    }
    return k;
}

/* 1 when nothing more is expected of the op (see quorum.h). */
int
quorum_read_settled(const struct quorum_read *q)
{
    uint64_t inflight = q->repair_taken & ~q->repair_acked &
                        ~q->repair_failed;

    if (q->expired) {
        return 1;
    }
    return q->state != QUORUM_PENDING && read_open_set(q) == 0 &&
           (read_stale_set(q) & ~q->repair_taken) == 0 && inflight == 0;
}

/* The -NOQUORUM text of the read; returns as quorum_error_text(). */
int
quorum_read_error(const struct quorum_read *q, char *buf, size_t len)
{
    if (q->state != QUORUM_DONE_FAIL) {
        return quorum_error_text(buf, len, QUORUM_ERR_READ,
                                 count_of(q->answered), q->n, q->r);
    }
    return quorum_error_text(buf, len, q->fail_kind, q->done_count, q->n,
                             q->r);
}

/* ---- errors and counters ----------------------------------------------- */

/*
 * "-NOQUORUM <what> <got> of <n> replicas, <needed> required" into buf;
 * see quorum.h. RK_OK, or RK_ERR for an unknown kind or a short buffer.
 */
int
quorum_error_text(char *buf, size_t len, enum quorum_err_kind kind,
                  unsigned got, unsigned n, unsigned needed)
{
    const char *what;
    int rc;

    switch (kind) {
    case QUORUM_ERR_WRITE:
        what = "write acknowledged by";
        break;
    case QUORUM_ERR_WRITE_SLOPPY:
        what = "write acknowledged or hinted for";
        break;
    case QUORUM_ERR_READ:
        what = "read answered by";
        break;
    case QUORUM_ERR_REPAIR:
        what = "read repair left the newest version on";
        break;
    default:
        if (len > 0) {
            snprintf(buf, len, "-NOQUORUM");
        }
        return RK_ERR;
    }
    rc = snprintf(buf, len, "-NOQUORUM %s %u of %u replica%s, %u required",
                  what, got, n, n == 1 ? "" : "s", needed);
    return rc < 0 || (size_t)rc >= len ? RK_ERR : RK_OK;
}

/* dst += src. */
void
quorum_stats_add(struct quorum_stats *dst, const struct quorum_stats *src)
{
    dst->writes_ok += src->writes_ok;
    dst->writes_failed += src->writes_failed;
    dst->reads_ok += src->reads_ok;
    dst->reads_failed += src->reads_failed;
    dst->reads_repairing += src->reads_repairing;
    dst->repairs_sent += src->repairs_sent;
    dst->repairs_acked += src->repairs_acked;
    dst->repairs_failed += src->repairs_failed;
    dst->hints_requested += src->hints_requested;
}
