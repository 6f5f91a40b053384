/*
 * server/conn.c - client connections: reading, parsing, replies in order,
 * backpressure and the per-client limits.
 *
 * Reading: one read of up to 16 KB per readiness event (more while a large
 * bulk argument is arriving, straight into its final place), then every
 * complete command in the buffer is run. Writing: replies accumulate in
 * c->out and are written by the worker before its loop sleeps, after the
 * store has committed the writes they acknowledge; only when the socket is
 * full does the connection wait for writability.
 *
 * Backpressure: a client whose pending output passes CONN_OUT_PAUSE bytes
 * is not read from (and its buffered commands are not run) until the output
 * drains under CONN_OUT_RESUME, so a client that never reads its replies
 * holds a bounded amount of server memory. Redis instead lets the buffer
 * grow up to client-output-buffer-limit; that limit is honoured too.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "command.h"
#include "coord.h"
#include "internal.h"
#include "srv.h"
#include "worker.h"

#define CONN_READ_LEN    (16 * 1024)
#define CONN_OUT_PAUSE   (4 * 1024 * 1024)
#define CONN_OUT_RESUME  (1 * 1024 * 1024)
#define CONN_OUT_KEEP    (64 * 1024)   /* larger idle buffers are freed */

static void conn_read_cb(struct ev_loop *loop, ev_io *io, int revents);
static void conn_write_cb(struct ev_loop *loop, ev_io *io, int revents);

static void
format_addr(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, cap, "%s:%d", ip, port);
}

struct conn *
conn_create(struct worker *w, int fd)
{
    struct srv *s = w->srv;
    struct conn *c;
    struct sockaddr_storage sa;
    socklen_t salen;
    int one = 1;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        /* The acceptor counted this client. */
        atomic_fetch_sub(&s->connected_clients, 1);
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->w = w;
    c->id = atomic_fetch_add(&s->next_client_id, 1);
    c->ctime_ms = srv_mstime();
    c->last_ms = c->ctime_ms;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (s->cfg.tcp_keepalive > 0) {
        int idle = s->cfg.tcp_keepalive;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    }
    salen = sizeof(sa);
    if (getpeername(fd, (struct sockaddr *)&sa, &salen) == 0) {
        format_addr(&sa, c->peer, sizeof(c->peer));
    }
    salen = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0) {
        format_addr(&sa, c->local, sizeof(c->local));
    }
    resp_parser_init(&c->parser);
    resp_buf_init(&c->out);
    pthread_mutex_lock(&s->cfg.lock);
    c->authenticated = s->cfg.requirepass == NULL ||
                       s->cfg.requirepass[0] == '\0';
    pthread_mutex_unlock(&s->cfg.lock);
    c->parser.unauth = !c->authenticated;

    ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
    c->rio.data = c;
    ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
    c->wio.data = c;
    ev_io_start(w->loop, &c->rio);

    pthread_mutex_lock(&w->lock);
    c->next = w->clients;
    if (w->clients != NULL) {
        w->clients->prev = c;
    }
    w->clients = c;
    pthread_mutex_unlock(&w->lock);
    return c;
}

struct conn *
conn_create_internal(struct worker *w, int fd)
{
    struct conn *c;

    /* conn_create() counts on the acceptor's count; this link has none. */
    atomic_fetch_add(&w->srv->connected_clients, 1);
    c = conn_create(w, fd);
    if (c == NULL) {
        return NULL;
    }
    atomic_fetch_sub(&w->srv->connected_clients, 1);
    c->internal = 1;
    c->authenticated = 1;
    c->parser.unauth = 0;
    /* Move it from the clients list to the internal one. */
    pthread_mutex_lock(&w->lock);
    w->clients = c->next;
    if (c->next != NULL) {
        c->next->prev = NULL;
    }
    c->next = w->internal;
    if (w->internal != NULL) {
        w->internal->prev = c;
    }
    w->internal = c;
    pthread_mutex_unlock(&w->lock);
    return c;
}

void
conn_destroy(struct conn *c)
{
    struct worker *w = c->w;
    struct conn_slot *slot;

    ev_io_stop(w->loop, &c->rio);
    ev_io_stop(w->loop, &c->wio);
    if (c->write_queued) {
        struct conn **pp = &w->pending_write;
        while (*pp != NULL && *pp != c) {
            pp = &(*pp)->next_write;
        }
        if (*pp == c) {
            *pp = c->next_write;
        }
    }
    pthread_mutex_lock(&w->lock);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else if (c->internal) {
        w->internal = c->next;
    } else {
        w->clients = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    pthread_mutex_unlock(&w->lock);
    if (!c->internal) {
        atomic_fetch_sub(&w->srv->connected_clients, 1);
    }
    coord_conn_gone(c);

    close(c->fd);
    conn_multi_reset(c);
    conn_unwatch(c);
    free(c->mq);
    free(c->watched);
    while (c->deferred != NULL) {
        struct conn_deferred *d = c->deferred;

        c->deferred = d->next;
        free(d);
    }
    while ((slot = c->slots) != NULL) {
        c->slots = slot->next;
        resp_buf_deinit(&slot->buf);
        free(slot);
    }
    resp_parser_deinit(&c->parser);
    resp_buf_deinit(&c->out);
    free(c->name);
    free(c);
}

size_t
conn_output_bytes(const struct conn *c)
{
    size_t n = c->out.len - c->out_pos;

    /* Pending replies count what their commands hold too, so that a
     * client pipelining commands that wait (on replicas, or behind each
     * other) is paused like one that does not read its replies. */
    for (const struct conn_slot *s = c->slots; s != NULL; s = s->next) {
        n += s->buf.len + s->held + CONN_SLOT_WEIGHT;
    }
    return n;
}

static void
pause_reading(struct conn *c)
{
    if (!c->reading_paused) {
        c->reading_paused = 1;
        ev_io_stop(c->w->loop, &c->rio);
    }
}

static void
resume_reading(struct conn *c)
{
    if (c->reading_paused) {
        c->reading_paused = 0;
        ev_io_start(c->w->loop, &c->rio);
        conn_process_input(c);
    }
}

/*
 * Enforce client-output-buffer-limit for normal clients. Returns 1 when the
 * client must be closed.
 */
static int
output_over_limit(struct conn *c)
{
    struct srv *s = c->w->srv;
    size_t bytes = conn_output_bytes(c);
    long long hard = s->cfg.obuf_hard;
    long long soft = s->cfg.obuf_soft;

    if (c->internal) {
        return 0;       /* a peer's link, not a normal client */
    }
    if (hard > 0 && bytes >= (size_t)hard) {
        return 1;
    }
    if (soft > 0 && bytes >= (size_t)soft) {
        long long now = srv_mstime();
        if (c->obuf_soft_since_ms == 0) {
            c->obuf_soft_since_ms = now;
        } else if (now - c->obuf_soft_since_ms >=
                   s->cfg.obuf_soft_seconds * 1000) {
            return 1;
        }
    } else {
        c->obuf_soft_since_ms = 0;
    }
    return 0;
}

/* Close c for passing client-output-buffer-limit. */
static void
close_over_output_limit(struct conn *c)
{
    atomic_fetch_add(&c->w->stats.obuf_limit_disconnections, 1);
    fprintf(stderr, "ringkv: closing client %s: output buffer over "
            "client-output-buffer-limit\n", c->peer);
    conn_destroy(c);
}

static void
reply_protocol_error(struct conn *c)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "ERR %s", c->parser.err);

    resp_add_error(&c->out, msg, (size_t)n);
    worker_count_error(c->w, "ERR", 3);
    c->close_after_reply = 1;
}

void
conn_process_input(struct conn *c)
{
    struct worker *w = c->w;
    int r;

    if (c->processing) {
        return;
    }
    c->processing = 1;
    while (!c->close_after_reply && !c->reading_paused) {
        c->parser.unauth = !c->authenticated;
        r = resp_parse(&c->parser, NULL, 0);
        if (r == RESP_INCOMPLETE) {
            break;
        }
        if (r != RESP_OK) {
            /* RESP_EPROTO, or RK_ENOMEM with p->err "out of memory". */
            reply_protocol_error(c);
            break;
        }
        c->last_ms = srv_mstime();
        if (c->internal) {
            internal_dispatch(c, (int)c->parser.argc, c->parser.argv);
        } else {
            cmd_dispatch(c, (int)c->parser.argc, c->parser.argv);
        }
        if (conn_output_bytes(c) > CONN_OUT_PAUSE) {
            pause_reading(c);
        }
    }
    c->processing = 0;
    if (c->out.len > c->out_pos || c->close_after_reply) {
        worker_want_write(w, c);
    }
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;
    struct worker *w = c->w;
    struct srv *s = w->srv;
    size_t want = CONN_READ_LEN;
    size_t avail;
    char *p;
    ssize_t n;

    (void)loop;
    (void)revents;
    if (c->close_after_reply) {
        /* Ignore input after QUIT or a protocol error. */
        ev_io_stop(w->loop, &c->rio);
        return;
    }
    c->parser.max_bulk = (uint64_t)s->cfg.proto_max_bulk_len;
    p = resp_parser_space(&c->parser, want, &avail);
    if (p == NULL) {
        conn_destroy(c);
        return;
    }
    n = read(c->fd, p, avail);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        }
        conn_destroy(c);
        return;
    }
    if (n == 0) {
        conn_destroy(c);
        return;
    }
    resp_parser_commit(&c->parser, (size_t)n);
    STAT_ADD(&w->stats.net_in, (uint64_t)n);
    if (resp_parser_pending(&c->parser) >
        (size_t)s->cfg.query_buffer_limit) {
        atomic_fetch_add(&w->stats.qbuf_limit_disconnections, 1);
        fprintf(stderr, "ringkv: closing client %s: query buffer over "
                "client-query-buffer-limit\n", c->peer);
        conn_destroy(c);
        return;
    }
    conn_process_input(c);
    if (output_over_limit(c)) {
        close_over_output_limit(c);
    }
}

static void
conn_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;

    (void)loop;
    (void)revents;
    conn_write(c);
}

int
conn_write(struct conn *c)
{
    struct worker *w = c->w;
    uint64_t total = 0;

    while (c->out.len > c->out_pos) {
        ssize_t n = write(c->fd, c->out.ptr + c->out_pos,
                          c->out.len - c->out_pos);
        if (n > 0) {
            c->out_pos += (size_t)n;
            total += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The client is not reading: replies that came after the read
             * (a cluster's, from the replicas) are checked here. */
            if (output_over_limit(c)) {
                close_over_output_limit(c);
                return RK_ERR;
            }
            if (!c->write_watching) {
                c->write_watching = 1;
                ev_io_start(w->loop, &c->wio);
            }
            goto out;
        }
        conn_destroy(c);
        return RK_ERR;
    }
    /* Everything written. */
    c->out.len = 0;
    c->out_pos = 0;
    if (c->out.cap > CONN_OUT_KEEP) {
        resp_buf_deinit(&c->out);     /* keeps the protocol */
    }
    if (c->write_watching) {
        c->write_watching = 0;
        ev_io_stop(w->loop, &c->wio);
    }
    if (c->close_after_reply && c->slots == NULL) {
        conn_destroy(c);
        return RK_ERR;
    }
out:
    STAT_ADD(&w->stats.net_out, total);
    if (c->reading_paused && conn_output_bytes(c) < CONN_OUT_RESUME) {
        resume_reading(c);
    }
    return RK_OK;
}

struct conn_slot *
conn_slot_open(struct conn *c)
{
    struct conn_slot *slot = calloc(1, sizeof(*slot));

    if (slot == NULL) {
        return NULL;
    }
    resp_buf_init(&slot->buf);
    slot->buf.resp3 = c->out.resp3;
    if (c->slots_tail != NULL) {
        c->slots_tail->next = slot;
    } else {
        c->slots = slot;
    }
    c->slots_tail = slot;
    return slot;
}

void
conn_slot_done(struct conn *c, struct conn_slot *slot)
{
    slot->done = 1;
    while (c->slots != NULL && c->slots->done) {
        struct conn_slot *head = c->slots;
        resp_add_raw(&c->out, head->buf.ptr, head->buf.len);
        c->slots = head->next;
        if (c->slots == NULL) {
            c->slots_tail = NULL;
        }
        resp_buf_deinit(&head->buf);
        free(head);
    }
    if (c->out.len > c->out_pos) {
        worker_want_write(c->w, c);
    }
}

void
conn_multi_reset(struct conn *c)
{
    for (size_t i = 0; i < c->nmq; i++) {
        free(c->mq[i].mem);
    }
    c->nmq = 0;
    c->in_multi = 0;
    c->multi_error = 0;
}

void
conn_unwatch(struct conn *c)
{
    for (size_t i = 0; i < c->nwatched; i++) {
        free(c->watched[i].key);
    }
    c->nwatched = 0;
}

void
conn_describe(struct conn *c, struct resp_buf *out)
{
    char line[1024];
    long long now = srv_mstime();
    char flags[8];
    size_t nf = 0;
    int n;

    if (c->in_multi) {
        flags[nf++] = 'x';
    }
    if (nf == 0) {
        flags[nf++] = 'N';
    }
    flags[nf] = '\0';
    n = snprintf(line, sizeof(line),
                 "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld "
                 "flags=%s db=0 sub=0 psub=0 ssub=0 multi=%d qbuf=%zu "
                 "qbuf-free=%zu argv-mem=0 multi-mem=0 rbs=%zu rbp=0 obl=%zu "
                 "oll=0 omem=%zu tot-mem=%zu events=r%s cmd=%s user=default "
                 "redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
                 (unsigned long long)c->id, c->peer, c->local, c->fd,
                 c->name ? c->name : "", (now - c->ctime_ms) / 1000,
                 (now - c->last_ms) / 1000, flags,
                 c->in_multi ? (int)c->nmq : -1,
                 resp_parser_pending(&c->parser),
                 c->parser.cap - c->parser.len, c->parser.cap,
                 c->out.len - c->out_pos, c->out.cap,
                 resp_parser_memory(&c->parser) + c->out.cap + sizeof(*c),
                 c->write_watching ? "w" : "",
                 c->last_cmd ? c->last_cmd : "NULL", c->out.resp3 ? 3 : 2,
                 c->lib_name,
                 c->lib_ver);
    if (n > 0) {
        resp_add_raw(out, line, (size_t)n < sizeof(line) ? (size_t)n
                                                          : sizeof(line) - 1);
    }
}
