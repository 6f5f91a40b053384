/*
 * server/worker.c - worker threads: adopt connections, group commit, write
 * replies, per-second housekeeping.
 */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "conn.h"
#include "coord.h"
#include "handoff.h"
#include "internal.h"
#include "link.h"
#include "srv.h"

static void worker_wake_cb(struct ev_loop *loop, ev_async *a, int revents);
static void worker_before_sleep(struct ev_loop *loop, ev_prepare *p,
                                int revents);
static void worker_cron(struct ev_loop *loop, ev_timer *t, int revents);

struct worker *
worker_create(struct srv *s, int id)
{
    struct worker *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        return NULL;
    }
    w->srv = s;
    w->id = id;
    w->loop = ev_loop_new(EVFLAG_AUTO);
    w->cmdstats = calloc(cmd_stats_count(), sizeof(*w->cmdstats));
    if (w->loop == NULL || w->cmdstats == NULL) {
        worker_destroy(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    ev_async_init(&w->wake, worker_wake_cb);
    w->wake.data = w;
    ev_async_start(w->loop, &w->wake);
    ev_prepare_init(&w->before_sleep, worker_before_sleep);
    w->before_sleep.data = w;
    ev_prepare_start(w->loop, &w->before_sleep);
    ev_timer_init(&w->cron, worker_cron, 0.1, 0.1);
    w->cron.data = w;
    ev_timer_start(w->loop, &w->cron);
    if (id == 0) {
        handoff_start(w);
    }
    return w;
}

void
worker_destroy(struct worker *w)
{
    if (w == NULL) {
        return;
    }
    if (w->loop != NULL) {
        while (w->clients != NULL) {
            conn_destroy(w->clients);
        }
        while (w->internal != NULL) {
            conn_destroy(w->internal);
        }
        handoff_stop(w);
        coord_destroy(w);       /* closes the links */
        handoff_free(w);
        ev_async_stop(w->loop, &w->wake);
        ev_prepare_stop(w->loop, &w->before_sleep);
        ev_timer_stop(w->loop, &w->cron);
        ev_loop_destroy(w->loop);
        pthread_mutex_destroy(&w->lock);
    }
    for (size_t i = 0; i < w->nincoming; i++) {
        int fd = w->incoming[i];
        close(fd >= 0 ? fd : -2 - fd);
    }
    free(w->incoming);
    for (size_t i = 0; i < w->nbufs; i++) {
        store_buf_deinit(&w->bufs[i]);
    }
    free(w->bufs);
    free(w->cmdstats);
    free(w);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;

    ev_run(w->loop, 0);
    /* Make this worker's last writes durable before the threads join. */
    store_commit(w->srv->store, w->commit_seq);
    return NULL;
}

int
worker_start(struct worker *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? RK_OK
                                                                 : RK_ERR;
}

void
worker_wake(struct worker *w)
{
    ev_async_send(w->loop, &w->wake);
}

void
worker_join(struct worker *w)
{
    worker_wake(w);
    pthread_join(w->thread, NULL);
}

static void
adopt(struct worker *w, int fd)
{
    pthread_mutex_lock(&w->lock);
    if (w->nincoming == w->capincoming) {
        size_t cap = w->capincoming ? w->capincoming * 2 : 16;
        int *n = realloc(w->incoming, cap * sizeof(*n));
        if (n == NULL) {
            pthread_mutex_unlock(&w->lock);
            close(fd >= 0 ? fd : -2 - fd);
            return;
        }
        w->incoming = n;
        w->capincoming = cap;
    }
    w->incoming[w->nincoming++] = fd;
    pthread_mutex_unlock(&w->lock);
    worker_wake(w);
}

void
worker_adopt(struct worker *w, int fd)
{
    adopt(w, fd);
}

void
worker_adopt_internal(struct worker *w, int fd)
{
    adopt(w, -2 - fd);
}

static void
worker_wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct worker *w = a->data;
    int fds[64];
    size_t n;

    (void)revents;
    if (atomic_load(&w->srv->shutdown_asap)) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    do {
        pthread_mutex_lock(&w->lock);
        n = w->nincoming < 64 ? w->nincoming : 64;
        memcpy(fds, w->incoming, n * sizeof(int));
        memmove(w->incoming, w->incoming + n,
                (w->nincoming - n) * sizeof(int));
        w->nincoming -= n;
        pthread_mutex_unlock(&w->lock);
        for (size_t i = 0; i < n; i++) {
            if (fds[i] >= 0) {
                conn_create(w, fds[i]);
            } else {
                conn_create_internal(w, -2 - fds[i]);
            }
        }
    } while (n == 64);

    /* Writes waiting for a key another write released. */
    coord_wakeups(w);

    /* CLIENT KILL from another thread marks connections. */
    for (struct conn *c = w->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (atomic_load(&c->kill)) {
            conn_destroy(c);
        }
    }
}

void
worker_want_write(struct worker *w, struct conn *c)
{
    if (!c->write_queued && !c->write_watching) {
        c->write_queued = 1;
        c->next_write = w->pending_write;
        w->pending_write = c;
    }
}

/*
 * Before the loop sleeps: commit the store writes made in this iteration
 * (one batch, synced once under fsync always), and only then write the
 * replies that acknowledge them.
 */
static void
worker_before_sleep(struct ev_loop *loop, ev_prepare *p, int revents)
{
    struct worker *w = p->data;

    (void)loop;
    (void)revents;
    if (w->pending_write == NULL) {
        /* Writes no reply waits for (a hint stored after its client was
         * answered) still go out with this iteration; a failure is
         * retried on the next one. */
        (void)store_commit(w->srv->store, w->commit_seq);
        return;
    }
    while (w->pending_write != NULL) {
        struct conn *list = w->pending_write;

        if (store_commit(w->srv->store, w->commit_seq) != RK_OK) {
            /* The write failed: the replies must not go out. Try again
             * on the next iteration (the cron keeps the loop turning). */
            return;
        }
        w->pending_write = NULL;
        while (list != NULL) {
            struct conn *c = list;
            list = c->next_write;
            c->write_queued = 0;
            c->next_write = NULL;
            conn_write(c);
        }
    }
}

static void
worker_cron(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct worker *w = t->data;
    struct srv *s = w->srv;
    long long now = srv_mstime();
    long long timeout = s->cfg.timeout;

    (void)loop;
    (void)revents;
    if (atomic_load(&s->shutdown_asap)) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    for (struct conn *c = w->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (timeout > 0 && now - c->last_ms > timeout * 1000 &&
            c->slots == NULL) {
            conn_destroy(c);
            continue;
        }
        /* A client idle for 2 s gives back a query buffer grown by a big
         * argument (Redis's clientsCronResizeQueryBuffer). */
        if (now - c->last_ms > 2000 && !c->processing &&
            c->parser.cap > 64 * 1024) {
            resp_parser_shrink(&c->parser);
        }
    }
}

void
worker_count_error(struct worker *w, const char *code, size_t len)
{
    struct err_stat *free_slot = NULL;

    if (len >= sizeof(w->errstats[0].code)) {
        len = sizeof(w->errstats[0].code) - 1;
    }
    atomic_fetch_add_explicit(&w->stats.error_replies, 1,
                              memory_order_relaxed);
    for (size_t i = 0; i < WORKER_ERRCODES; i++) {
        struct err_stat *e = &w->errstats[i];
        if (e->code[0] == '\0') {
            if (free_slot == NULL) {
                free_slot = e;
            }
            continue;
        }
        if (strncmp(e->code, code, len) == 0 && e->code[len] == '\0') {
            atomic_fetch_add_explicit(&e->count, 1, memory_order_relaxed);
            return;
        }
    }
    if (free_slot != NULL) {
        /* The code is written before the count becomes non-zero; INFO
         * skips entries whose count is zero. */
        memcpy(free_slot->code, code, len);
        free_slot->code[len] = '\0';
        atomic_fetch_add_explicit(&free_slot->count, 1,
                                  memory_order_release);
    }
}

struct store_buf *
worker_bufs(struct worker *w, size_t n)
{
    if (n > w->nbufs) {
        struct store_buf *b = realloc(w->bufs, n * sizeof(*b));
        if (b == NULL) {
            return NULL;
        }
        for (size_t i = w->nbufs; i < n; i++) {
            store_buf_init(&b[i]);
        }
        w->bufs = b;
        w->nbufs = n;
    }
    return w->bufs;
}
