/*
 * server/scan.h - SCAN cursors and the walk behind SCAN.
 *
 * A cursor is an unsigned 64-bit number, written in decimal. Its low 14
 * bits are the slot to resume at; its upper 50 bits are 0 ("start of that
 * slot") or the generation of an entry in a bounded server-side table that
 * holds the key at which an earlier call stopped inside the slot. An entry
 * that was evicted (or a generation never issued) restarts its slot from
 * the beginning: keys may come back twice, but a key present for the whole
 * scan is never missed, because records are walked in (slot, key) order and
 * a call resumes at the first record it has not examined. Cursor 0 starts a
 * scan; a call that returns cursor 0 has finished it.
 */
#ifndef SRV_SCAN_H
#define SRV_SCAN_H

#include <stddef.h>
#include <stdint.h>

struct srv_scan;
struct store;

#define SRV_SCAN_ENTRIES    4096  /* resume keys kept; a power of two */
#define SRV_SCAN_SLOT_BITS  14    /* 16384 slots */
#define SRV_SCAN_SLOT_MASK  ((1u << SRV_SCAN_SLOT_BITS) - 1)

#define SRV_SCAN_TYPE_ANY   -1    /* no TYPE filter */
#define SRV_SCAN_TYPE_NONE  -2    /* a TYPE no record has */

/*
 * Create the table of resume keys (SRV_SCAN_ENTRIES entries). Returns NULL
 * when out of memory. One table per process, shared by every worker.
 */
struct srv_scan *srv_scan_create(void);

/* Free the table and every key it holds. NULL is a no-op. */
void srv_scan_destroy(struct srv_scan *t);

/*
 * Parse a cursor argument exactly as Redis's parseScanCursorOrReply()
 * (strtoul: an optional sign, decimal digits, no leading space, no
 * overflow; text after a NUL byte is ignored; "" is 0). Returns 1 and sets
 * *out, or 0 for an invalid cursor.
 */
int srv_scan_parse_cursor(const char *p, size_t len, uint64_t *out);

/*
 * The only slot a glob pattern can match, or -1 when it may match keys in
 * several slots. A pattern pins one slot when everything up to the first
 * '}' after its first '{' is literal and the {tag} is not empty: every key
 * it matches starts with that literal prefix and so hashes on that tag.
 */
int srv_scan_pattern_slot(const char *pat, size_t plen);

/* What one SCAN call returns. */
struct srv_scan_opts {
    const char *pat;      /* MATCH pattern, or NULL for every key */
    size_t plen;
    int type;             /* enum store_type, or SRV_SCAN_TYPE_* */
    long long count;      /* COUNT: records to examine, >= 1 */
    const uint8_t *slots; /* bit s set: slot s is wanted; NULL = every
                           * slot (a cluster node scans the slots it is
                           * the primary of, srv_scan_primary_mask()) */
};

/* Bytes of a slot mask (one bit per slot). */
#define SRV_SCAN_MASK_BYTES (16384 / 8)

/*
 * Fill mask with the slots whose preference list starts with member
 * `member` of ring. Returns the number of such slots.
 */
struct ring;
size_t srv_scan_primary_mask(const struct ring *ring, int member,
                             uint8_t *mask);

/*
 * Called for each key a SCAN call returns; key is valid only during the
 * call. Returns RK_OK, or an error code that stops the walk.
 */
typedef int srv_scan_emit_fn(void *arg, const char *key, size_t klen);

/*
 * One SCAN call over the committed records of s (commit pending writes
 * first): starting at cursor, examine about o->count records (possibly up
 * to twice as many to finish a slot and save a table entry), call emit for
 * each live one (not deleted, not expired at now_ms) that matches o, and
 * set *next to the cursor to continue with (0: the scan is complete).
 * t may be NULL: every call that stops inside a slot then restarts that
 * slot. Returns RK_OK, RK_ENOMEM, or an error returned by emit.
 */
int srv_scan_step(struct srv_scan *t, struct store *s, uint64_t cursor,
                  const struct srv_scan_opts *o, int64_t now_ms,
                  srv_scan_emit_fn *emit, void *arg, uint64_t *next);

/*
 * RANDOMKEY's walk over the committed records of s: the first live key
 * (at now_ms) at or after slot start, wrapping around once, among the
 * slots set in the mask `slots` (NULL: all). Appends it to out and sets
 * *slot. Returns 1 when found, 0 when there is none, RK_ENOMEM.
 */
struct srv_keylist;
int srv_scan_first_live(struct store *s, uint16_t start,
                        const uint8_t *slots, int64_t now_ms,
                        struct srv_keylist *out, uint16_t *slot);

/* Keys collected for a reply whose length is known only at the end. */
struct srv_keylist {
    char *buf;                 /* the keys, back to back */
    size_t len;
    size_t cap;
    size_t *off;               /* start of key i in buf; off[n] = len */
    size_t n;
    size_t ncap;
};

void srv_keylist_init(struct srv_keylist *l);
void srv_keylist_deinit(struct srv_keylist *l);
/* srv_scan_emit_fn: append one key (arg is the list). */
int srv_keylist_add(void *arg, const char *key, size_t klen);
/* Append the keys as an array reply. */
struct resp_buf;
void srv_keylist_write(struct resp_buf *out, const struct srv_keylist *l);

#endif /* SRV_SCAN_H */
