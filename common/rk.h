/*
 * common/rk.h - the few types and return codes every ringkv library shares.
 *
 * DESIGN.md lists resp/, storage/, cluster/ and server/; this header-only
 * folder exists so that resp/ and storage/ (which may not include each
 * other) agree on one slice type and one set of return codes.
 */
#ifndef RK_H
#define RK_H

#include <stddef.h>

#define RK_OK       0   /* success */
#define RK_ERR     -1   /* generic failure; details in an error string */
#define RK_ENOMEM  -2   /* allocation failed */
#define RK_EAGAIN  -3   /* not ready yet, retry later */
#define RK_EPROTO  -4   /* malformed input from a peer or client */

/* A borrowed view of bytes; never owns ptr, never NUL-terminated. */
struct rk_slice {
    const char *ptr;
    size_t len;
};

#endif /* RK_H */
