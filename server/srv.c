/*
 * server/srv.c - process-wide helpers: clocks, shutdown request, slowlog.
 */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "worker.h"

long long
srv_ustime(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
srv_mstime(void)
{
    return srv_ustime() / 1000;
}

long long
srv_monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
srv_request_shutdown(struct srv *s)
{
    atomic_store(&s->shutdown_asap, 1);
    if (s->main_loop != NULL && s->main_wake != NULL) {
        ev_async_send(s->main_loop, s->main_wake);
    }
    for (int i = 0; i < s->nworkers; i++) {
        if (s->workers[i] != NULL) {
            worker_wake(s->workers[i]);
        }
    }
}

static void
slowlog_entry_free(struct srv_slowlog_entry *e)
{
    for (int i = 0; i < e->argc; i++) {
        free(e->argv[i]);
    }
    free(e->argv);
    free(e->argv_len);
    free(e->peer);
    free(e->name);
    memset(e, 0, sizeof(*e));
}

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

void
srv_slowlog_push(struct srv *s, int argc, const struct rk_slice *argv,
                 long long duration_us, const char *peer, const char *name)
{
    struct srv_slowlog_entry e;
    int keep = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : argc;

    memset(&e, 0, sizeof(e));
    e.argv = calloc((size_t)keep, sizeof(char *));
    e.argv_len = calloc((size_t)keep, sizeof(size_t));
    if (e.argv == NULL || e.argv_len == NULL) {
        goto fail;
    }
    for (int i = 0; i < keep; i++) {
        char buf[SLOWLOG_MAX_ARGLEN + 64];
        const char *p = argv[i].ptr;
        size_t n = argv[i].len;
        if (keep != argc && i == keep - 1) {
            /* Redis: the last kept slot says how many were dropped. */
            n = (size_t)snprintf(buf, sizeof(buf), "... (%d more arguments)",
                                 argc - keep + 1);
            p = buf;
        } else if (n > SLOWLOG_MAX_ARGLEN) {
            memcpy(buf, p, SLOWLOG_MAX_ARGLEN);
            n = SLOWLOG_MAX_ARGLEN + (size_t)snprintf(buf + SLOWLOG_MAX_ARGLEN,
                sizeof(buf) - SLOWLOG_MAX_ARGLEN, "... (%zu more bytes)",
                argv[i].len - SLOWLOG_MAX_ARGLEN);
            p = buf;
        }
        e.argv[i] = malloc(n + 1);
        if (e.argv[i] == NULL) {
            e.argc = i;
            goto fail;
        }
        memcpy(e.argv[i], p, n);
        e.argv[i][n] = '\0';
        e.argv_len[i] = n;
    }
    e.argc = keep;
    e.peer = strdup(peer);
    e.name = strdup(name);
    e.time = srv_mstime() / 1000;
    e.duration_us = duration_us;

    pthread_mutex_lock(&s->slowlog_lock);
    if (s->slowlog_cap <= 0) {
        pthread_mutex_unlock(&s->slowlog_lock);
        goto fail;
    }
    e.id = s->slowlog_next_id++;
    s->slowlog_head = (s->slowlog_head + 1) % s->slowlog_cap;
    slowlog_entry_free(&s->slowlog[s->slowlog_head]);
    s->slowlog[s->slowlog_head] = e;
    if (s->slowlog_len < s->slowlog_cap) {
        s->slowlog_len++;
    }
    pthread_mutex_unlock(&s->slowlog_lock);
    return;
fail:
    slowlog_entry_free(&e);
}

void
srv_slowlog_reset(struct srv *s)
{
    pthread_mutex_lock(&s->slowlog_lock);
    for (long long i = 0; i < s->slowlog_cap; i++) {
        slowlog_entry_free(&s->slowlog[i]);
    }
    s->slowlog_len = 0;
    s->slowlog_head = 0;
    pthread_mutex_unlock(&s->slowlog_lock);
}

void
srv_slowlog_resize(struct srv *s, long long cap)
{
    struct srv_slowlog_entry *ring;
    long long keep;

    if (cap < 0) {
        cap = 0;
    }
    ring = calloc((size_t)(cap > 0 ? cap : 1), sizeof(*ring));
    if (ring == NULL) {
        return;
    }
    pthread_mutex_lock(&s->slowlog_lock);
    keep = s->slowlog_len < cap ? s->slowlog_len : cap;
    /* Copy the newest `keep` entries, newest at the new head. */
    for (long long i = 0; i < s->slowlog_len; i++) {
        long long from = (s->slowlog_head - i + s->slowlog_cap) %
                         s->slowlog_cap;
        if (i < keep) {
            ring[keep - 1 - i] = s->slowlog[from];
        } else {
            slowlog_entry_free(&s->slowlog[from]);
        }
    }
    free(s->slowlog);
    s->slowlog = ring;
    s->slowlog_cap = cap;
    s->slowlog_len = keep;
    s->slowlog_head = keep > 0 ? keep - 1 : (cap > 0 ? cap - 1 : 0);
    pthread_mutex_unlock(&s->slowlog_lock);
}

struct rk_slice
srv_clock_text(struct srv *s, char *buf)
{
    int n = snprintf(buf, SRV_CLOCK_TEXT, "%llu",
                     (unsigned long long)store_clock_next(&s->clock));

    return (struct rk_slice){ buf, (size_t)n };
}
