/*
 * server/reply.h - how handlers reply. Every client-visible error goes
 * through reply_error(), which adds "ERR " unless the text brings its own
 * code ("-WRONGTYPE ...", "-NOQUORUM ..."), keeps CR/LF out, marks the
 * command failed and counts the code for INFO errorstats.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

struct cmd_ctx;

void reply_ok(struct cmd_ctx *x);
void reply_status(struct cmd_ctx *x, const char *s);
void reply_error(struct cmd_ctx *x, const char *msg);
void reply_errorf(struct cmd_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reply_int(struct cmd_ctx *x, long long v);
void reply_bulk(struct cmd_ctx *x, const void *p, size_t n);
void reply_bulk_str(struct cmd_ctx *x, const char *s);
void reply_null(struct cmd_ctx *x);          /* "$-1" */
void reply_null_array(struct cmd_ctx *x);    /* "*-1" */
void reply_array(struct cmd_ctx *x, long long n);

/* Redis's common errors, word for word. */
void reply_syntax_error(struct cmd_ctx *x);      /* "syntax error" */
void reply_not_integer(struct cmd_ctx *x);
void reply_arity_error(struct cmd_ctx *x, const char *name);
void reply_unknown_subcommand(struct cmd_ctx *x, const char *help);

#endif /* REPLY_H */
