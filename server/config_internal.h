/*
 * server/config_internal.h - what config.c (the settings table, values,
 * CONFIG GET/SET) gives config_parse.c (the config file and flag readers);
 * nothing else includes it (the public API is config.h). The readers never
 * see the table: they hand each name and value text to cfg_apply().
 */
#ifndef SRV_CONFIG_INTERNAL_H
#define SRV_CONFIG_INTERNAL_H

#include <stddef.h>

struct srv_config;

/* The program name that starts every startup message. */
#define PROG "ringkv-server"

/* Whether c is ASCII white space: space, \t, \n, \r, \v or \f. */
int cfg_ascii_space(int c);

/* How cfg_apply() failed. */
enum {
    APPLY_OK,
    APPLY_UNKNOWN,      /* no such setting */
    APPLY_READONLY,     /* derived setting */
    APPLY_BADVALUE,     /* why holds the reason */
};

/*
 * Set name (any case, or an alias) to value (vlen bytes, NUL-terminated;
 * an inner NUL is a bad value) from the config file or a flag, at startup
 * and without cfg->lock. Returns an APPLY_* code; on APPLY_BADVALUE why
 * (whylen bytes) gets the reason. Nothing is changed unless APPLY_OK.
 */
int cfg_apply(struct srv_config *cfg, const char *name, const char *value,
              size_t vlen, char *why, size_t whylen);

/*
 * Checks across settings once the file and flags are in (quorums against
 * replicas, port against cluster-port), then sets the derived dir.
 * Returns 0, or -1 with one line "ringkv-server: ..." in err.
 */
int cfg_finish(struct srv_config *cfg, char *err, size_t errlen);

#endif /* SRV_CONFIG_INTERNAL_H */
