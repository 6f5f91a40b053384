/*
 * server/internal.h - the internal commands a peer's data link sends
 * (link.h), served by a worker on the receiving node. Never reachable
 * from the client port: only a link that proved the cluster secret is
 * handed to a worker as an internal connection.
 *
 * Every request starts with the sender's hybrid logical clock (decimal),
 * which advances this node's clock, and every reply carries this node's
 * clock back, so a write that follows another through any node gets a
 * higher version (DESIGN.md, Versions):
 *
 *   RKGET <clock> <slot> <key>       *2 :<clock> <encoded record | nil>
 *       the local record, tombstones and expired records included
 *   RKPUT <clock> <slot> <key> <rec> :<clock>
 *       store the encoded record unless an equal or newer version is
 *       held (last write wins); answered after the group commit, so the
 *       ack means durable under this node's fsync policy
 *   RKFLUSH <clock>                  :<clock>   delete every record
 *   RKDBSIZE <clock>                 *2 :<clock> :<count>
 *   RKSCAN <clock> <cursor> <count> <type> <pattern or "">
 *                                    *3 :<clock> $<next> *<keys>
 *   RKRANDOMKEY <clock> <slot>       *3 :<clock> :<slot> $<key>
 *       the first live key at or after slot (wrapping), or :-1 and nil
 *       all three over the slots this node is the primary of
 *       (keyspace.h)
 *   RKCMD <clock> <read-level> <write-level> <command> [args...]
 *       run a client's read-modify-write command on this node, the
 *       primary of its key, with those levels (coord.h); the reply is
 *       the command's. Sent on separate links (link_get_forward()).
 *   PING                             +PONG
 *
 * Anything else, a malformed clock, slot or record gets an -ERR reply;
 * the link stays open.
 */
#ifndef SRV_INTERNAL_H
#define SRV_INTERNAL_H

#include "rk.h"

struct conn;

/* Run one internal command of the data link c; the reply goes to c->out. */
void internal_dispatch(struct conn *c, int argc, const struct rk_slice *argv);

#endif /* SRV_INTERNAL_H */
