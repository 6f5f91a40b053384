/*
 * server/peer.h - the cluster port: peer links on the main loop and the
 * transport that carries gossip over them.
 *
 * Incoming peers connect to cfg.bind:cluster_port and speak RESP2. The
 * first command must be RKAUTH <secret> <node-id> [data] (compared in
 * constant time with --cluster-secret; an empty secret accepts any; +OK).
 * A gossip link (no "data") then sends RKGOSSIP (merged into s->gossip,
 * its clock observed; no reply) and PING (+PONG) to the main thread. A
 * data link (a worker's request link, link.h) is handed, right after the
 * +OK, to a worker that serves its internal commands (internal.h). A wrong secret gets "-ERR cluster secret mismatch", any other
 * command "-ERR unknown internal command"; both close the link, as
 * does no RKAUTH within 10 s.
 *
 * Outgoing links are made on demand by srv_peers_send(), one per address:
 * a non-blocking connect, RKAUTH first, then the queued messages. A
 * failed link drops its queue and is retried after 100 ms, doubling up to
 * 5 s. The queue is bounded (oldest dropped first). Everything here runs
 * on the main thread; workers read the member snapshot through
 * srv_peers_view().
 */
#ifndef SRV_PEER_H
#define SRV_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "gossip.h"

struct srv;
struct srv_peers;
struct gossip_member;
struct ring;

/*
 * Create the peer state of s. s->main_loop and s->peer_listen_fd must be
 * set; s->gossip may still be NULL (set it before srv_peers_start()).
 * Returns NULL when memory runs out. Free with srv_peers_destroy().
 */
struct srv_peers *srv_peers_create(struct srv *s);

/*
 * Start accepting peers and the 100 ms gossip tick on s->main_loop. The
 * first tick runs at once, so the snapshot exists before any client asks.
 */
void srv_peers_start(struct srv_peers *ps);

/* Stop the watchers and close every link (not the listening socket). */
void srv_peers_stop(struct srv_peers *ps);

/* Free ps (stopping it first). NULL is a no-op. */
void srv_peers_destroy(struct srv_peers *ps);

/*
 * The gossip transport's send(): queue a copy of data (len bytes) for the
 * peer listening on addr ("host:cport"), connecting if needed. Never
 * blocks (a host name that is not a numeric address is resolved with
 * getaddrinfo()). ctx is the struct srv_peers. Returns 0, or -1 when the
 * message could not be queued (out of memory, bad address).
 */
int srv_peers_send(void *ctx, const char *addr, const char *data,
                   size_t len);

/*
 * The gossip transport's clock() and observe() (ctx is the struct
 * srv_peers): every RKGOSSIP carries the sender's hybrid logical clock,
 * store_clock_next() of s->clock, and the receiver's s->clock observes
 * it, as on the data links (internal.h), so two nodes that only gossip
 * keep their clocks together. Main thread (the clock is thread-safe).
 */
uint64_t srv_peers_clock(void *ctx);
void srv_peers_observe(void *ctx, uint64_t hlc);

/*
 * Start a non-blocking TCP connect (TCP_NODELAY) to the cluster port at
 * addr ("host:port", host may be [v6]; a name that is not a numeric
 * address is looked up with getaddrinfo(), which may block). The fd, or
 * -1 when it failed at once.
 */
int srv_peer_connect(const char *addr);

/*
 * Append "RKAUTH <secret> <node-id>", with "data" last for a worker's
 * request link (link.h), to b. RK_OK, or RK_ERR when memory ran out.
 */
struct resp_buf;
int srv_peer_auth(struct srv *s, struct resp_buf *b, int data);

/*
 * The ring the cluster is routed by. The main thread builds a new one at
 * start and whenever gossip_version() changes, from the members that own
 * slots: UP and LEAVING ones (a LEAVING node still holds its data while
 * it hands it over, so it keeps serving until it is LEFT; a JOINING one
 * holds nothing yet), with RING_DEFAULT_VNODES tokens each and
 * cfg.replicas replicas. It is immutable once published in s->topology
 * and reference-counted: the main thread swaps it under members_lock and
 * drops its reference; readers take one in srv_peers_view().
 */
struct srv_topology;

/* Drop one reference; the last one frees the ring. NULL is a no-op. */
void srv_topology_release(struct srv_topology *t);

/*
 * A reference to the current topology (thread-safe), or NULL before the
 * first one is built. s->topology_gen changes whenever it is replaced.
 */
struct srv_topology *srv_topology_acquire(struct srv *s);
/* One more reference to t. */
void srv_topology_ref(struct srv_topology *t);

/* Its ring (NULL when no member owns slots), the cluster address of ring
 * member idx, and the ring index of this node (-1: not a member). */
const struct ring *srv_topology_ring(const struct srv_topology *t);
const char *srv_topology_addr(const struct srv_topology *t, size_t idx);
int srv_topology_self(const struct srv_topology *t);
/* Ring member idx's liveness to this node's failure detector at the last
 * gossip tick (ALIVE until the first tick): a hint for routing, not a
 * decision other nodes share. */
enum gossip_liveness srv_topology_liveness(const struct srv_topology *t,
                                           size_t idx);

/* A copy of the member snapshot, for workers (CLUSTER, INFO). */
struct srv_cluster_view {
    struct gossip_member *members;  /* sorted by id; n entries */
    double *phi;                    /* phi of members[i] */
    size_t n;
    uint64_t sent;                  /* gossip messages sent */
    uint64_t received;              /* gossip messages merged */
    const struct ring *ring;        /* built from members; NULL if none
                                     * owns slots; valid until
                                     * srv_peers_view_free() */
    struct srv_topology *topology;  /* the reference that keeps ring */
};

/*
 * Copy the snapshot of s into *v (thread-safe), with a reference to the
 * ring built from the same members. Returns RK_OK, or RK_ENOMEM (then *v
 * is empty). Release with srv_peers_view_free().
 */
int srv_peers_view(struct srv *s, struct srv_cluster_view *v);
void srv_peers_view_free(struct srv_cluster_view *v);

#endif /* SRV_PEER_H */
