/*
 * server/link.h - a worker's request links to its peers' cluster ports.
 *
 * Each worker keeps one link per peer address, used only on its own loop,
 * so the coordinator of a client's command never crosses threads. A link
 * connects on its first request (non-blocking), sends
 * "RKAUTH <secret> <node-id> data" and waits for +OK: the peer's main
 * thread then hands the socket to one of its workers, which serves the
 * internal commands (server/internal.c). Requests are pipelined: the
 * replies arrive in request order and the i-th reply goes to the i-th
 * callback.
 *
 * Every request ends in exactly one callback, later, never inside
 * link_send(): with the reply, or with NULL when the link failed (connect
 * refused, peer closed, protocol error, or no reply within the request
 * timeout, which is how a paused peer is noticed). A failed link fails
 * every request it holds and refuses new ones (link_send() returns RK_ERR)
 * until its backoff (100 ms doubling to 2 s) has passed.
 */
#ifndef SRV_LINK_H
#define SRV_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "rk.h"

struct worker;
struct resp_reply;
struct link;

/*
 * The outcome of one request: reply is the peer's reply (owned by the
 * link, valid during the call only), or NULL when the link failed.
 */
typedef void link_done_fn(void *arg, const struct resp_reply *reply);

/*
 * The link of w to the cluster port at addr ("host:cport"), created on
 * first use. NULL when memory runs out or the worker holds too many.
 */
struct link *link_get(struct worker *w, const char *addr);

/*
 * The separate link of w to addr for forwarded client commands (RKCMD,
 * coord.h). Their replies wait for the peer's own quorums, so they must
 * not hold up the replies to RKGET/RKPUT behind them: two nodes
 * forwarding to each other over one link each would wait for each other.
 */
struct link *link_get_forward(struct worker *w, const char *addr);

/*
 * Send the command argv[0..argc) (bulk strings) on l; done(arg, reply)
 * runs once when its reply arrives or the link fails. Returns RK_OK, or
 * RK_ERR when the link is backing off after a failure or memory ran out
 * (done will not run then).
 */
int link_send(struct link *l, int argc, const struct rk_slice *argv,
              link_done_fn *done, void *arg);

/* 1 when the link is connected and authenticated, or may try now. */
int link_usable(const struct link *l);

/* Close every link of w, failing their requests (worker shutdown). */
void link_close_all(struct worker *w);

#endif /* SRV_LINK_H */
