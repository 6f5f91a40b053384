/*
 * tests/integration/harness_assert.c - the client side of the integration
 * harness (harness.h): hiredis connections, the RESP command and reply
 * assertion helpers (rk_cmd_*, rk_assert_*, rk_reply_describe()), raw-socket
 * helpers for protocol tests, and INFO field lookup.
 */
#include "harness.h"
#include "harness_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- connections and replies ----------------------------------------- */

redisContext *
rk_try_connect(struct rk_server *srv)
{
    struct timeval tv = { 5, 0 };
    redisContext *c;

    harness_ignore_sigpipe();
    c = redisConnectWithTimeout("127.0.0.1", srv->port, tv);
    if (c == NULL) {
        return NULL;
    }
    if (c->err) {
        redisFree(c);
        return NULL;
    }
    tv.tv_sec = 10;
    redisSetTimeout(c, tv);
    return c;
}

redisContext *
rk_connect(struct rk_server *srv)
{
    struct timeval tv = { 5, 0 };
    redisContext *c;

    harness_ignore_sigpipe();
    c = redisConnectWithTimeout("127.0.0.1", srv->port, tv);
    ck_assert_msg(c != NULL, "redisConnect: out of memory");
    if (c->err) {
        char err[256];

        snprintf(err, sizeof(err), "%s", c->errstr);
        redisFree(c);
        ck_abort_msg("cannot connect to 127.0.0.1:%d: %s", srv->port, err);
    }
    tv.tv_sec = 10;
    redisSetTimeout(c, tv);
    return c;
}

char *
rk_reply_describe(const redisReply *r, char *buf, size_t len)
{
    const char *kind;
    size_t i, o = 0, slen;
    char text[160];

    if (r == NULL) {
        snprintf(buf, len, "no reply (connection error)");
        return buf;
    }
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        snprintf(buf, len, "integer %lld", r->integer);
        return buf;
    case REDIS_REPLY_NIL:
        snprintf(buf, len, "nil");
        return buf;
    case REDIS_REPLY_ARRAY:
        snprintf(buf, len, "array of %zu", r->elements);
        return buf;
    case REDIS_REPLY_STATUS:
        kind = "status";
        break;
    case REDIS_REPLY_ERROR:
        kind = "error";
        break;
    default:
        kind = "bulk";
        break;
    }
    slen = (size_t)r->len;
    for (i = 0; i < slen && o + 5 < sizeof(text); i++) {
        unsigned char ch = (unsigned char)r->str[i];

        if (ch >= 32 && ch < 127 && ch != '\\') {
            text[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(text + o, sizeof(text) - o, "\\x%02x", ch);
        }
    }
    text[o] = '\0';
    snprintf(buf, len, "%s '%s'%s (%zu bytes)", kind, text,
             i < slen ? "..." : "", slen);
    return buf;
}

static redisReply *
vcmd(const char *file, int line, redisContext *c, const char *fmt,
     va_list ap)
{
    redisReply *r = redisvCommand(c, fmt, ap);

    if (r == NULL) {
        ck_abort_msg("%s:%d: '%s': connection error: %s", file, line, fmt,
                     c->errstr[0] ? c->errstr : "(none)");
    }
    return r;
}

redisReply *
rk_cmd_at(const char *file, int line, redisContext *c, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(file, line, c, fmt, ap);
    va_end(ap);
    return r;
}

redisReply *
rk_get_reply_at(const char *file, int line, redisContext *c)
{
    void *r = NULL;

    if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
        ck_abort_msg("%s:%d: redisGetReply: %s", file, line,
                     c->errstr[0] ? c->errstr : "(none)");
    }
    return r;
}

static void
expect_text(const char *file, int line, const redisReply *r, int type,
            const char *what, const char *text)
{
    char got[512];

    if (r == NULL || r->type != type || (size_t)r->len != strlen(text)
        || memcmp(r->str, text, strlen(text)) != 0) {
        ck_abort_msg("%s:%d: expected %s '%s', got %s", file, line, what,
                     text, rk_reply_describe(r, got, sizeof(got)));
    }
}

void
rk_assert_status_at(const char *file, int line, const redisReply *r,
                    const char *status)
{
    expect_text(file, line, r, REDIS_REPLY_STATUS, "status", status);
}

void
rk_assert_error_at(const char *file, int line, const redisReply *r,
                   const char *err)
{
    expect_text(file, line, r, REDIS_REPLY_ERROR, "error", err);
}

void
rk_assert_bulk_at(const char *file, int line, const redisReply *r,
                  const char *s)
{
    expect_text(file, line, r, REDIS_REPLY_STRING, "bulk", s);
}

void
rk_assert_int_at(const char *file, int line, const redisReply *r,
                 long long n)
{
    char got[512];

    if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer != n) {
        ck_abort_msg("%s:%d: expected integer %lld, got %s", file, line, n,
                     rk_reply_describe(r, got, sizeof(got)));
    }
}

void
rk_assert_nil_at(const char *file, int line, const redisReply *r)
{
    char got[512];

    if (r == NULL || r->type != REDIS_REPLY_NIL) {
        ck_abort_msg("%s:%d: expected nil, got %s", file, line,
                     rk_reply_describe(r, got, sizeof(got)));
    }
}

void
rk_assert_array_at(const char *file, int line, const redisReply *r, long n)
{
    char got[512];

    if (r == NULL || r->type != REDIS_REPLY_ARRAY
        || (n >= 0 && r->elements != (size_t)n)) {
        ck_abort_msg("%s:%d: expected array of %ld, got %s", file, line, n,
                     rk_reply_describe(r, got, sizeof(got)));
    }
}

void
rk_cmd_status_at(const char *file, int line, redisContext *c,
                 const char *status, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(file, line, c, fmt, ap);
    va_end(ap);
    rk_assert_status_at(file, line, r, status);
    freeReplyObject(r);
}

void
rk_cmd_error_at(const char *file, int line, redisContext *c,
                const char *err, const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(file, line, c, fmt, ap);
    va_end(ap);
    rk_assert_error_at(file, line, r, err);
    freeReplyObject(r);
}

void
rk_cmd_int_at(const char *file, int line, redisContext *c, long long n,
              const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(file, line, c, fmt, ap);
    va_end(ap);
    rk_assert_int_at(file, line, r, n);
    freeReplyObject(r);
}

void
rk_cmd_bulk_at(const char *file, int line, redisContext *c, const char *s,
               const char *fmt, ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(file, line, c, fmt, ap);
    va_end(ap);
    rk_assert_bulk_at(file, line, r, s);
    freeReplyObject(r);
}

void
rk_cmd_nil_at(const char *file, int line, redisContext *c, const char *fmt,
              ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = vcmd(file, line, c, fmt, ap);
    va_end(ap);
    rk_assert_nil_at(file, line, r);
    freeReplyObject(r);
}

/* ---- raw sockets ------------------------------------------------------- */

int
rk_raw_connect(const struct rk_server *srv)
{
    struct sockaddr_in sa;
    int fd;

    harness_ignore_sigpipe();
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)srv->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;

        close(fd);
        ck_abort_msg("connect 127.0.0.1:%d: %s", srv->port, strerror(e));
    }
    return fd;
}

void
rk_raw_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        ck_assert_msg(n > 0, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

void
rk_raw_send_str(int fd, const char *s)
{
    rk_raw_send(fd, s, strlen(s));
}

size_t
rk_raw_read(int fd, char *buf, size_t len, int timeout_ms)
{
    long long deadline = rk_now_ms() + timeout_ms;
    size_t got = 0;

    while (got < len) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        long long left = deadline - rk_now_ms();
        ssize_t n;

        if (left <= 0) {
            break;
        }
        n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        n = recv(fd, buf + got, len - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

void
rk_raw_expect_at(const char *file, int line, int fd, const char *expected,
                 int timeout_ms)
{
    size_t len = strlen(expected);
    char *buf = malloc(len + 1);
    size_t got;

    ck_assert(buf != NULL);
    got = rk_raw_read(fd, buf, len, timeout_ms);
    if (got != len || memcmp(buf, expected, len) != 0) {
        char shown[400];
        size_t i, o = 0;

        for (i = 0; i < got && o + 5 < sizeof(shown); i++) {
            unsigned char ch = (unsigned char)buf[i];

            if (ch >= 32 && ch < 127) {
                shown[o++] = (char)ch;
            } else {
                o += (size_t)snprintf(shown + o, sizeof(shown) - o,
                                      "\\x%02x", ch);
            }
        }
        shown[o] = '\0';
        free(buf);
        ck_abort_msg("%s:%d: expected %zu bytes '%s', got %zu bytes '%s'",
                     file, line, len, expected, got, shown);
    }
    free(buf);
}

int
rk_raw_wait_closed(int fd, int timeout_ms)
{
    long long deadline = rk_now_ms() + timeout_ms;
    char buf[65536];

    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        long long left = deadline - rk_now_ms();
        ssize_t n;

        if (left <= 0) {
            return 0;
        }
        n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            return 1;
        }
    }
}

/* ---- INFO -------------------------------------------------------------- */

int
rk_info_field(const char *info, const char *field, char *out, size_t outlen)
{
    size_t flen = strlen(field);
    const char *p = info;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
            const char *v = p + flen + 1;
            size_t n = strcspn(v, "\r\n");

            if (n >= outlen) {
                n = outlen - 1;
            }
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, '\n');
        if (p != NULL) {
            p++;
        }
    }
    return 0;
}
