/*
 * server/reply.c - reply helpers and the one funnel for error replies.
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "resp.h"
#include "worker.h"

void
reply_ok(struct cmd_ctx *x)
{
    resp_add_raw(x->out, "+OK\r\n", 5);
}

void
reply_status(struct cmd_ctx *x, const char *s)
{
    resp_add_status(x->out, s);
}

void
reply_error(struct cmd_ctx *x, const char *msg)
{
    const char *code = msg;
    size_t len;

    if (msg[0] == '-') {
        /* The text brings its own code: "-WRONGTYPE ...". */
        msg++;
        code = msg;
        resp_add_error(x->out, msg, strlen(msg));
    } else {
        /* resp_add_error() keeps CR/LF out of the text. */
        size_t mlen = strlen(msg);
        char stack[512];
        char *p = stack;
        if (mlen + 4 > sizeof(stack)) {
            p = malloc(mlen + 4);
        }
        if (p != NULL) {
            memcpy(p, "ERR ", 4);
            memcpy(p + 4, msg, mlen);
            resp_add_error(x->out, p, mlen + 4);
            if (p != stack) {
                free(p);
            }
        }
        code = "ERR";
    }
    len = strcspn(code, " ");
    x->failed = 1;
    if (x->w != NULL) {
        worker_count_error(x->w, code, len);
    }
}

void
reply_errorf(struct cmd_ctx *x, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    reply_error(x, buf);
}

void
reply_int(struct cmd_ctx *x, long long v)
{
    resp_add_int(x->out, v);
}

void
reply_bulk(struct cmd_ctx *x, const void *p, size_t n)
{
    resp_add_bulk(x->out, p, n);
}

void
reply_bulk_str(struct cmd_ctx *x, const char *s)
{
    resp_add_bulk_str(x->out, s);
}

void
reply_null(struct cmd_ctx *x)
{
    resp_add_null(x->out);
}

void
reply_null_array(struct cmd_ctx *x)
{
    resp_add_null_array(x->out);
}

void
reply_array(struct cmd_ctx *x, long long n)
{
    resp_add_array(x->out, n);
}

void
reply_syntax_error(struct cmd_ctx *x)
{
    reply_error(x, "syntax error");
}

void
reply_not_integer(struct cmd_ctx *x)
{
    reply_error(x, "value is not an integer or out of range");
}

void
reply_arity_error(struct cmd_ctx *x, const char *name)
{
    reply_errorf(x, "wrong number of arguments for '%s' command", name);
}

void
reply_unknown_subcommand(struct cmd_ctx *x, const char *help)
{
    char sub[129];
    size_t n = 0;

    if (x->argc > 1) {
        n = x->argv[1].len < 128 ? x->argv[1].len : 128;
        memcpy(sub, x->argv[1].ptr, n);
    }
    sub[n] = '\0';
    reply_errorf(x, "unknown subcommand '%s'. Try %s HELP.", sub, help);
}
