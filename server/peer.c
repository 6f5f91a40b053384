/*
 * server/peer.c - the cluster port: incoming peer links (RKAUTH, RKGOSSIP,
 * PING), outgoing links that carry gossip, the gossip tick and the member
 * snapshot workers read. See peer.h for the protocol.
 */
#include "peer.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "gossip.h"
#include "resp.h"
#include "ring.h"
#include "rk.h"
#include "srv.h"
#include "worker.h"

#define PEER_TICK_S 0.1             /* gossip_tick() period */
#define PEER_READ_CHUNK 16384       /* bytes asked per read() */
#define PEER_MAX_INCOMING 1024      /* incoming links; more are refused */
#define PEER_QUEUE_MAX 64           /* queued messages per outgoing link */
#define PEER_WBUF_FILL 65536        /* move queued messages below this */
#define PEER_MAX_OUTGOING 4096      /* distinct addresses sent to */
#define PEER_BACKOFF_MIN_MS 100
#define PEER_BACKOFF_MAX_MS 5000
#define PEER_AUTH_TIMEOUT_S 10.0    /* to send RKAUTH after connecting */

static const char err_secret[] = "-ERR cluster secret mismatch\r\n";
static const char err_unknown[] = "-ERR unknown internal command\r\n";

/* One accepted peer connection. */
struct peer_in {
    struct srv_peers *ps;
    struct peer_in *prev;
    struct peer_in *next;
    int fd;
    ev_io io;                   /* EV_READ */
    ev_timer auth_timer;        /* closes the link if RKAUTH is late */
    struct resp_parser parser;
    unsigned authed : 1;        /* RKAUTH succeeded */
};

/* One queued outgoing message. */
struct peer_msg {
    size_t len;
    char data[];
};

/* The link to one peer address. */
struct peer_out {
    struct srv_peers *ps;
    struct peer_out *next;
    char addr[GOSSIP_ADDR_MAX + 1];
    int fd;                     /* -1 when not connected */
    unsigned connecting : 1;    /* connect() still in progress */
    unsigned writing : 1;       /* io watches EV_WRITE too */
    unsigned answered : 1;      /* the reply to RKAUTH arrived */
    unsigned warned : 1;        /* the refusal was logged once */
    ev_io io;
    ev_timer retry;             /* backoff before the next connect */
    long backoff_ms;            /* the next backoff */
    struct peer_msg *queue[PEER_QUEUE_MAX];     /* ring */
    size_t qhead;
    size_t qlen;
    struct resp_buf wbuf;       /* bytes on their way out */
};

struct srv_peers {
    struct srv *s;
    ev_io accept_io;
    ev_timer accept_pause;      /* resumes accept_io after EMFILE */
    ev_timer tick;
    struct peer_in *in;         /* incoming links */
    size_t nin;
    struct peer_out *out;       /* outgoing links */
    size_t nout;
    unsigned started : 1;
};

static int64_t
now_ms(void)
{
    return (int64_t)(srv_monotonic_us() / 1000);
}

/* Constant time in the length of the configured secret. */
static int
secret_ok(const char *want, const struct rk_slice *got)
{
    size_t wlen = strlen(want);
    unsigned char d = got->len != wlen;

    if (wlen == 0) {
        return 1;
    }
    for (size_t i = 0; i < wlen; i++) {
        unsigned char g = i < got->len ? (unsigned char)got->ptr[i] : 0;
        d |= (unsigned char)want[i] ^ g;
    }
    return d == 0;
}

static int
arg_is(const struct rk_slice *a, const char *name)
{
    size_t n = strlen(name);

    return a->len == n && strncasecmp(a->ptr, name, n) == 0;
}

static void
in_close(struct peer_in *in)
{
    struct srv_peers *ps = in->ps;

    ev_io_stop(ps->s->main_loop, &in->io);
    ev_timer_stop(ps->s->main_loop, &in->auth_timer);
    if (in->fd >= 0) {
        close(in->fd);
    }
    resp_parser_deinit(&in->parser);
    if (in->prev != NULL) {
        in->prev->next = in->next;
    } else {
        ps->in = in->next;
    }
    if (in->next != NULL) {
        in->next->prev = in->prev;
    }
    ps->nin--;
    free(in);
}

/* Write a short reply; 0 when all of it went out. */
static int
in_reply(struct peer_in *in, const char *msg, size_t len)
{
    ssize_t n = write(in->fd, msg, len);

    return n == (ssize_t)len ? 0 : -1;
}

/*
 * Hand the socket of in to a worker, round robin, which serves the data
 * link's internal commands (internal.c); in is freed, the fd stays open.
 */
static void
in_handoff(struct peer_in *in)
{
    struct srv *s = in->ps->s;
    int fd = in->fd;

    in->fd = -1;
    in_close(in);
    worker_adopt_internal(s->workers[s->next_worker++ % (unsigned)s->nworkers],
                          fd);
}

/*
 * One command from an incoming peer; returns -1 when the link closes, 1
 * when it was handed to a worker (in is gone), else 0.
 */
static int
in_command(struct peer_in *in, size_t argc, const struct rk_slice *argv)
{
    struct srv *s = in->ps->s;
    int rc;

    if (arg_is(&argv[0], "rkauth")) {
        int ok;
        int data = argc == 4 && arg_is(&argv[3], "data");

        pthread_mutex_lock(&s->cfg.lock);
        ok = (argc == 3 || data) &&
             secret_ok(s->cfg.cluster_secret, &argv[1]);
        pthread_mutex_unlock(&s->cfg.lock);
        if (!ok) {
            in_reply(in, err_secret, sizeof(err_secret) - 1);
            return -1;
        }
        in->authed = 1;
        in->parser.unauth = 0;
        ev_timer_stop(s->main_loop, &in->auth_timer);
        if (in_reply(in, "+OK\r\n", 5) != 0) {
            return -1;
        }
        if (data) {
            /* A data link sends nothing more before this +OK arrives,
             * so the parser holds no bytes of it. */
            in_handoff(in);
            return 1;
        }
        return 0;
    }
    if (!arg_is(&argv[0], "rkgossip") && !arg_is(&argv[0], "ping")) {
        in_reply(in, err_unknown, sizeof(err_unknown) - 1);
        return -1;
    }
    if (!in->authed) {
        in_reply(in, err_secret, sizeof(err_secret) - 1);
        return -1;
    }
    if (arg_is(&argv[0], "ping")) {
        return in_reply(in, "+PONG\r\n", 7);
    }
    rc = gossip_receive(s->gossip, argc, argv, now_ms());
    if (rc == RK_EPROTO) {
        fprintf(stderr, "ringkv: malformed gossip from a peer\n");
    }
    return 0;
}

static void
in_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct peer_in *in = io->data;
    size_t avail;
    char *p;
    ssize_t n;
    int rc;

    (void)loop;
    (void)revents;
    p = resp_parser_space(&in->parser, PEER_READ_CHUNK, &avail);
    if (p == NULL) {
        goto out;
    }
    n = read(in->fd, p, avail);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                  errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        goto out;
    }
    resp_parser_commit(&in->parser, (size_t)n);
    for (;;) {
        rc = resp_parse(&in->parser, NULL, 0);
        if (rc == RESP_INCOMPLETE) {
            return;
        }
        if (rc != RESP_OK) {
            goto out;
        }
        rc = in_command(in, in->parser.argc, in->parser.argv);
        if (rc == 1) {
            return;
        }
        if (rc != 0) {
            goto out;
        }
    }
out:
    in_close(in);
}

static void
in_auth_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    in_close(t->data);
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct srv_peers *ps = t->data;

    (void)revents;
    ev_io_start(loop, &ps->accept_io);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct srv_peers *ps = io->data;
    struct peer_in *in;
    int fd;

    (void)revents;
    for (int i = 0; i < 16; i++) {
        fd = accept4(ps->s->peer_listen_fd, NULL, NULL,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* Out of descriptors: pause instead of spinning. */
                if (!ev_is_active(&ps->accept_pause)) {
                    fprintf(stderr, "ringkv: cluster port accept: %s; "
                            "pausing 100 ms\n", strerror(errno));
                }
                ev_io_stop(loop, io);
                ev_timer_stop(loop, &ps->accept_pause);
                ev_timer_start(loop, &ps->accept_pause);
            }
            return;
        }
        in = ps->nin < PEER_MAX_INCOMING ? calloc(1, sizeof(*in)) : NULL;
        if (in == NULL) {
            close(fd);
            continue;
        }
        in->ps = ps;
        in->fd = fd;
        resp_parser_init(&in->parser);
        in->parser.unauth = 1;
        in->next = ps->in;
        if (ps->in != NULL) {
            ps->in->prev = in;
        }
        ps->in = in;
        ps->nin++;
        ev_io_init(&in->io, in_read_cb, fd, EV_READ);
        in->io.data = in;
        ev_io_start(loop, &in->io);
        ev_timer_init(&in->auth_timer, in_auth_timeout_cb,
                      PEER_AUTH_TIMEOUT_S, 0.0);
        in->auth_timer.data = in;
        ev_timer_start(loop, &in->auth_timer);
    }
}

static void
out_watch(struct peer_out *o, int writing)
{
    struct ev_loop *loop = o->ps->s->main_loop;

    if (ev_is_active(&o->io) && o->writing == (unsigned)writing) {
        return;
    }
    ev_io_stop(loop, &o->io);
    ev_io_set(&o->io, o->fd, EV_READ | (writing ? EV_WRITE : 0));
    o->writing = writing != 0;
    ev_io_start(loop, &o->io);
}

static void
out_drop_queue(struct peer_out *o)
{
    while (o->qlen > 0) {
        free(o->queue[o->qhead]);
        o->qhead = (o->qhead + 1) % PEER_QUEUE_MAX;
        o->qlen--;
    }
    o->qhead = 0;
}

/* Close the link, drop what waits, and retry after the backoff. */
static void
out_fail(struct peer_out *o)
{
    struct ev_loop *loop = o->ps->s->main_loop;

    ev_io_stop(loop, &o->io);
    if (o->fd >= 0) {
        close(o->fd);
    }
    o->fd = -1;
    o->connecting = 0;
    o->answered = 0;
    resp_buf_clear(&o->wbuf);
    out_drop_queue(o);
    ev_timer_stop(loop, &o->retry);
    ev_timer_set(&o->retry, (double)o->backoff_ms / 1000.0, 0.0);
    ev_timer_start(loop, &o->retry);
    o->backoff_ms *= 2;
    if (o->backoff_ms > PEER_BACKOFF_MAX_MS) {
        o->backoff_ms = PEER_BACKOFF_MAX_MS;
    }
}

/* Resolve "host:port" (host may be [v6]); 0 on success. */
static int
peer_resolve(const char *addr, struct addrinfo **res)
{
    char host[GOSSIP_ADDR_MAX + 1];
    const char *colon = strrchr(addr, ':');
    struct addrinfo hints;
    size_t hlen;

    if (colon == NULL || colon == addr) {
        return -1;
    }
    hlen = (size_t)(colon - addr);
    if (addr[0] == '[' && hlen >= 2 && colon[-1] == ']') {
        memcpy(host, addr + 1, hlen - 2);
        host[hlen - 2] = '\0';
    } else {
        memcpy(host, addr, hlen);
        host[hlen] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, res) == 0) {
        return 0;
    }
    hints.ai_flags = AI_NUMERICSERV;
    return getaddrinfo(host, colon + 1, &hints, res) == 0 ? 0 : -1;
}

int
srv_peer_connect(const char *addr)
{
    struct addrinfo *res = NULL;
    int one = 1;
    int fd = -1;

    if (peer_resolve(addr, &res) != 0) {
        return -1;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 &&
            errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int
srv_peer_auth(struct srv *s, struct resp_buf *b, int data)
{
    int rc;

    pthread_mutex_lock(&s->cfg.lock);
    rc = resp_add_array(b, data ? 4 : 3) == RK_OK &&
         resp_add_bulk_str(b, "RKAUTH") == RK_OK &&
         resp_add_bulk_str(b, s->cfg.cluster_secret) == RK_OK &&
         resp_add_bulk_str(b, s->node_id) == RK_OK &&
         (!data || resp_add_bulk_str(b, "data") == RK_OK) ? RK_OK : RK_ERR;
    pthread_mutex_unlock(&s->cfg.lock);
    return rc;
}

static void
out_connect(struct peer_out *o)
{
    o->fd = srv_peer_connect(o->addr);
    if (o->fd < 0) {
        out_fail(o);
        return;
    }
    o->connecting = 1;
    resp_buf_clear(&o->wbuf);
    if (srv_peer_auth(o->ps->s, &o->wbuf, 0) != RK_OK) {
        out_fail(o);
        return;
    }
    out_watch(o, 1);
}

/* Write what is buffered, refilling from the queue. */
static void
out_flush(struct peer_out *o)
{
    ssize_t n;

    for (;;) {
        while (o->qlen > 0 && o->wbuf.len < PEER_WBUF_FILL) {
            struct peer_msg *m = o->queue[o->qhead];

            if (resp_add_raw(&o->wbuf, m->data, m->len) != RK_OK) {
                break;
            }
            free(m);
            o->qhead = (o->qhead + 1) % PEER_QUEUE_MAX;
            o->qlen--;
        }
        if (o->wbuf.len == 0) {
            out_watch(o, 0);
            return;
        }
        n = send(o->fd, o->wbuf.ptr, o->wbuf.len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                      errno == EINTR)) {
            out_watch(o, 1);
            return;
        }
        if (n <= 0) {
            out_fail(o);
            return;
        }
        resp_buf_consume(&o->wbuf, (size_t)n);
    }
}

/* Replies from the peer: the first says whether RKAUTH passed. */
static void
out_read(struct peer_out *o)
{
    char buf[512];
    ssize_t n = read(o->fd, buf, sizeof(buf));

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                  errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        out_fail(o);
        return;
    }
    if (!o->answered) {
        o->answered = 1;
        if (buf[0] != '+') {
            if (!o->warned) {
                fprintf(stderr, "ringkv: peer %s refused this node "
                        "(cluster secret mismatch?)\n", o->addr);
            }
            o->warned = 1;
            out_fail(o);
            return;
        }
        o->backoff_ms = PEER_BACKOFF_MIN_MS;
    }
}

static void
out_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct peer_out *o = io->data;

    (void)loop;
    if (o->connecting && (revents & EV_WRITE)) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
            err != 0) {
            out_fail(o);
            return;
        }
        o->connecting = 0;
    }
    if (revents & EV_READ) {
        out_read(o);
        if (o->fd < 0) {
            return;
        }
    }
    if (!o->connecting && (revents & EV_WRITE)) {
        out_flush(o);
    }
}

static void
out_retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct peer_out *o = t->data;

    (void)loop;
    (void)revents;
    if (o->qlen > 0) {
        out_connect(o);
    }
}

static struct peer_out *
out_get(struct srv_peers *ps, const char *addr)
{
    struct peer_out *o;

    for (o = ps->out; o != NULL; o = o->next) {
        if (strcmp(o->addr, addr) == 0) {
            return o;
        }
    }
    if (strlen(addr) > GOSSIP_ADDR_MAX || ps->nout >= PEER_MAX_OUTGOING) {
        return NULL;
    }
    o = calloc(1, sizeof(*o));
    if (o == NULL) {
        return NULL;
    }
    o->ps = ps;
    strcpy(o->addr, addr);
    o->fd = -1;
    o->backoff_ms = PEER_BACKOFF_MIN_MS;
    resp_buf_init(&o->wbuf);
    ev_io_init(&o->io, out_io_cb, -1, EV_READ);
    o->io.data = o;
    ev_timer_init(&o->retry, out_retry_cb, 0.0, 0.0);
    o->retry.data = o;
    o->next = ps->out;
    ps->out = o;
    ps->nout++;
    return o;
}

int
srv_peers_send(void *ctx, const char *addr, const char *data, size_t len)
{
    struct srv_peers *ps = ctx;
    struct peer_out *o;
    struct peer_msg *m;

    if (!ps->started) {
        return -1;
    }
    o = out_get(ps, addr);
    m = o != NULL ? malloc(sizeof(*m) + len) : NULL;
    if (m == NULL) {
        return -1;
    }
    m->len = len;
    memcpy(m->data, data, len);
    if (o->qlen == PEER_QUEUE_MAX) {
        free(o->queue[o->qhead]);
        o->qhead = (o->qhead + 1) % PEER_QUEUE_MAX;
        o->qlen--;
    }
    o->queue[(o->qhead + o->qlen) % PEER_QUEUE_MAX] = m;
    o->qlen++;
    if (o->fd < 0) {
        if (!ev_is_active(&o->retry)) {
            out_connect(o);
        }
    } else if (!o->connecting) {
        out_watch(o, 1);
    }
    return 0;
}

uint64_t
srv_peers_clock(void *ctx)
{
    struct srv_peers *ps = ctx;

    return store_clock_next(&ps->s->clock);
}

void
srv_peers_observe(void *ctx, uint64_t hlc)
{
    struct srv_peers *ps = ctx;

    store_clock_observe(&ps->s->clock, hlc);
}

struct srv_topology {
    atomic_int refs;
    struct ring *ring;      /* NULL when no member owns slots */
    char **addr;            /* cluster address of ring member i */
    atomic_uchar *live;     /* ring member i's enum gossip_liveness to
                             * this node's failure detector; the one
                             * field that changes after publication
                             * (snapshot()) */
    int self;               /* ring index of this node, or -1 */
};

void
srv_topology_release(struct srv_topology *t)
{
    if (t != NULL && atomic_fetch_sub(&t->refs, 1) == 1) {
        size_t n = t->ring != NULL ? ring_nmembers(t->ring) : 0;

        for (size_t i = 0; t->addr != NULL && i < n; i++) {
            free(t->addr[i]);
        }
        free(t->addr);
        free(t->live);
        ring_destroy(t->ring);
        free(t);
    }
}

void
srv_topology_ref(struct srv_topology *t)
{
    atomic_fetch_add(&t->refs, 1);
}

struct srv_topology *
srv_topology_acquire(struct srv *s)
{
    struct srv_topology *t;

    pthread_mutex_lock(&s->members_lock);
    t = s->topology;
    if (t != NULL) {
        atomic_fetch_add(&t->refs, 1);
    }
    pthread_mutex_unlock(&s->members_lock);
    return t;
}

const struct ring *
srv_topology_ring(const struct srv_topology *t)
{
    return t->ring;
}

const char *
srv_topology_addr(const struct srv_topology *t, size_t idx)
{
    return t->addr[idx];
}

int
srv_topology_self(const struct srv_topology *t)
{
    return t->self;
}

enum gossip_liveness
srv_topology_liveness(const struct srv_topology *t, size_t idx)
{
    return (enum gossip_liveness)atomic_load_explicit(
        &t->live[idx], memory_order_relaxed);
}

/* Copy each member's liveness into t->live (main thread, every tick). */
static void
topology_mark_live(struct srv_topology *t, const struct gossip_member *m,
                   size_t n)
{
    for (size_t i = 0; t->ring != NULL && i < n; i++) {
        int idx = ring_member_index(t->ring, m[i].id);

        if (idx >= 0) {
            atomic_store_explicit(&t->live[idx],
                                  (unsigned char)m[i].liveness,
                                  memory_order_relaxed);
        }
    }
}

/*
 * Build the topology of the n members m (see peer.h for who owns slots).
 * Returns it with one reference, or NULL when memory runs out.
 */
static struct srv_topology *
topology_build(struct srv *s, const struct gossip_member *m, size_t n)
{
    struct srv_topology *t = calloc(1, sizeof(*t));
    struct ring_member *rm = calloc(n > 0 ? n : 1, sizeof(*rm));
    size_t k = 0;
    int ok = 0;

    if (t != NULL) {
        atomic_init(&t->refs, 1);
        t->self = -1;
    }
    if (t == NULL || rm == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].state == GOSSIP_UP || m[i].state == GOSSIP_LEAVING) {
            rm[k].id = m[i].id;
            rm[k].zone = m[i].zone;
            k++;
        }
    }
    if (k > 0) {
        t->ring = ring_create(rm, k, RING_DEFAULT_VNODES,
                              s->cfg.replicas > 0
                                  ? (unsigned)s->cfg.replicas : 1);
        if (t->ring == NULL) {
            goto out;
        }
        t->addr = calloc(k, sizeof(*t->addr));
        t->live = calloc(k, sizeof(*t->live));    /* GOSSIP_ALIVE */
        if (t->addr == NULL || t->live == NULL) {
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            int idx = ring_member_index(t->ring, m[i].id);
            if (idx >= 0 && t->addr[idx] == NULL) {
                t->addr[idx] = strdup(m[i].addr);
                if (t->addr[idx] == NULL) {
                    goto out;
                }
            }
        }
    }
    t->self = t->ring != NULL ? ring_member_index(t->ring, s->node_id) : -1;
    ok = 1;
out:
    free(rm);
    if (!ok) {
        srv_topology_release(t);
        t = NULL;
    }
    return t;
}

/*
 * A node that just started knows only itself: coordinating with that ring
 * would read and write its own copy alone. It is ready once every seed
 * address is a member's address in its table (gossip brings the members
 * that are down too, from the others), or PEER_READY_GRACE_MS after the
 * start when some seed never answers (a bad address, all down).
 */
#define PEER_READY_GRACE_MS 10000

static int
membership_known(struct srv *s, const struct gossip_member *m, size_t n,
                 int64_t now)
{
    if (now - s->start_ms > PEER_READY_GRACE_MS) {
        return 1;
    }
    for (size_t i = 0; i < s->nseeds; i++) {
        size_t j = 0;

        while (j < n && strcmp(m[j].addr, s->seeds[i]) != 0) {
            j++;
        }
        if (j == n) {
            return 0;
        }
    }
    return 1;
}

/*
 * Copy the member table into the snapshot workers read, with a new ring
 * when the membership changed (if that fails, the old one stays and the
 * next tick tries again).
 */
static void
snapshot(struct srv *s, int64_t now)
{
    struct gossip_member *m = NULL;
    struct gossip_stats st;
    struct srv_topology *topo = NULL;
    struct srv_topology *old = NULL;
    uint64_t version = gossip_version(s->gossip);
    double *phi;
    size_t n = 0;

    if (gossip_members(s->gossip, &m, &n) != RK_OK) {
        return;
    }
    phi = malloc((n > 0 ? n : 1) * sizeof(*phi));
    if (phi == NULL) {
        free(m);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        phi[i] = gossip_phi(s->gossip, m[i].id, now);
    }
    gossip_stats(s->gossip, &st);
    if (s->topology == NULL || s->topology_version != version) {
        topo = topology_build(s, m, n);
    }
    /* only this thread replaces s->topology, so it may read it unlocked */
    if (topo != NULL || s->topology != NULL) {
        topology_mark_live(topo != NULL ? topo : s->topology, m, n);
    }
    if (!atomic_load(&s->cluster_ready) &&
        membership_known(s, m, n, srv_mstime())) {
        atomic_store(&s->cluster_ready, 1);
    }
    pthread_mutex_lock(&s->members_lock);
    if (topo != NULL) {
        old = s->topology;
        s->topology = topo;
        s->topology_version = version;
        atomic_fetch_add(&s->topology_gen, 1);
    }
    free(s->members);
    free(s->members_phi);
    s->members = m;
    s->members_phi = phi;
    s->nmembers = n;
    s->gossip_sent = st.sent;
    s->gossip_received = st.received;
    pthread_mutex_unlock(&s->members_lock);
    srv_topology_release(old);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct srv_peers *ps = t->data;
    int64_t now = now_ms();

    (void)loop;
    (void)revents;
    gossip_tick(ps->s->gossip, now);
    snapshot(ps->s, now);
}

struct srv_peers *
srv_peers_create(struct srv *s)
{
    struct srv_peers *ps = calloc(1, sizeof(*ps));

    if (ps == NULL) {
        return NULL;
    }
    ps->s = s;
    ev_io_init(&ps->accept_io, accept_cb, s->peer_listen_fd, EV_READ);
    ps->accept_io.data = ps;
    ev_timer_init(&ps->accept_pause, accept_resume_cb, 0.1, 0.0);
    ps->accept_pause.data = ps;
    ev_timer_init(&ps->tick, tick_cb, 0.0, PEER_TICK_S);
    ps->tick.data = ps;
    return ps;
}

void
srv_peers_start(struct srv_peers *ps)
{
    struct srv *s = ps->s;

    ps->started = 1;
    ev_io_start(s->main_loop, &ps->accept_io);
    /* The first round and the first snapshot run now. */
    tick_cb(s->main_loop, &ps->tick, 0);
    ev_timer_start(s->main_loop, &ps->tick);
}

void
srv_peers_stop(struct srv_peers *ps)
{
    struct ev_loop *loop = ps->s->main_loop;

    ps->started = 0;
    ev_io_stop(loop, &ps->accept_io);
    ev_timer_stop(loop, &ps->accept_pause);
    ev_timer_stop(loop, &ps->tick);
    while (ps->in != NULL) {
        in_close(ps->in);
    }
    while (ps->out != NULL) {
        struct peer_out *o = ps->out;

        ps->out = o->next;
        ev_io_stop(loop, &o->io);
        ev_timer_stop(loop, &o->retry);
        if (o->fd >= 0) {
            close(o->fd);
        }
        out_drop_queue(o);
        resp_buf_deinit(&o->wbuf);
        free(o);
    }
    ps->nout = 0;
}

void
srv_peers_destroy(struct srv_peers *ps)
{
    if (ps == NULL) {
        return;
    }
    srv_peers_stop(ps);
    free(ps);
}

int
srv_peers_view(struct srv *s, struct srv_cluster_view *v)
{
    int rc = RK_OK;

    memset(v, 0, sizeof(*v));
    pthread_mutex_lock(&s->members_lock);
    if (s->nmembers > 0) {
        v->members = malloc(s->nmembers * sizeof(*v->members));
        v->phi = malloc(s->nmembers * sizeof(*v->phi));
        if (v->members == NULL || v->phi == NULL) {
            rc = RK_ENOMEM;
            goto out;
        }
        memcpy(v->members, s->members, s->nmembers * sizeof(*v->members));
        memcpy(v->phi, s->members_phi, s->nmembers * sizeof(*v->phi));
        v->n = s->nmembers;
    }
    v->sent = s->gossip_sent;
    v->received = s->gossip_received;
    if (s->topology != NULL) {
        atomic_fetch_add(&s->topology->refs, 1);
        v->topology = s->topology;
        v->ring = s->topology->ring;
    }
out:
    pthread_mutex_unlock(&s->members_lock);
    if (rc != RK_OK) {
        srv_peers_view_free(v);
    }
    return rc;
}

void
srv_peers_view_free(struct srv_cluster_view *v)
{
    free(v->members);
    free(v->phi);
    srv_topology_release(v->topology);
    memset(v, 0, sizeof(*v));
}
