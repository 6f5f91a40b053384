/*
 * cluster/gossip.h - membership gossip and local failure detection.
 *
 * Every node keeps a versioned member table. An entry is
 *
 *   id          unique node id (--node-id)
 *   addr        "host:cport", where the node's cluster port listens
 *   client_addr "host:port", where the node's client port listens (what
 *               CLUSTER SLOTS / SHARDS / NODES show clients)
 *   zone        failure zone ("" = the one shared zone)
 *   state       JOINING, UP, LEAVING or LEFT: ownership. It changes only
 *               through an explicit join or leave (gossip_set_state(),
 *               gossip_remove()), never through failure detection.
 *   generation  the owner's start time (wall-clock ms, given by server/),
 *               so the entries of a restarted node win over its old ones
 *   heartbeat   a counter the owner bumps every gossip round and on every
 *               change of its own state
 *
 * Merge rule: for each id the entry with the greater (generation,
 * heartbeat) wins; equal pairs (only gossip_remove() makes them) are
 * ordered by state (LEFT greatest), then addr, then client_addr, then
 * zone, byte-wise. The
 * rule is a max over a total order, so any two nodes that have seen the
 * same entries hold the same table, whatever the order of arrival. A node
 * is the only authority on its own entry: if it is handed a greater entry
 * for itself (a removal while it is alive, a stale generation after a
 * clock step back), it raises its own generation/heartbeat above it and
 * keeps its state ("refutation", as SWIM's incarnation numbers).
 *
 * Liveness (ALIVE, SUSPECT, DOWN) is a local opinion, never gossiped. It
 * comes from a phi-accrual detector (Hayashibara et al.; Cassandra's
 * exponential form) over heartbeat arrivals: an arrival is any message,
 * from anyone, that raises a member's heartbeat. With mean the average
 * of the last `window` inter-arrival times and t the time since the last
 * arrival (or the last reported request success, if later),
 *
 *   phi(t) = log10(e) * t / mean = -log10(P(no arrival for t))
 *
 * for exponentially distributed arrivals. phi >= phi_suspect is SUSPECT,
 * phi >= phi_threshold is DOWN. When one message raises a heartbeat by k,
 * the time since the last arrival is split into k samples, so mean
 * estimates the owner's heartbeat period (~interval_ms) however gossip
 * batches the news: with 1 s rounds a silent member is SUSPECT after ~9 s
 * and DOWN after ~18 s plus the gossip lag at the defaults (4 and 8).
 * Samples are clamped to max_interval_ms so a paused owner does not
 * inflate the mean; the mean is floored at interval_ms / 2; a member first
 * seen (or seen with a new generation) starts with one sample of
 * 2 * interval_ms. Request outcomes feed the same view:
 * gossip_report_failure() makes a member SUSPECT at once and DOWN after
 * fail_limit failures in a row; that opinion lasts fail_hold_ms after the
 * last failure or until gossip_report_success().
 *
 * Dissemination: every interval_ms, gossip_tick() bumps the own heartbeat
 * and pushes the whole table to `fanout` random peers that are not DOWN,
 * to one random DOWN peer with probability ndown / (nalive + 1) (so healed
 * partitions and restarted nodes are found again), and to every seed
 * address no member in the table has (the own address never). A message
 * that shows its sender does not know this node's current generation is
 * answered at once with the table (so joiners and restarted nodes learn
 * the cluster in one round trip).
 * The peers are drawn from a splitmix64 PRNG seeded from the options and
 * the node id: same seed and inputs, same messages.
 *
 * Message (RESP2 array of bulk strings, sent through the transport):
 *
 *   RKGOSSIP <sender-id> <n>
 *            <id> <addr> <client-addr> <zone> <state> <generation>
 *            <heartbeat>                                    (n times)
 *            [<clock>]
 *
 * state is JOINING, UP, LEAVING or LEFT; generation, heartbeat and clock
 * are decimal, 0 .. 2^63-1; ids and both addresses are 1 .. GOSSIP_ID_MAX /
 * GOSSIP_ADDR_MAX bytes of printable ASCII without spaces, zones 0 ..
 * GOSSIP_ZONE_MAX such bytes; n <= GOSSIP_MAX_MEMBERS. Anything else makes
 * the whole message malformed (nothing of it is applied). clock is the
 * sender's hybrid logical clock (transport.clock), handed to
 * transport.observe on receipt, so nodes that only gossip keep their
 * versions ordered too (DESIGN.md, Versions); it is there when the sender
 * has a transport.clock. A message without it, from a sender that predates
 * it, is merged all the same. (client-addr joined the entry before any
 * release, under the same name; the clock is an optional last argument
 * that an older receiver rejects as malformed; any other new format will
 * use a new command name.)
 *
 * The module does no I/O and reads no clock: server/ passes a transport
 * (with its hybrid logical clock, if any) and the monotonic time in ms to
 * every call. It is not thread-safe: one
 * thread owns a struct gossip and makes every call; other threads use
 * snapshots (gossip_members()).
 */
#ifndef GOSSIP_H
#define GOSSIP_H

#include <stddef.h>
#include <stdint.h>

struct rk_slice;
struct gossip;

/* Limits on the wire and in the table. */
#define GOSSIP_ID_MAX 128           /* bytes of a node id */
#define GOSSIP_ADDR_MAX 256         /* bytes of "host:cport" / "host:port" */
#define GOSSIP_ZONE_MAX 64          /* bytes of a zone name */
#define GOSSIP_MAX_MEMBERS 4096     /* entries in a table or a message */
#define GOSSIP_MAX_SEEDS 256        /* addresses in the seed list */

/* Defaults used when the option is 0. */
#define GOSSIP_DEFAULT_INTERVAL_MS 1000
#define GOSSIP_DEFAULT_FANOUT 2
#define GOSSIP_DEFAULT_PHI_THRESHOLD 8.0
#define GOSSIP_DEFAULT_WINDOW 100
#define GOSSIP_DEFAULT_FAIL_LIMIT 3

/* Ownership state; the order is the merge tie-break order. */
enum gossip_state {
    GOSSIP_JOINING = 0,     /* announced, not yet owning slots */
    GOSSIP_UP,              /* owns its share of the ring */
    GOSSIP_LEAVING,         /* handing its slots over */
    GOSSIP_LEFT             /* gone for good; kept as a tombstone */
};

/* Local failure-detector opinion; never gossiped. */
enum gossip_liveness {
    GOSSIP_ALIVE = 0,
    GOSSIP_SUSPECT,         /* phi >= phi_suspect or a failed request */
    GOSSIP_DOWN             /* phi >= phi_threshold, fail_limit failures,
                             * or the member is LEFT */
};

/*
 * How gossip reaches peers. send() hands one complete message (data, len
 * bytes, borrowed for the call) to the peer listening on addr (a
 * NUL-terminated "host:cport"), fire-and-forget: it must not block and
 * must not call back into this struct gossip. Its return value is only
 * counted (non-zero = send_errors); gossip never retries a message.
 *
 * clock and observe are optional (NULL) and connect the caller's hybrid
 * logical clock: clock() returns the value a message carries (called once
 * for each message built, which may go to several peers; sent clamped to
 * INT64_MAX), observe() is given the clock of every well-formed message
 * received that has one. Neither may call back into this struct gossip.
 * Without clock, messages carry none; without observe, received clocks
 * are checked and ignored.
 */
struct gossip_transport {
    void *ctx;
    int (*send)(void *ctx, const char *addr, const char *data, size_t len);
    uint64_t (*clock)(void *ctx);
    void (*observe)(void *ctx, uint64_t clock);
};

struct gossip_options {
    const char *id;             /* own node id (required) */
    const char *addr;           /* own "host:cport" (required) */
    const char *client_addr;    /* own "host:port" (required) */
    const char *zone;           /* own zone; NULL means "" */
    enum gossip_state state;    /* own state at start, usually JOINING */
    int64_t generation;         /* >= 0; must grow across restarts: the
                                 * wall-clock start time in ms */
    const char *const *seeds;   /* nseeds addresses; may hold addr itself
                                 * (skipped) and duplicates */
    size_t nseeds;
    struct gossip_transport transport;  /* send is required */
    uint64_t seed;              /* PRNG seed, mixed with the id */
    int64_t interval_ms;        /* gossip round; 0: 1000 */
    unsigned fanout;            /* live peers per round; 0: 2 */
    double phi_threshold;       /* DOWN at this phi; 0: 8 */
    double phi_suspect;         /* SUSPECT at this phi; 0: threshold / 2 */
    unsigned window;            /* inter-arrival samples kept; 0: 100 */
    int64_t max_interval_ms;    /* samples clamped to this; 0: 4 rounds */
    unsigned fail_limit;        /* failures in a row for DOWN; 0: 3 */
    int64_t fail_hold_ms;       /* how long failures count; 0: 5 rounds */
};

/* One member as gossip_members() lists it. */
struct gossip_member {
    char id[GOSSIP_ID_MAX + 1];
    char addr[GOSSIP_ADDR_MAX + 1];
    char client_addr[GOSSIP_ADDR_MAX + 1];
    char zone[GOSSIP_ZONE_MAX + 1];
    enum gossip_state state;
    enum gossip_liveness liveness;  /* as of the last call that took a
                                     * clock; the own entry is ALIVE */
    int64_t generation;
    uint64_t heartbeat;
    unsigned self : 1;              /* this node's own entry */
};

/* Counters for INFO. */
struct gossip_stats {
    uint64_t rounds;        /* gossip rounds run */
    uint64_t sent;          /* messages handed to transport.send */
    uint64_t send_errors;   /* of those, send() returned non-zero */
    uint64_t received;      /* messages merged */
    uint64_t rejected;      /* messages refused with RK_EPROTO */
    uint64_t refuted;       /* greater entries about self overruled */
    uint64_t dropped;       /* new members ignored: table full */
};

/*
 * Create the gossip state of one node from `o` (only read: every string
 * and the seed list are copied). The table starts with the own entry
 * (heartbeat 0); nothing is sent before the first gossip_tick().
 *
 * Returns a struct the caller owns and frees with gossip_destroy(), or
 * NULL when memory runs out or an option is bad: a missing or invalid id,
 * addr, client_addr, zone or seed (see the limits above), too many seeds, no
 * transport.send, a negative generation or time, state > GOSSIP_LEFT,
 * phi_suspect > phi_threshold, or a negative phi.
 */
struct gossip *gossip_create(const struct gossip_options *o);

/* Free g and everything it owns. NULL is a no-op. */
void gossip_destroy(struct gossip *g);

/*
 * Drive g; call it about every 100 ms with the monotonic time. When a
 * round is due (the first call always runs one), bump the own heartbeat
 * and send the table as described at the top. Refreshes every member's
 * liveness. Returns RK_OK, or RK_ENOMEM if the message could not be built
 * (nothing was sent; the next call tries again).
 */
int gossip_tick(struct gossip *g, int64_t now_ms);

/*
 * Merge one received RKGOSSIP command: argc views argv[0 .. argc-1] as
 * resp_parse() leaves them in p->argv, argv[0] being the command name
 * (any case). Only read during the call. Records heartbeat arrivals for
 * the failure detector, hands the message's clock (if any) to
 * transport.observe and may answer the sender through the transport.
 *
 * Returns RK_OK; RK_EPROTO for a malformed message (then nothing changed
 * but the rejected counter); RK_ENOMEM if a new member could not be
 * stored (the entries before it were merged; merging again is harmless).
 */
int gossip_receive(struct gossip *g, size_t argc, const struct rk_slice *argv,
                   int64_t now_ms);

/*
 * Change the own state, forward only (JOINING -> UP -> LEAVING -> LEFT,
 * steps may be skipped): this is the explicit join or leave. Bumps the own
 * heartbeat so the change wins; it spreads with the next rounds. Returns
 * RK_OK (also when state is the current one) or RK_ERR for a backward
 * step or a bad state.
 */
int gossip_set_state(struct gossip *g, enum gossip_state state);

/*
 * Operator removal of another member that is gone for good (Cassandra's
 * removenode): its entry becomes LEFT with the heartbeat one higher, which
 * wins over every copy of its last entry. A member that is in fact alive
 * refutes this within a round or two. Returns RK_OK, or RK_ERR for an
 * unknown id or the own id.
 */
int gossip_remove(struct gossip *g, const char *id);

/*
 * A request to member `id` failed or timed out at now_ms: the member is
 * SUSPECT now and DOWN after fail_limit failures in a row, for
 * fail_hold_ms after the last one. Returns RK_OK, or RK_ERR if id is
 * unknown. Reports about the own id are ignored (RK_OK).
 */
int gossip_report_failure(struct gossip *g, const char *id, int64_t now_ms);

/*
 * A request to member `id` succeeded at now_ms: clears its failures and
 * counts as a sign of life for the detector. Returns RK_OK, or RK_ERR if
 * id is unknown. Reports about the own id are ignored (RK_OK).
 */
int gossip_report_success(struct gossip *g, const char *id, int64_t now_ms);

/*
 * Whether member `id` should be sent requests at now_ms (the coordinator
 * and hinted handoff ask this): 1 if it is ALIVE or SUSPECT, 0 if it is
 * DOWN, LEFT or unknown. The own id is always alive.
 */
int gossip_alive(struct gossip *g, const char *id, int64_t now_ms);

/* Liveness of member `id` at now_ms (an enum gossip_liveness), or RK_ERR
 * if id is unknown. */
int gossip_liveness(struct gossip *g, const char *id, int64_t now_ms);

/*
 * Current phi of member `id` at now_ms (>= 0; 0 for the own id and for
 * LEFT members), or -1.0 if id is unknown. For INFO and tests.
 */
double gossip_phi(const struct gossip *g, const char *id, int64_t now_ms);

/*
 * A snapshot of the member table, LEFT members included, sorted by id
 * (strcmp). *out receives a malloc()ed array of *n entries that the
 * caller owns and releases with free(); it never points into g. Returns
 * RK_OK or RK_ENOMEM (then *out is NULL and *n is 0).
 */
int gossip_members(const struct gossip *g, struct gossip_member **out,
                   size_t *n);

/*
 * Membership version: starts at 1 and grows whenever a member is added or
 * the id, addr, client_addr, zone or state of one changes, never on heartbeat,
 * generation or liveness changes. server/ rebuilds the ring when it
 * differs from the one the ring was built at.
 */
uint64_t gossip_version(const struct gossip *g);

/* Copy the counters into *st. */
void gossip_stats(const struct gossip *g, struct gossip_stats *st);

/* "joining", "up", "leaving", "left" / "alive", "suspect", "down";
 * "?" for a value out of range. Static strings. */
const char *gossip_state_name(enum gossip_state s);
const char *gossip_liveness_name(enum gossip_liveness l);

#endif /* GOSSIP_H */
