/*
 * tests/integration/harness_int.h - private to the harness: what
 * harness_proc.c and harness_assert.c share. Suites include harness.h only.
 */
#ifndef RK_HARNESS_INT_H
#define RK_HARNESS_INT_H

/*
 * Ignore SIGPIPE in this process (idempotent): tests write to sockets the
 * server has closed. Called before every connection and spawn.
 */
void harness_ignore_sigpipe(void);

#endif /* RK_HARNESS_INT_H */
