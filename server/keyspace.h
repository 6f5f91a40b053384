/*
 * server/keyspace.h - keyspace-wide commands in a cluster: KEYS, SCAN,
 * DBSIZE, FLUSHDB/FLUSHALL and RANDOMKEY over every member.
 *
 * Each key lives on N replicas, so a member answers for the slots it is
 * the primary of (the first of the preference list), and the coordinator
 * puts the members' answers together: every key is counted or listed
 * once. These commands need every member: when one does not answer in
 * the request timeout the client gets a -NOQUORUM error naming how many
 * did (as Cassandra's TRUNCATE needs every node). A SCAN cursor keeps the
 * member being scanned in its low 12 bits and that member's own cursor
 * (scan.h) above them, so a scan walks the members in ring order.
 *
 * The member side (internal.c) calls the keyspace_local_*() functions.
 */
#ifndef SRV_KEYSPACE_H
#define SRV_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

struct cmd_ctx;
struct srv;
struct worker;

/* Cluster versions of the commands (the handlers call them when
 * coord_active()); o for SCAN as parsed by cmd_scan(). */
void keyspace_keys(struct cmd_ctx *x, const char *pat, size_t plen);
void keyspace_scan(struct cmd_ctx *x, uint64_t cursor,
                   const struct srv_scan_opts *o);
void keyspace_dbsize(struct cmd_ctx *x);
void keyspace_flush(struct cmd_ctx *x);
/* RANDOMKEY from the random slot start: each member offers its first
 * live key at or after start in its primary slots, and the nearest after
 * start wins, as on one node. Members that do not answer are left out;
 * with no key from the others it is -NOQUORUM, not nil. */
void keyspace_randomkey(struct cmd_ctx *x, uint16_t start);

/*
 * This node's part: the live keys of the slots it is the primary of.
 * keyspace_local_count() counts them; keyspace_local_scan() runs one scan
 * step restricted to them (o->slots is set here). RK_OK or an error code.
 */
int keyspace_local_count(struct srv *s, struct worker *w, uint64_t *n);
int keyspace_local_scan(struct srv *s, struct worker *w, uint64_t cursor,
                        struct srv_scan_opts *o, struct srv_keylist *out,
                        uint64_t *next);
/* RANDOMKEY's part: srv_scan_first_live() over this node's primary
 * slots (1 found, 0 none, RK_ENOMEM). */
int keyspace_local_random(struct srv *s, struct worker *w, uint16_t start,
                          struct srv_keylist *out, uint16_t *slot);

#endif /* SRV_KEYSPACE_H */
