/*
 * server/info.h - the text of INFO, the statistics behind it, and the
 * live-key count that INFO keyspace and DBSIZE share.
 *
 * Statistics live in the workers (struct worker_stats, per-command and
 * per-error counters) and in struct srv; INFO sums them with relaxed loads
 * and CONFIG RESETSTAT zeroes them.
 */
#ifndef INFO_H
#define INFO_H

#include <stdint.h>

#include "rk.h"

struct srv;
struct store;
struct worker;
struct resp_buf;

/*
 * Append the INFO text for the sections named by argv[0..argc) to out, as
 * Redis 7.0 does: no names = "default"; "all" and "everything" = every
 * section; names are matched ignoring case, unknown ones are ignored (so
 * INFO with only unknown names gives an empty text). Sections come in
 * Redis's fixed order, each "# Title\r\n" plus "field:value\r\n" lines,
 * separated by "\r\n". w is the worker running INFO (it names the event
 * backend). Returns RK_OK, or RK_ENOMEM with out's contents undefined.
 */
int srv_info_generate(struct srv *s, struct worker *w, int argc,
                      const struct rk_slice *argv, struct resp_buf *out);

/*
 * INFO keyspace and DBSIZE count exactly while at most this many records
 * (live or not) exist, and report RocksDB's estimate beyond: a full count
 * takes about 4 us per record and blocks the worker that runs it.
 */
#define SRV_EXACT_KEYS_LIMIT 100000

/* Live records counted by srv_info_count_keys(). */
struct srv_key_count {
    uint64_t keys;        /* live records */
    uint64_t expires;     /* live records with a deadline */
    uint64_t ttl_ms_sum;  /* sum of their remaining time to live */
};

/*
 * Count the live records (not tombstones, not expired at now_ms) of the
 * committed store by iterating it: O(number of records). When limit is not
 * 0, stop after visiting limit records (live or not). Returns 1 when every
 * record was visited (kc is exact), 0 when the limit stopped it (kc covers
 * a prefix), RK_ENOMEM when no iterator could be made.
 */
int srv_info_count_keys(struct store *st, int64_t now_ms, uint64_t limit,
                        struct srv_key_count *kc);

/*
 * CONFIG RESETSTAT: zero what Redis's resetServerStats() and its command
 * and error tables zero: every worker's counters, per-command and
 * per-error statistics, total connections and rejected connections; set
 * stat_reset_ms. connected_clients and the slowlog stay. Thread-safe.
 */
void srv_info_reset_stats(struct srv *s);

#endif /* INFO_H */
