/*
 * server/link.c - pipelined request links from a worker to its peers.
 * See link.h.
 */
#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "peer.h"
#include "reader.h"
#include "resp.h"
#include "srv.h"
#include "worker.h"

#define LINK_MAX 4096               /* links per worker */
#define LINK_READ_CHUNK 65536
#define LINK_BACKOFF_MIN_MS 100
#define LINK_BACKOFF_MAX_MS 2000

/* One request waiting for its reply. */
struct link_req {
    link_done_fn *done;
    void *arg;
    long long sent_ms;              /* monotonic ms when queued */
};

struct link {
    struct worker *w;
    struct link *next;
    char *addr;
    int fd;                         /* -1 when closed */
    unsigned connecting : 1;        /* connect() in progress */
    unsigned authed : 1;            /* the peer answered RKAUTH */
    unsigned writing : 1;           /* io watches EV_WRITE too */
    unsigned forward : 1;           /* link_get_forward()'s */
    long long retry_at_ms;          /* backing off until then */
    long backoff_ms;
    ev_io io;
    ev_timer timer;                 /* request timeout */
    struct resp_buf abuf;           /* RKAUTH, while not authed */
    struct resp_buf wbuf;           /* requests not yet written */
    size_t wpos;                    /* bytes of abuf or wbuf written */
    struct resp_reader reader;
    struct link_req *reqs;          /* ring of outstanding requests */
    size_t rhead;
    size_t rlen;
    size_t rcap;
};

static long long
mono_ms(void)
{
    return srv_monotonic_us() / 1000;
}

static long long
timeout_ms(const struct link *l)
{
    long long t = l->w->srv->cfg.request_timeout;

    return t > 0 ? t : 1;
}

static void
link_watch(struct link *l, int writing)
{
    if (ev_is_active(&l->io) && l->writing == (unsigned)writing) {
        return;
    }
    ev_io_stop(l->w->loop, &l->io);
    ev_io_set(&l->io, l->fd, EV_READ | (writing ? EV_WRITE : 0));
    l->writing = writing != 0;
    ev_io_start(l->w->loop, &l->io);
}

/*
 * Close l and fail every request it holds. The callbacks may send on
 * other links, or on this one (refused: it is backing off now).
 */
static void
link_fail(struct link *l)
{
    size_t n = l->rlen;
    size_t head = l->rhead;
    size_t cap = l->rcap;
    struct link_req *reqs = l->reqs;

    ev_io_stop(l->w->loop, &l->io);
    ev_timer_stop(l->w->loop, &l->timer);
    if (l->fd >= 0) {
        close(l->fd);
    }
    l->fd = -1;
    l->connecting = 0;
    l->authed = 0;
    resp_buf_clear(&l->abuf);
    resp_buf_clear(&l->wbuf);
    l->wpos = 0;
    resp_reader_deinit(&l->reader);
    resp_reader_init(&l->reader);
    l->retry_at_ms = mono_ms() + l->backoff_ms;
    l->backoff_ms *= 2;
    if (l->backoff_ms > LINK_BACKOFF_MAX_MS) {
        l->backoff_ms = LINK_BACKOFF_MAX_MS;
    }
    /* Detach the queue first: a callback may call link_send(). */
    l->reqs = NULL;
    l->rlen = 0;
    l->rhead = 0;
    l->rcap = 0;
    for (size_t i = 0; i < n; i++) {
        struct link_req *r = &reqs[(head + i) % cap];
        r->done(r->arg, NULL);
    }
    free(reqs);
}

/* Arm the timer for the oldest outstanding request. */
static void
link_arm(struct link *l)
{
    double after;

    ev_timer_stop(l->w->loop, &l->timer);
    if (l->rlen == 0) {
        return;
    }
    after = (double)(l->reqs[l->rhead].sent_ms + timeout_ms(l) - mono_ms())
            / 1000.0;
    ev_timer_set(&l->timer, after > 0.001 ? after : 0.001, 0.0);
    ev_timer_start(l->w->loop, &l->timer);
}

static void
link_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct link *l = t->data;

    (void)loop;
    (void)revents;
    if (l->rlen > 0 &&
        mono_ms() - l->reqs[l->rhead].sent_ms >= timeout_ms(l)) {
        link_fail(l);
        return;
    }
    link_arm(l);
}

/* Write RKAUTH, or once the peer accepted it, the requests. */
static void
link_flush(struct link *l)
{
    struct resp_buf *b = l->authed ? &l->wbuf : &l->abuf;

    while (l->wpos < b->len) {
        ssize_t n = write(l->fd, b->ptr + l->wpos, b->len - l->wpos);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                link_watch(l, 1);
                return;
            }
            link_fail(l);
            return;
        }
        l->wpos += (size_t)n;
    }
    b->len = 0;
    l->wpos = 0;
    link_watch(l, 0);
}

static void
link_read(struct link *l)
{
    for (;;) {
        size_t avail;
        char *p = resp_reader_space(&l->reader, LINK_READ_CHUNK, &avail);
        ssize_t n;

        if (p == NULL) {
            link_fail(l);
            return;
        }
        n = read(l->fd, p, avail);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            link_fail(l);
            return;
        }
        resp_reader_commit(&l->reader, (size_t)n);
        if ((size_t)n < avail) {
            break;
        }
    }
    for (;;) {
        const struct resp_reply *r;
        int rc = resp_reader_next(&l->reader, &r);

        if (rc == RESP_INCOMPLETE) {
            break;
        }
        if (rc != RESP_OK) {
            link_fail(l);
            return;
        }
        if (!l->authed) {
            if (r->type != RESP_REPLY_STATUS) {
                fprintf(stderr, "ringkv: peer %s refused this node: "
                        "%.*s\n", l->addr, (int)r->str.len, r->str.ptr);
                link_fail(l);
                return;
            }
            l->authed = 1;
            l->wpos = 0;
            l->backoff_ms = LINK_BACKOFF_MIN_MS;
            link_flush(l);
            if (l->fd < 0) {
                return;
            }
            continue;
        }
        if (l->rlen == 0) {
            link_fail(l);       /* a reply nobody asked for */
            return;
        } else {
            struct link_req req = l->reqs[l->rhead];
            int fd = l->fd;

            l->rhead = (l->rhead + 1) % l->rcap;
            l->rlen--;
            req.done(req.arg, r);
            /* The callback may have failed this link (a send error). */
            if (l->fd != fd || l->fd < 0) {
                return;
            }
        }
    }
    link_arm(l);
}

static void
link_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct link *l = io->data;

    (void)loop;
    if (l->connecting && (revents & EV_WRITE)) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
            err != 0) {
            link_fail(l);
            return;
        }
        l->connecting = 0;
    }
    if (revents & EV_READ) {
        link_read(l);
        if (l->fd < 0) {
            return;
        }
    }
    if ((revents & EV_WRITE) && !l->connecting) {
        link_flush(l);
    }
}

/* Start connecting; RKAUTH goes first, the requests once it is taken. */
static int
link_connect(struct link *l)
{
    resp_buf_clear(&l->abuf);
    l->fd = srv_peer_connect(l->addr);
    if (l->fd < 0) {
        return RK_ERR;
    }
    if (srv_peer_auth(l->w->srv, &l->abuf, 1) != RK_OK) {
        close(l->fd);
        l->fd = -1;
        return RK_ERR;
    }
    l->connecting = 1;
    l->wpos = 0;
    link_watch(l, 1);
    return RK_OK;
}

static struct link *
get(struct worker *w, const char *addr, int forward)
{
    struct link *l;
    size_t n = 0;

    for (l = w->links; l != NULL; l = l->next, n++) {
        if (l->forward == (unsigned)forward && strcmp(l->addr, addr) == 0) {
            return l;
        }
    }
    if (n >= LINK_MAX || (l = calloc(1, sizeof(*l))) == NULL) {
        return NULL;
    }
    l->addr = strdup(addr);
    if (l->addr == NULL) {
        free(l);
        return NULL;
    }
    l->w = w;
    l->fd = -1;
    l->forward = forward != 0;
    l->backoff_ms = LINK_BACKOFF_MIN_MS;
    resp_buf_init(&l->abuf);
    resp_buf_init(&l->wbuf);
    resp_reader_init(&l->reader);
    ev_init(&l->io, link_io_cb);
    l->io.data = l;
    ev_init(&l->timer, link_timer_cb);
    l->timer.data = l;
    l->next = w->links;
    w->links = l;
    return l;
}

struct link *
link_get(struct worker *w, const char *addr)
{
    return get(w, addr, 0);
}

struct link *
link_get_forward(struct worker *w, const char *addr)
{
    return get(w, addr, 1);
}

int
link_usable(const struct link *l)
{
    return l->fd >= 0 || mono_ms() >= l->retry_at_ms;
}

int
link_send(struct link *l, int argc, const struct rk_slice *argv,
          link_done_fn *done, void *arg)
{
    size_t before = l->wbuf.len;
    int rc;

    if (l->fd < 0 && mono_ms() < l->retry_at_ms) {
        return RK_ERR;
    }
    if (l->rlen == l->rcap) {
        size_t cap = l->rcap ? l->rcap * 2 : 16;
        struct link_req *n = malloc(cap * sizeof(*n));
        if (n == NULL) {
            return RK_ERR;
        }
        for (size_t i = 0; i < l->rlen; i++) {
            n[i] = l->reqs[(l->rhead + i) % l->rcap];
        }
        free(l->reqs);
        l->reqs = n;
        l->rhead = 0;
        l->rcap = cap;
    }
    rc = resp_add_array(&l->wbuf, argc);
    for (int i = 0; i < argc && rc == RK_OK; i++) {
        rc = resp_add_bulk(&l->wbuf, argv[i].ptr, argv[i].len);
    }
    if (rc != RK_OK) {
        l->wbuf.len = before;
        return RK_ERR;
    }
    if (l->fd < 0 && link_connect(l) != RK_OK) {
        l->wbuf.len = before;
        l->retry_at_ms = mono_ms() + l->backoff_ms;
        return RK_ERR;
    }
    l->reqs[(l->rhead + l->rlen) % l->rcap] = (struct link_req){
        .done = done, .arg = arg, .sent_ms = mono_ms() };
    l->rlen++;
    if (l->rlen == 1) {
        link_arm(l);
    }
    if (l->authed && !l->writing) {
        /* Written when the loop is about to sleep would batch more, but
         * the reply slot already waits; write now, the kernel batches. */
        link_watch(l, 1);
    }
    return RK_OK;
}

void
link_close_all(struct worker *w)
{
    while (w->links != NULL) {
        struct link *l = w->links;

        w->links = l->next;
        link_fail(l);
        resp_buf_deinit(&l->abuf);
        resp_buf_deinit(&l->wbuf);
        resp_reader_deinit(&l->reader);
        free(l->addr);
        free(l);
    }
}
