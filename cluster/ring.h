/*
 * cluster/ring.h - keys to slots, and slots to replica sets.
 *
 * A key's slot is CRC16(key) mod 16384, where only the part inside the first
 * non-empty {hash tag} is hashed, exactly as Redis Cluster does, so keys that
 * share a tag share a slot and a replica set.
 *
 * A slot's replicas come from a consistent-hash ring built from the
 * membership list alone: every member owns `vnodes` tokens on a 64-bit ring
 * (ring_token()), slot s looks at the ring from RING_PROBES fixed positions
 * (ring_slot_position()) and ranks the members in the order met walking
 * clockwise from those positions, nearest first. Its primary is the
 * highest ranked member that the load bounds (RING_LOAD_SLACK) allow; the
 * other replicas follow in rank order, taking members from zones not yet
 * used until every zone holds a replica. With RING_PROBES == 1 and no
 * bounds this is the plain clockwise walk of DESIGN.md; ring.c explains
 * why several probes and the bounds balance the ring better, and what the
 * bounds cost in slots moved when members join or leave.
 *
 * Every node that builds a ring from the same members (in any order),
 * vnodes and replicas gets the same preference lists.
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_SLOTS 16384

/* Tokens per member when ring_create() is given vnodes == 0. */
#define RING_DEFAULT_VNODES 256

/* Largest accepted vnodes, members (indexes are uint16_t) and tokens. */
#define RING_MAX_VNODES 65536u
#define RING_MAX_MEMBERS 65535u
#define RING_MAX_TOKENS (1u << 22)

/* Fixed ring positions per slot (see ring_slot_position()). */
#define RING_PROBES 8

/*
 * Load bound: every member is the primary of at least
 * floor(RING_SLOTS / n * (1 - 1 / RING_LOAD_SLACK)) and at most
 * ceil(RING_SLOTS / n * (1 + 1 / RING_LOAD_SLACK)) slots.
 */
#define RING_LOAD_SLACK 16

struct ring;

/* One member of the cluster as ring_create() takes it. */
struct ring_member {
    const char *id;     /* unique node id, non-empty, NUL-terminated */
    const char *zone;   /* failure zone; NULL means "" (one shared zone) */
};

/* CRC16-CCITT (XModem), the checksum Redis Cluster uses. */
uint16_t ring_crc16(const char *buf, size_t len);

/* Slot of a key, honouring {hash tags}. */
uint16_t ring_key_slot(const char *key, size_t len);

/*
 * Position on the ring of token `index` of member `id`: splitmix64's
 * finaliser applied to the 64-bit FNV-1a hash of the bytes "<id>#<index>"
 * (index in decimal, no leading zeros). Pure function of its arguments.
 */
uint64_t ring_token(const char *id, unsigned index);

/*
 * Fixed ring position number `probe` (0 <= probe < RING_PROBES) of slot
 * `slot`: output number slot * RING_PROBES + probe + 1 of a splitmix64
 * generator seeded with 0. Pure function of its arguments.
 */
uint64_t ring_slot_position(uint16_t slot, unsigned probe);

/*
 * Build the ring of `n` members and precompute the preference list of
 * every slot. `members` is only read: ids and zones are copied, so the
 * caller may free them afterwards; their order does not matter. `vnodes`
 * is the number of tokens per member (0 means RING_DEFAULT_VNODES, at most
 * RING_MAX_VNODES). `replicas` is the wanted replication factor N (>= 1);
 * the ring uses N_eff = min(replicas, n).
 *
 * Returns a ring the caller owns and releases with ring_destroy(), or NULL
 * when memory runs out or the input is bad: n == 0 or > RING_MAX_MEMBERS,
 * a NULL or empty id, two members with the same id, replicas == 0,
 * vnodes > RING_MAX_VNODES, n * vnodes > RING_MAX_TOKENS.
 */
struct ring *ring_create(const struct ring_member *members, size_t n,
                         unsigned vnodes, unsigned replicas);

/* Free a ring and everything it returned pointers to. NULL is a no-op. */
void ring_destroy(struct ring *ring);

/* N_eff = min(replicas, members): the length of every preference list. */
unsigned ring_replicas(const struct ring *ring);

/* Number of members. */
size_t ring_nmembers(const struct ring *ring);

/*
 * Id and zone of member `idx` (0 <= idx < ring_nmembers()). Members are
 * indexed in ascending strcmp() order of their ids, not in the order given
 * to ring_create(). The strings belong to the ring and stay valid until
 * ring_destroy(); a NULL zone was stored as "".
 */
const char *ring_member_id(const struct ring *ring, size_t idx);
const char *ring_member_zone(const struct ring *ring, size_t idx);

/* Index of the member with this id, or -1 if there is none. */
int ring_member_index(const struct ring *ring, const char *id);

/*
 * Preference list of `slot` (< RING_SLOTS): ring_replicas() distinct
 * member indexes, primary first. Read-only, owned by the ring, valid until
 * ring_destroy().
 */
const uint16_t *ring_preference(const struct ring *ring, uint16_t slot);

/*
 * Number of slots whose preference list holds member `member`: at the
 * head only if `primary_only` is non-zero, anywhere otherwise.
 */
size_t ring_slots_owned(const struct ring *ring, size_t member,
                        int primary_only);

/*
 * Replica count a consistency level asks for, computed against `n_eff`
 * replicas. `level` is "ONE" (1), "QUORUM" (n_eff / 2 + 1), "ALL" (n_eff),
 * in any letter case, or a decimal count from 1 to n_eff. Returns that
 * count, or RK_ERR (-1) for a NULL, empty or unknown level, a count of 0
 * or above n_eff, or n_eff == 0.
 */
int ring_quorum(unsigned n_eff, const char *level);

#endif /* RING_H */
