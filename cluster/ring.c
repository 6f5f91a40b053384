/*
 * cluster/ring.c - key to slot mapping (CRC16 with Redis hash tags) and the
 * consistent-hash ring that maps each slot to its preference list.
 *
 * Ring construction, all of it a pure function of the membership list:
 *
 * 1. Members are sorted by id (strcmp), duplicates refused; a member's
 *    index is its rank in that order. Zones are numbered the same way.
 * 2. Member m owns tokens ring_token(id, 0 .. V-1): splitmix64's finaliser
 *    over the 64-bit FNV-1a of "id#index". FNV-1a alone avalanches poorly
 *    (the last byte reaches the other bits through a single multiply);
 *    the finaliser makes every input bit flip each output bit with
 *    probability about 1/2. Tokens are sorted by (position, member index),
 *    so a collision between two members is kept and broken by id order.
 * 3. Rank. Slot s has RING_PROBES fixed positions ring_slot_position(s, k).
 *    From each we walk clockwise over the tokens; the walks are merged by
 *    distance, so the slot ranks the members by their nearest token after
 *    any of its positions.
 * 4. Primary, under load bounds. With S = 16384 slots and n members,
 *    cap = ceil(S / n * (1 + 1/16)) and floor = floor(S / n * (1 - 1/16))
 *    (RING_LOAD_SLACK = 16). Slots are placed one at a time in a fixed
 *    scrambled order (slot_at_turn()); each takes as primary the highest
 *    ranked member with fewer than cap primaries so far, except that once
 *    the slots left only just cover what the members below the floor still
 *    lack, each slot left takes the highest ranked member below the floor.
 *    So every member ends with floor .. cap primaries.
 * 5. Replicas: the other members in rank order, first one member of each
 *    zone not used yet (the primary's zone is used) until every zone (or N
 *    zones) holds a replica, then the highest ranked members not taken.
 *    Zones never change the primary.
 *
 * Why several positions per slot (multi-probe consistent hashing, Appleton
 * and O'Reilly 2015). With one position per slot a member owns the arcs
 * in front of its V tokens; those arcs are gaps between n * V random
 * points, so a member's share spreads by 1/sqrt(V) = 6.25% for V = 256.
 * Taking the nearest token over K hashed probes caps the weight of a long
 * arc (a member wins a probe only if it lands just before one of its
 * tokens), so shares stop depending on arc lengths. K = 8 comes close to
 * the spread left by ranking each slot on its own at about 5 ms per 50 x
 * 256 tokens; K = 32 gains under 0.02 of max/min at 4 times the cost. The
 * price: a member's slots are scattered, not runs of neighbours, so a
 * listing by slot range (CLUSTER SLOTS) has up to one entry per slot.
 *
 * Why load bounds (consistent hashing with bounded loads, Mirrokni, Thorup
 * and Zadimoghaddam 2018). If each slot simply took its first ranked
 * member, counts would spread like a binomial, sqrt((n - 1) / S): 5.5%
 * for 50 members, so max/min of primaries averages 1.30 and reaches 1.46
 * over 300 random member lists. Placing slots in concert removes that, and
 * the bounds keep the concert small: most slots still get their first
 * ranked member; only those past a member's cap, or needed at the end to
 * lift a member to the floor, go further down their ranking. A cap alone
 * is not enough: it bounds the busiest member but not the idlest (with cap
 * = mean + 2% the worst max/min over 300 lists was still 1.26); the floor
 * makes max/min <= cap / floor a guarantee (1.137 for 50 members).
 *
 * Measured (V = 256, N = 3, no zones, 300 random member lists per size),
 * max/min of slots per member, average / worst:
 *
 *    n   primary (no bounds)     primary      any position (unchanged)
 *    3   1.04 / 1.10             1.04 / 1.10  1.00 / 1.00
 *    5   1.06 / 1.12             1.06 / 1.12  1.03 / 1.07
 *   10   1.10 / 1.18             1.09 / 1.13  1.05 / 1.10
 *   50   1.30 / 1.46             1.14 / 1.14  1.16 / 1.22
 *
 * The cost is movement. Adding a member to n moves 1.00 / 1.08 (average /
 * worst) times 1/(n+1) of the primaries for n <= 10, where the bounds
 * rarely bite, and 1.09 / 1.25 for n = 50 (1.00 / 1.23 without bounds:
 * the worst case is mostly the new member's own luck); the newcomer gets
 * at least 15/16 of its share (the floor). Removing a member moves its own
 * primaries plus 0 to 3% more for n <= 10 and 9% / 21% more for n = 50.
 * With N = 3 at n = 50, a list gains a member that stays (one that must
 * fetch data) in 0.04 / 0.11 times 1/(n+1) of the slots on an add. Other
 * slacks at n = 50: 1/10 holds max/min at 1.23 and moves 1.03 / 1.16;
 * 1/20 gives 1.11 and 1.13 / 1.28; none (exact balance) 1.00 and 1.32 /
 * 1.43. 1/16 keeps well clear of 1.25 at a modest price.
 *
 * Replicas are not load-bounded. Each member holds about N times as many
 * slots as it is primary of, so the spread over any position is already
 * 1.16 on average and 1.22 at worst for 50 members. Capping it too (tried:
 * mean + 2%) brought that to 1.11 and 1.20 but made four times as many
 * lists gain a member that stays on an add, which means moving data, and
 * the zone rule overrides any bound anyway (a lone member of a zone is in
 * every list).
 *
 * ring_create() takes about 6 ms for 50 x 256 tokens, within 10% of the
 * time without the bounds. No global state: the CRC table is constant and
 * ring_create() keeps its scratch space in the call.
 */
#include "ring.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"

/* ---- key to slot ------------------------------------------------------ */

/* CRC16-CCITT, polynomial 0x1021 (XModem), one entry per high byte. */
static const uint16_t crc16_table[256] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
    0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
    0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
    0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
    0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
    0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
    0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
    0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
    0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
    0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
    0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
    0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
    0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
    0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
    0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
    0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
    0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
    0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
    0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
    0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
    0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
    0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
    0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
    0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
    0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
    0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
    0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
    0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
    0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
    0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

uint16_t
ring_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc = (uint16_t)((crc << 8) ^
                         crc16_table[((crc >> 8) ^ (uint8_t)buf[i]) & 0xff]);
    }
    return crc;
}

uint16_t
ring_key_slot(const char *key, size_t len)
{
    size_t open;

    for (open = 0; open < len; open++) {
        if (key[open] == '{') {
            break;
        }
    }
    if (open < len) {
        for (size_t close = open + 1; close < len; close++) {
            if (key[close] == '}') {
                if (close > open + 1) {
                    return ring_crc16(key + open + 1, close - open - 1) &
                           (RING_SLOTS - 1);
                }
                break;
            }
        }
    }
    return ring_crc16(key, len) & (RING_SLOTS - 1);
}

/* ---- hashes ----------------------------------------------------------- */

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull
#define SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull

/* splitmix64's output function (Stafford's mix 13): a 64-bit bijection. */
static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t
fnv1a64(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return h;
}

uint64_t
ring_token(const char *id, unsigned index)
{
    char digits[16];
    size_t nd = 0;
    uint64_t h;

    do {
        digits[sizeof(digits) - 1 - nd++] = (char)('0' + index % 10);
        index /= 10;
    } while (index != 0);
    h = fnv1a64(FNV64_OFFSET, id, strlen(id));
    h = fnv1a64(h, "#", 1);
    h = fnv1a64(h, digits + sizeof(digits) - nd, nd);
    return mix64(h);
}

uint64_t
ring_slot_position(uint16_t slot, unsigned probe)
{
    uint64_t n = (uint64_t)slot * RING_PROBES + probe + 1;

    return mix64(n * SPLITMIX_GAMMA);
}

/*
 * Slot that ring_create() places at turn `turn` (< RING_SLOTS): a fixed
 * bijection on 14 bits, odd multipliers and xorshifts, so the order
 * scatters the slots and owes nothing to their ring positions.
 */
static uint16_t
slot_at_turn(size_t turn)
{
    uint32_t x = (uint32_t)turn;

    x = (x * 0x2f6bu) & (RING_SLOTS - 1);
    x ^= x >> 7;
    x = (x * 0x1c55u) & (RING_SLOTS - 1);
    x ^= x >> 6;
    return (uint16_t)x;
}

/* ---- the ring --------------------------------------------------------- */

struct ring {
    size_t nmembers;
    unsigned replicas;      /* N_eff */
    char **ids;             /* [nmembers], sorted; point into strings */
    char **zones;           /* [nmembers]; point into strings */
    char *strings;          /* all ids and zones, NUL-terminated */
    uint16_t *prefs;        /* [RING_SLOTS * replicas] member indexes */
    uint32_t *primary;      /* [nmembers] slots owned as primary */
    uint32_t *any;          /* [nmembers] slots owned as any replica */
};

struct ring_token {
    uint64_t pos;
    uint16_t member;
};

/* Scratch space of one ring_create() call. */
struct ring_build {
    struct ring_token *tokens;  /* [ntokens], sorted */
    size_t ntokens;
    uint32_t *bucket;       /* [1 << bucket_bits] first token of each */
    unsigned bucket_bits;   /* top position bits that pick a bucket */
    uint16_t *zone_of;      /* [nmembers] zone number of each member */
    size_t nzones;
    uint32_t *seen;         /* [nmembers] stamp: met in this slot's walk */
    uint32_t *zone_seen;    /* [nzones] stamp: zone met in this walk */
    uint16_t *order;        /* [nmembers] members in the order met */
    unsigned char *taken;   /* [nmembers] picked for the list */
    unsigned char *zone_used;   /* [nzones] zone holds a pick */
    uint32_t *load;         /* [nmembers] primaries placed so far */
    uint32_t cap;           /* most primaries a member may have */
    uint32_t floor;         /* fewest primaries a member must have */
    size_t deficit;         /* sum of floor - load over members below */
    size_t left;            /* slots not placed yet */
};

static int
member_cmp(const void *a, const void *b)
{
    const struct ring_member *x = a;
    const struct ring_member *y = b;

    return strcmp(x->id, y->id);
}

static int
str_cmp(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;

    return strcmp(*x, *y);
}

static int
token_cmp(const void *a, const void *b)
{
    const struct ring_token *x = a;
    const struct ring_token *y = b;

    if (x->pos != y->pos) {
        return x->pos < y->pos ? -1 : 1;
    }
    return (int)x->member - (int)y->member;
}

/* Bucket of a ring position: its top bucket_bits bits. */
static size_t
bucket_of(const struct ring_build *b, uint64_t pos)
{
    return b->bucket_bits == 0 ? 0 : (size_t)(pos >> (64 - b->bucket_bits));
}

static const char *
zone_or_default(const char *zone)
{
    return zone != NULL ? zone : "";
}

/*
 * Copy the sorted members' ids and zones into one allocation. Returns
 * RK_OK or RK_ENOMEM.
 */
static int
copy_members(struct ring *r, const struct ring_member *sorted, size_t n)
{
    size_t total = 0;
    char *p;

    for (size_t i = 0; i < n; i++) {
        total += strlen(sorted[i].id) + 1;
        total += strlen(zone_or_default(sorted[i].zone)) + 1;
    }
    r->ids = calloc(n, sizeof(*r->ids));
    r->zones = calloc(n, sizeof(*r->zones));
    r->strings = malloc(total);
    if (r->ids == NULL || r->zones == NULL || r->strings == NULL) {
        return RK_ENOMEM;
    }
    p = r->strings;
    for (size_t i = 0; i < n; i++) {
        const char *zone = zone_or_default(sorted[i].zone);
        size_t len = strlen(sorted[i].id) + 1;

        memcpy(p, sorted[i].id, len);
        r->ids[i] = p;
        p += len;
        len = strlen(zone) + 1;
        memcpy(p, zone, len);
        r->zones[i] = p;
        p += len;
    }
    return RK_OK;
}

/*
 * Number the distinct zones in strcmp() order and record each member's.
 * Returns RK_OK or RK_ENOMEM.
 */
static int
number_zones(const struct ring *r, struct ring_build *b)
{
    size_t n = r->nmembers;
    char **names = malloc(n * sizeof(*names));
    size_t nz = 0;

    if (names == NULL) {
        return RK_ENOMEM;
    }
    memcpy(names, r->zones, n * sizeof(*names));
    qsort(names, n, sizeof(*names), str_cmp);
    for (size_t i = 0; i < n; i++) {
        if (nz == 0 || strcmp(names[nz - 1], names[i]) != 0) {
            names[nz++] = names[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        char **hit = bsearch(&r->zones[i], names, nz, sizeof(*names),
                             str_cmp);

        b->zone_of[i] = (uint16_t)(hit - names);
    }
    b->nzones = nz;
    free(names);
    return RK_OK;
}

/*
 * Lay out every member's tokens, sort them and index them by the top bits
 * of their position (about one token per bucket). Returns RK_OK or
 * RK_ENOMEM.
 */
static int
place_tokens(const struct ring *r, struct ring_build *b, unsigned vnodes)
{
    size_t nbuckets;
    size_t t = 0;

    b->ntokens = r->nmembers * vnodes;
    b->bucket_bits = 0;
    while (b->bucket_bits < 32 &&
           ((size_t)1 << b->bucket_bits) < b->ntokens) {
        b->bucket_bits++;
    }
    nbuckets = (size_t)1 << b->bucket_bits;
    b->tokens = malloc(b->ntokens * sizeof(*b->tokens));
    b->bucket = malloc(nbuckets * sizeof(*b->bucket));
    if (b->tokens == NULL || b->bucket == NULL) {
        return RK_ENOMEM;
    }
    for (size_t m = 0; m < r->nmembers; m++) {
        for (unsigned i = 0; i < vnodes; i++) {
            struct ring_token *tok = &b->tokens[m * vnodes + i];

            tok->pos = ring_token(r->ids[m], i);
            tok->member = (uint16_t)m;
        }
    }
    qsort(b->tokens, b->ntokens, sizeof(*b->tokens), token_cmp);
    for (size_t i = 0; i < nbuckets; i++) {
        while (t < b->ntokens && bucket_of(b, b->tokens[t].pos) < i) {
            t++;
        }
        b->bucket[i] = (uint32_t)t;
    }
    return RK_OK;
}

/* Index of the first token at or clockwise after pos. */
static size_t
first_token_from(const struct ring_build *b, uint64_t pos)
{
    size_t t = b->bucket[bucket_of(b, pos)];

    while (t < b->ntokens && b->tokens[t].pos < pos) {
        t++;
    }
    return t == b->ntokens ? 0 : t;
}

/*
 * Walk clockwise from the slot's probes, nearest token first, recording in
 * b->order the members in the order met, until `want` members and
 * `want_zones` zones have been met and so has a member with fewer than
 * `limit` primaries; *primary is set to that member's place in b->order.
 * Returns how many members were met.
 */
static size_t
walk_slot(struct ring_build *b, uint16_t slot, size_t want,
          size_t want_zones, uint32_t limit, size_t *primary)
{
    uint64_t start[RING_PROBES];
    size_t cur[RING_PROBES];
    uint32_t stamp = (uint32_t)slot + 1;
    size_t met = 0;
    size_t zones_met = 0;
    int found = 0;

    for (unsigned k = 0; k < RING_PROBES; k++) {
        start[k] = ring_slot_position(slot, k);
        cur[k] = first_token_from(b, start[k]);
    }
    while (met < want || zones_met < want_zones || !found) {
        unsigned best = 0;
        uint64_t best_dist = b->tokens[cur[0]].pos - start[0];
        uint16_t m;

        for (unsigned k = 1; k < RING_PROBES; k++) {
            /* Unsigned wrap-around gives the clockwise distance. */
            uint64_t d = b->tokens[cur[k]].pos - start[k];

            if (d < best_dist) {
                best = k;
                best_dist = d;
            }
        }
        m = b->tokens[cur[best]].member;
        cur[best] = cur[best] + 1 == b->ntokens ? 0 : cur[best] + 1;
        if (b->seen[m] == stamp) {
            continue;
        }
        b->seen[m] = stamp;
        if (!found && b->load[m] < limit) {
            found = 1;
            *primary = met;
        }
        b->order[met++] = m;
        if (b->zone_seen[b->zone_of[m]] != stamp) {
            b->zone_seen[b->zone_of[m]] = stamp;
            zones_met++;
        }
    }
    return met;
}

/*
 * Place one slot: pick its primary under the load bounds, then its
 * replicas in rank order under the zone rule.
 */
static void
build_slot(struct ring *r, struct ring_build *b, uint16_t slot)
{
    size_t n_eff = r->replicas;
    size_t want_zones = n_eff < b->nzones ? n_eff : b->nzones;
    /* Once the slots left only just cover the deficit, they fill it. */
    uint32_t limit = b->deficit >= b->left ? b->floor : b->cap;
    size_t first = 0;
    size_t met = walk_slot(b, slot, n_eff, want_zones, limit, &first);
    uint16_t *out = &r->prefs[(size_t)slot * n_eff];
    uint16_t primary = b->order[first];
    size_t got = 0;
    size_t zones_used = 0;

    if (b->load[primary] < b->floor) {
        b->deficit--;
    }
    b->load[primary]++;
    b->left--;
    memset(b->taken, 0, met);
    memset(b->zone_used, 0, b->nzones);
    b->taken[first] = 1;
    b->zone_used[b->zone_of[primary]] = 1;
    zones_used++;
    out[got++] = primary;
    /* Then one member per zone not used, in rank order, until N or all. */
    for (size_t i = 0; i < met && got < n_eff && zones_used < b->nzones;
         i++) {
        uint16_t z = b->zone_of[b->order[i]];

        if (!b->zone_used[z]) {
            b->zone_used[z] = 1;
            zones_used++;
            b->taken[i] = 1;
            out[got++] = b->order[i];
        }
    }
    /* Then, with every zone used, the highest ranked members left. */
    for (size_t i = 0; i < met && got < n_eff; i++) {
        if (!b->taken[i]) {
            out[got++] = b->order[i];
        }
    }
    for (size_t i = 0; i < n_eff; i++) {
        r->any[out[i]]++;
    }
    r->primary[primary]++;
}

/* Set the load bounds. Returns RK_OK or RK_ENOMEM. */
static int
set_bounds(const struct ring *r, struct ring_build *b)
{
    uint64_t n = r->nmembers;
    uint64_t den = RING_LOAD_SLACK * n;

    b->load = calloc(r->nmembers, sizeof(*b->load));
    if (b->load == NULL) {
        return RK_ENOMEM;
    }
    /* ceil and floor of RING_SLOTS / n * (1 +- 1 / RING_LOAD_SLACK) */
    b->cap = (uint32_t)(((uint64_t)RING_SLOTS * (RING_LOAD_SLACK + 1) +
                         den - 1) / den);
    b->floor = (uint32_t)((uint64_t)RING_SLOTS * (RING_LOAD_SLACK - 1) /
                          den);
    b->deficit = (size_t)b->floor * r->nmembers;
    b->left = RING_SLOTS;
    return RK_OK;
}

static void
build_free(struct ring_build *b)
{
    free(b->tokens);
    free(b->bucket);
    free(b->zone_of);
    free(b->seen);
    free(b->zone_seen);
    free(b->order);
    free(b->taken);
    free(b->zone_used);
    free(b->load);
}

struct ring *
ring_create(const struct ring_member *members, size_t n, unsigned vnodes,
            unsigned replicas)
{
    struct ring_member *sorted = NULL;
    struct ring_build b;
    struct ring *r = NULL;
    int ok = 0;

    memset(&b, 0, sizeof(b));
    if (vnodes == 0) {
        vnodes = RING_DEFAULT_VNODES;
    }
    if (members == NULL || n == 0 || n > RING_MAX_MEMBERS ||
        replicas == 0 || vnodes > RING_MAX_VNODES ||
        n * vnodes > RING_MAX_TOKENS) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (members[i].id == NULL || members[i].id[0] == '\0') {
            goto out;
        }
    }
    sorted = malloc(n * sizeof(*sorted));
    if (sorted == NULL) {
        goto out;
    }
    memcpy(sorted, members, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), member_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1].id, sorted[i].id) == 0) {
            goto out;
        }
    }

    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        goto out;
    }
    r->nmembers = n;
    r->replicas = replicas < n ? replicas : (unsigned)n;
    r->prefs = malloc((size_t)RING_SLOTS * r->replicas * sizeof(*r->prefs));
    r->primary = calloc(n, sizeof(*r->primary));
    r->any = calloc(n, sizeof(*r->any));
    b.zone_of = malloc(n * sizeof(*b.zone_of));
    b.seen = calloc(n, sizeof(*b.seen));
    b.zone_seen = calloc(n, sizeof(*b.zone_seen));
    b.order = malloc(n * sizeof(*b.order));
    b.taken = malloc(n);
    b.zone_used = malloc(n);
    if (r->prefs == NULL || r->primary == NULL || r->any == NULL ||
        b.zone_of == NULL || b.seen == NULL || b.zone_seen == NULL ||
        b.order == NULL || b.taken == NULL || b.zone_used == NULL) {
        goto out;
    }
    if (copy_members(r, sorted, n) != RK_OK ||
        number_zones(r, &b) != RK_OK ||
        place_tokens(r, &b, vnodes) != RK_OK ||
        set_bounds(r, &b) != RK_OK) {
        goto out;
    }
    for (size_t i = 0; i < RING_SLOTS; i++) {
        build_slot(r, &b, slot_at_turn(i));
    }
    ok = 1;

out:
    build_free(&b);
    free(sorted);
    if (!ok) {
        ring_destroy(r);
        return NULL;
    }
    return r;
}

void
ring_destroy(struct ring *ring)
{
    if (ring == NULL) {
        return;
    }
    free(ring->ids);
    free(ring->zones);
    free(ring->strings);
    free(ring->prefs);
    free(ring->primary);
    free(ring->any);
    free(ring);
}

unsigned
ring_replicas(const struct ring *ring)
{
    return ring->replicas;
}

size_t
ring_nmembers(const struct ring *ring)
{
    return ring->nmembers;
}

const char *
ring_member_id(const struct ring *ring, size_t idx)
{
    assert(idx < ring->nmembers);
    return ring->ids[idx];
}

const char *
ring_member_zone(const struct ring *ring, size_t idx)
{
    assert(idx < ring->nmembers);
    return ring->zones[idx];
}

int
ring_member_index(const struct ring *ring, const char *id)
{
    char **hit;

    if (id == NULL) {
        return -1;
    }
    hit = bsearch(&id, ring->ids, ring->nmembers, sizeof(*ring->ids),
                  str_cmp);
    return hit == NULL ? -1 : (int)(hit - ring->ids);
}

const uint16_t *
ring_preference(const struct ring *ring, uint16_t slot)
{
    assert(slot < RING_SLOTS);
    return &ring->prefs[(size_t)slot * ring->replicas];
}

size_t
ring_slots_owned(const struct ring *ring, size_t member, int primary_only)
{
    assert(member < ring->nmembers);
    return primary_only ? ring->primary[member] : ring->any[member];
}

/* ---- consistency levels ----------------------------------------------- */

/* ASCII case-insensitive equality, independent of the locale. */
static int
word_eq(const char *s, const char *upper)
{
    for (; *s != '\0' && *upper != '\0'; s++, upper++) {
        char c = *s;

        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        if (c != *upper) {
            return 0;
        }
    }
    return *s == '\0' && *upper == '\0';
}

int
ring_quorum(unsigned n_eff, const char *level)
{
    unsigned long long count = 0;

    if (level == NULL || level[0] == '\0' || n_eff == 0 ||
        n_eff > INT_MAX) {
        return RK_ERR;
    }
    if (word_eq(level, "ONE")) {
        return 1;
    }
    if (word_eq(level, "QUORUM")) {
        return (int)(n_eff / 2 + 1);
    }
    if (word_eq(level, "ALL")) {
        return (int)n_eff;
    }
    for (const char *p = level; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return RK_ERR;
        }
        count = count * 10 + (unsigned long long)(*p - '0');
        if (count > n_eff) {
            return RK_ERR;
        }
    }
    return count == 0 ? RK_ERR : (int)count;
}
