/*
 * cluster/quorum.h - quorum bookkeeping of one coordinated write or read.
 *
 * These are pure state machines: they send nothing, read no clock and
 * never block. The coordinator (server/) sends the operation to the
 * replicas of a key's preference list, feeds every reply, failure and
 * timeout to the op, and acts on what the op says: answer the client when
 * the op is done, store hints for the replicas quorum_write_take_hints()
 * hands out, send the newest record to the replicas
 * quorum_read_take_repairs() hands out.
 *
 * Replicas are named by their member index (ring_preference() entries);
 * an op knows only the n indexes it was created with, and an event about
 * any other index is ignored. The first outcome of a replica counts: a
 * second answer, ack or failure from it is ignored, as is every event of
 * a kind that does not fit the replica's state (a repair ack for a replica
 * that was not sent a repair, a hint for one that acked).
 *
 * States. An op starts PENDING and ends DONE_OK or DONE_FAIL; a read may
 * pass through REPAIRING. The state never changes after DONE_*, but an op
 * keeps recording late answers and acks, because they decide which hints
 * and repairs are still due. The caller keeps an op until
 * quorum_*_settled() says nothing more is expected (every replica has
 * answered, or the deadline passed), takes the last hints or repairs, and
 * then drops it.
 *
 * Write rule. DONE_OK as soon as W replicas acked (with QUORUM_F_SLOPPY, a
 * durably stored hint for a replica counts as its ack); DONE_FAIL as soon
 * as W can no longer be reached (too many failures; with QUORUM_F_SLOPPY a
 * failed replica still counts as reachable until its hint failed too), or
 * when the deadline passes first. Hints are due for every replica that
 * did not ack: for a failed one at once, for the others once the op is
 * settled, so an ack that arrives after DONE but before the end clears
 * the need. A failed write still gets its hints (as in Cassandra): the
 * replicas that acked keep the write, so the others should converge on it.
 *
 * Read rule. Versions are ordered by store_record_cmp() (version, then
 * writer node); "absent" is older than every record; a tombstone is a
 * record like any other, so the newest answer may be a tombstone (the
 * client sees nil, and the tombstone is what repair spreads). While the op
 * collects its first R answers the newest so far is kept. At the R-th
 * answer the result is fixed: the newest of those answers. From then on a
 * replica is
 *   - a holder when it answered with a version >= the result, or acked a
 *     repair write of the result;
 *   - stale when it answered with an older version, or absent while the
 *     result exists.
 * If the R answers agree the read is DONE_OK. If they disagree:
 *   - a blocking read (2 * R > N: QUORUM, ALL, or any count that is a
 *     majority) goes to REPAIRING: the coordinator writes the result to
 *     the stale replicas and the read is DONE_OK once R replicas are
 *     holders (repair acks, or answers arriving meanwhile that are not
 *     older), so the value returned is on a read quorum before the client
 *     sees it (monotonic reads, Cassandra's blocking read repair). It is
 *     DONE_FAIL when R holders can no longer be reached (repair failures)
 *     or at the deadline.
 *   - a weak read (ONE, or any count that is not a majority) is DONE_OK at
 *     once; the stale replicas are repaired in the background.
 * Answers after the result is fixed never change it: an older or absent
 * one makes its replica stale (one more repair), a newer one makes its
 * replica a holder; this op never spreads a version newer than the result
 * (its write's own hints and anti-entropy do). A read that fails still
 * hands out repairs of the newest answer it saw (a real version, so
 * writing it anywhere older is safe).
 *
 * Not thread-safe: one thread drives an op (the worker that owns the
 * client connection). QUORUM_MAX_REPLICAS is the largest N.
 */
#ifndef QUORUM_H
#define QUORUM_H

#include <stddef.h>
#include <stdint.h>

struct rk_slice;
struct store_record;

/* Largest preference list an op accepts (the server's --replicas max). */
#define QUORUM_MAX_REPLICAS 64

/* quorum_write_init() flags. */
#define QUORUM_F_SLOPPY (1u << 0)   /* a stored hint counts toward W */

enum quorum_state {
    QUORUM_PENDING = 0,     /* waiting for answers or acks */
    QUORUM_REPAIRING,       /* read: result fixed, waiting for repair acks */
    QUORUM_DONE_OK,         /* answer the client with the result */
    QUORUM_DONE_FAIL        /* answer the client with a -NOQUORUM error */
};

/* What a -NOQUORUM error is about (quorum_error_text()). */
enum quorum_err_kind {
    QUORUM_ERR_WRITE = 0,   /* acks that arrived */
    QUORUM_ERR_WRITE_SLOPPY,/* acks plus stored hints */
    QUORUM_ERR_READ,        /* read answers that arrived */
    QUORUM_ERR_REPAIR       /* replicas holding the newest after repair */
};

/*
 * Counters for INFO. An op adds to the struct it was given at init as
 * events happen; each worker owns one (no sharing, no atomics) and INFO
 * sums them with quorum_stats_add().
 */
struct quorum_stats {
    uint64_t writes_ok;         /* write ops that reached W */
    uint64_t writes_failed;     /* write ops that ended DONE_FAIL */
    uint64_t reads_ok;          /* read ops that ended DONE_OK */
    uint64_t reads_failed;      /* read ops that ended DONE_FAIL */
    uint64_t reads_repairing;   /* reads that blocked on read repair */
    uint64_t repairs_sent;      /* replicas handed out for a repair write */
    uint64_t repairs_acked;     /* of those, acked */
    uint64_t repairs_failed;    /* of those, failed */
    uint64_t hints_requested;   /* replicas handed out for a hint */
};

/*
 * One write. The fields are private: use the functions. Lives in the
 * caller's storage (quorum_write_init()); holds no heap memory.
 */
struct quorum_write {
    uint16_t replica[QUORUM_MAX_REPLICAS];
    unsigned n;
    unsigned w;
    unsigned flags;             /* QUORUM_F_* */
    enum quorum_state state;
    int64_t deadline_ms;
    uint64_t acked;             /* bit i: replica[i] acked */
    uint64_t failed;            /* bit i: replica[i] failed */
    uint64_t hinted;            /* a hint for replica[i] is stored */
    uint64_t hint_failed;       /* storing its hint failed */
    uint64_t hint_taken;        /* handed out by quorum_write_take_hints() */
    unsigned done_count;        /* count toward W when the op finished */
    unsigned expired : 1;       /* the deadline passed */
    struct quorum_stats *stats; /* borrowed; may be NULL */
};

/*
 * One read. The fields are private: use the functions. Lives in the
 * caller's storage (quorum_read_init()/quorum_read_deinit()); owns one
 * heap copy of the newest record's encoding.
 */
struct quorum_read {
    uint16_t replica[QUORUM_MAX_REPLICAS];
    unsigned n;
    unsigned r;
    enum quorum_state state;
    int64_t deadline_ms;
    uint64_t answered;          /* bit i: replica[i] answered */
    uint64_t failed;            /* replica[i]'s read failed */
    uint64_t match;             /* answered >= result (== newest before
                                 * the result is fixed) */
    uint64_t repair_taken;      /* handed out by quorum_read_take_repairs() */
    uint64_t repair_acked;
    uint64_t repair_failed;
    char *buf;                  /* encoded newest record, owned */
    size_t len;
    size_t cap;
    uint64_t version;           /* newest record's version ... */
    uint32_t node;              /* ... and writer node */
    unsigned done_count;        /* answers or holders when it failed */
    enum quorum_err_kind fail_kind;
    unsigned found : 1;         /* some answer held a record */
    unsigned blocking : 1;      /* 2 * r > n */
    unsigned expired : 1;       /* the deadline passed */
    struct quorum_stats *stats; /* borrowed; may be NULL */
};

/* ---- writes ------------------------------------------------------------ */

/*
 * Start a write to the n replicas replica[0..n-1] (member indexes, copied)
 * that needs w acks. flags: QUORUM_F_SLOPPY or 0. deadline_ms: on the
 * caller's clock (the one it passes to quorum_write_timeout()). stats:
 * counters this op adds to, or NULL; borrowed, it must outlive the op.
 * Returns RK_OK, or RK_ERR (nothing to free) when n is 0 or more than
 * QUORUM_MAX_REPLICAS, w is 0 or more than n, a flag is unknown or an
 * index appears twice.
 */
int quorum_write_init(struct quorum_write *q, const uint16_t *replica,
                      unsigned n, unsigned w, unsigned flags,
                      int64_t deadline_ms, struct quorum_stats *stats);

/* Forget the op (it holds no memory); q may be initialised again. */
void quorum_write_deinit(struct quorum_write *q);

/*
 * Events. Each returns the state after the event (enum quorum_state).
 *   ack        the replica applied the write;
 *   fail       it answered with an error, refused, or its link is down;
 *   hinted     a hint for it is stored durably (after take_hints, or
 *              whenever the caller chose to hint it); ignored once it acked;
 *   hint_fail  storing its hint failed (with QUORUM_F_SLOPPY a failed
 *              replica whose hint failed no longer counts as reachable);
 *   timeout    now_ms >= the deadline: a PENDING op fails, and the op is
 *              settled; earlier calls do nothing. Pass INT64_MAX to give
 *              up on the op at once.
 */
int quorum_write_ack(struct quorum_write *q, uint16_t replica);
int quorum_write_fail(struct quorum_write *q, uint16_t replica);
int quorum_write_hinted(struct quorum_write *q, uint16_t replica);
int quorum_write_hint_fail(struct quorum_write *q, uint16_t replica);
int quorum_write_timeout(struct quorum_write *q, int64_t now_ms);

/* Current state. */
enum quorum_state quorum_write_state(const struct quorum_write *q);

/*
 * Replicas counted toward W: acks (plus stored hints of replicas that did
 * not ack, with QUORUM_F_SLOPPY). Frozen when the op finishes, so it is
 * the number its error text names; the current count while PENDING.
 */
unsigned quorum_write_count(const struct quorum_write *q);

/* Number of replicas that acked so far, late acks included. */
unsigned quorum_write_acks(const struct quorum_write *q);

/*
 * 1 when no more answers are expected: every replica acked or failed, or
 * the deadline passed. A settled op is done; take its last hints, then
 * drop it.
 */
int quorum_write_settled(const struct quorum_write *q);

/*
 * Hand out the replicas that need a hint now and were not handed out
 * before: those that failed (at any time), and once the op is settled
 * every other one that did not ack. A replica already reported hinted is
 * skipped, and so is one whose hint already failed. Writes at most cap
 * member indexes to out (the rest wait for the next call) and returns how
 * many; each one counts in hints_requested. The caller stores a hint of
 * the write for each and reports quorum_write_hinted() or
 * quorum_write_hint_fail().
 */
size_t quorum_write_take_hints(struct quorum_write *q, uint16_t *out,
                               size_t cap);

/*
 * The -NOQUORUM error of a failed write into buf (see quorum_error_text()),
 * naming quorum_write_count(), n and w. Returns as quorum_error_text().
 */
int quorum_write_error(const struct quorum_write *q, char *buf, size_t len);

/* ---- reads ------------------------------------------------------------- */

/*
 * Start a read of the n replicas replica[0..n-1] (member indexes, copied)
 * that needs r answers; it blocks on read repair when 2 * r > n (see the
 * top). deadline_ms and stats as in quorum_write_init(). Returns RK_OK, or
 * RK_ERR when n is 0 or more than QUORUM_MAX_REPLICAS, r is 0 or more than
 * n, or an index appears twice; nothing to deinit then. An initialised op
 * must be released with quorum_read_deinit().
 */
int quorum_read_init(struct quorum_read *q, const uint16_t *replica,
                     unsigned n, unsigned r, int64_t deadline_ms,
                     struct quorum_stats *stats);

/* Free the op's record copy. Safe to call twice. */
void quorum_read_deinit(struct quorum_read *q);

/*
 * A replica answered: found is 0 when it has no record of the key (rec is
 * then ignored and may be NULL), non-zero when it has rec (a tombstone or
 * an expired record is a record). rec is borrowed for the call only: when
 * it is the newest so far, the op copies its encoding
 * (store_record_encode()) into a buffer of its own; otherwise only its
 * version is compared. Returns the state after the answer, or RK_ENOMEM
 * when the copy could not be made: then the answer was not taken and the
 * op is unchanged (report quorum_read_fail() for the replica, or fail the
 * command).
 */
int quorum_read_answer(struct quorum_read *q, uint16_t replica, int found,
                       const struct store_record *rec);

/*
 * Events returning the state after them:
 *   fail          the replica's read failed (error, refused, link down);
 *   repair_ack    the replica applied the repair write of the result;
 *   repair_fail   the repair write failed;
 *   timeout       as quorum_write_timeout(): a PENDING or REPAIRING op
 *                 fails at now_ms >= the deadline, and is settled.
 */
int quorum_read_fail(struct quorum_read *q, uint16_t replica);
int quorum_read_repair_ack(struct quorum_read *q, uint16_t replica);
int quorum_read_repair_fail(struct quorum_read *q, uint16_t replica);
int quorum_read_timeout(struct quorum_read *q, int64_t now_ms);

/* Current state. */
enum quorum_state quorum_read_state(const struct quorum_read *q);

/* 1 when the read blocks on repair (2 * r > n), else 0. */
int quorum_read_blocking(const struct quorum_read *q);

/* Number of replicas that answered so far, late answers included. */
unsigned quorum_read_answers(const struct quorum_read *q);

/* Number of holders of the result (0 while PENDING). */
unsigned quorum_read_holders(const struct quorum_read *q);

/*
 * The newest record answered (the result once the op is not PENDING).
 * Returns 1 and fills rec, when not NULL, with it (rec->value points into
 * the op's buffer), and enc, when not NULL, with its encoding (the bytes
 * to send in a repair write), also a view of that buffer; both are
 * read-only and valid until quorum_read_deinit() once the op is not
 * PENDING, and only until the next quorum_read_answer() while it is.
 * Returns 0 when no answer held a record (the key is absent; rec and enc
 * are untouched). The client sees nil unless store_record_live(rec, now).
 */
int quorum_read_result(const struct quorum_read *q, struct store_record *rec,
                       struct rk_slice *enc);

/*
 * Stale replicas (see the top) in preference-list order: every one that
 * answered older than the newest, repaired or not. Writes at most cap
 * indexes to out and returns how many there are in all.
 */
size_t quorum_read_stale(const struct quorum_read *q, uint16_t *out,
                         size_t cap);

/*
 * Hand out the stale replicas that were not handed out before, once the
 * result is fixed (nothing while PENDING; late answers add more). Writes
 * at most cap indexes to out (the rest wait for the next call) and returns
 * how many; each counts in repairs_sent. The caller writes the result
 * (quorum_read_result()'s enc) to each and reports quorum_read_repair_ack()
 * or quorum_read_repair_fail(). In REPAIRING the op waits for those acks;
 * otherwise they are background repair.
 */
size_t quorum_read_take_repairs(struct quorum_read *q, uint16_t *out,
                                size_t cap);

/*
 * 1 when nothing more is expected: every replica answered or failed, every
 * stale one was handed out and every repair handed out was acked or
 * failed; or the deadline passed. A settled op is done.
 */
int quorum_read_settled(const struct quorum_read *q);

/*
 * The -NOQUORUM error of a failed read into buf: QUORUM_ERR_READ with the
 * answers when it failed collecting them, QUORUM_ERR_REPAIR with the
 * holders when it failed repairing. Returns as quorum_error_text().
 */
int quorum_read_error(const struct quorum_read *q, char *buf, size_t len);

/* ---- errors and counters ----------------------------------------------- */

/*
 * Write the Redis error text for a missed quorum into buf (len bytes,
 * NUL-terminated), for server/ to pass to reply_error():
 *   kind         text
 *   WRITE        "-NOQUORUM write acknowledged by 1 of 3 replicas,
 *                 2 required"
 *   WRITE_SLOPPY "-NOQUORUM write acknowledged or hinted for 1 of 3
 *                 replicas, 2 required"
 *   READ         "-NOQUORUM read answered by 1 of 3 replicas, 2 required"
 *   REPAIR       "-NOQUORUM read repair left the newest version on 1 of
 *                 3 replicas, 2 required"
 * (one line each; "replica" when n is 1). Returns RK_OK, or RK_ERR for an
 * unknown kind (buf gets "-NOQUORUM") or when len is too small (buf holds
 * as much as fits; nothing is written when len is 0).
 */
int quorum_error_text(char *buf, size_t len, enum quorum_err_kind kind,
                      unsigned got, unsigned n, unsigned needed);

/* dst += src, field by field. */
void quorum_stats_add(struct quorum_stats *dst,
                      const struct quorum_stats *src);

#endif /* QUORUM_H */
