/*
 * server/config.c - the settings table and everything that walks it:
 * defaults, parsing and checking values, the --help text, CONFIG GET and
 * CONFIG SET. The config file reader and the command-line flag parser are
 * in config_parse.c; they set values only through cfg_apply() and
 * cfg_finish() (config_internal.h). Redis's glob matcher, which CONFIG GET
 * uses, is in glob.c.
 *
 * A setting is one row of cfg_rows[]. Values are always parsed by
 * cfg_parse() into a struct cfg_val first and only then stored, so CONFIG
 * SET can check every pair before it changes anything (all or nothing), and
 * the defaults go through the same parser as a config file.
 */
#include "config.h"
#include "config_internal.h"
#include "glob.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"
#include "rk.h"

/*
 * Values of enum store_fsync (storage/store.h). Kept here because the unit
 * test builds this file without storage/ on the include path; the order
 * there is NO, EVERYSEC, ALWAYS.
 */
#define CFG_FSYNC_NO        0
#define CFG_FSYNC_EVERYSEC  1
#define CFG_FSYNC_ALWAYS    2

/* The output-buffer classes Redis prints after "normal" (its defaults). */
#define CFG_OBUF_OTHERS \
    "slave 268435456 67108864 60 pubsub 33554432 8388608 60"

#define CFG_MAX_REPLICAS 64

enum cfg_type {
    CFG_STRING,   /* char *: any text, narrowed by an optional check */
    CFG_INT,      /* int: decimal integer in [min, max] */
    CFG_LL,       /* long long: decimal integer in [min, max] */
    CFG_MEMORY,   /* long long: bytes with Redis's units, in [min, max] */
    CFG_ENUM,     /* int: one of words[], stored as values[] */
    CFG_WORD,     /* char *: one of words[], stored lower case */
    CFG_YESNO,    /* char *: "yes" or "no" in any case, stored lower case */
    CFG_OBUF,     /* client-output-buffer-limit: the three obuf_* fields */
};

#define CFG_RUNTIME  (1u << 0)  /* CONFIG SET may change it */
#define CFG_READONLY (1u << 1)  /* derived: no file, flag or CONFIG SET */
#define CFG_HIDDEN   (1u << 2)  /* for tests: not in --help, and CONFIG
                                 * GET shows it only by its exact name */

/*
 * Extra test of a string value after its type accepted it; may rewrite the
 * value in place (never longer). Returns 0, or -1 with the reason in why.
 */
typedef int (*cfg_check_fn)(char *value, char *why, size_t whylen);

struct cfg_row {
    const char *name;
    const char *alias;          /* a second name (appendfsync), or NULL */
    enum cfg_type type;
    size_t off;                 /* offsetof(struct srv_config, field) */
    const char *def;            /* default, written as in a config file */
    unsigned flags;             /* CFG_RUNTIME, CFG_READONLY, CFG_HIDDEN */
    long long min;              /* CFG_INT, CFG_LL, CFG_MEMORY bounds */
    long long max;
    const char *const *words;   /* CFG_ENUM, CFG_WORD: NULL-terminated */
    const int *values;          /* CFG_ENUM: what each word stores */
    cfg_check_fn check;         /* string types: extra test, or NULL */
    unsigned changed;           /* SRV_CFG_CHANGED_* that CONFIG SET sets */
};

/* One parsed value, owned by the caller until cfg_store() takes it. */
struct cfg_val {
    long long n;                /* CFG_INT, CFG_LL, CFG_MEMORY, CFG_ENUM */
    long long obuf[3];          /* CFG_OBUF: hard, soft, soft seconds */
    int obuf_set;               /* CFG_OBUF: the normal class was given */
    char *s;                    /* string types: heap copy */
};

static int check_nonempty(char *v, char *why, size_t whylen);
static int check_name(char *v, char *why, size_t whylen);
static int check_seeds(char *v, char *why, size_t whylen);
static int check_quorum(char *v, char *why, size_t whylen);
static int check_save(char *v, char *why, size_t whylen);
static int check_appendonly(char *v, char *why, size_t whylen);

static const char *const fsync_words[] = { "everysec", "always", "no", NULL };
static const int fsync_values[] = {
    CFG_FSYNC_EVERYSEC, CFG_FSYNC_ALWAYS, CFG_FSYNC_NO
};
static const char *const loglevel_words[] = {
    "debug", "verbose", "notice", "warning", NULL
};

#define OFF(field) offsetof(struct srv_config, field)
#define MB (1024LL * 1024)

/* Every setting, in the order CONFIG GET lists them. */
static const struct cfg_row cfg_rows[] = {
    { .name = "bind", .type = CFG_STRING, .off = OFF(bind),
      .def = "127.0.0.1", .check = check_nonempty },
    { .name = "port", .type = CFG_INT, .off = OFF(port),
      .def = "6379", .min = 1, .max = 65535 },
    { .name = "data-dir", .type = CFG_STRING, .off = OFF(data_dir),
      .def = "./data", .check = check_nonempty },
    { .name = "dir", .type = CFG_STRING, .off = OFF(dir),
      .def = "./data", .flags = CFG_READONLY },
    { .name = "node-id", .type = CFG_STRING, .off = OFF(node_id),
      .def = "", .check = check_name },
    { .name = "cluster-port", .type = CFG_INT, .off = OFF(cluster_port),
      .def = "0", .min = 0, .max = 65535 },
    { .name = "seeds", .type = CFG_STRING, .off = OFF(seeds),
      .def = "", .check = check_seeds },
    { .name = "zone", .type = CFG_STRING, .off = OFF(zone),
      .def = "default", .check = check_name },
    { .name = "replicas", .type = CFG_INT, .off = OFF(replicas),
      .def = "3", .min = 1, .max = CFG_MAX_REPLICAS },
    { .name = "read-quorum", .type = CFG_STRING, .off = OFF(read_quorum),
      .def = "QUORUM", .flags = CFG_RUNTIME, .check = check_quorum,
      .changed = SRV_CFG_CHANGED_QUORUM },
    { .name = "write-quorum", .type = CFG_STRING, .off = OFF(write_quorum),
      .def = "QUORUM", .flags = CFG_RUNTIME, .check = check_quorum,
      .changed = SRV_CFG_CHANGED_QUORUM },
    { .name = "fsync", .alias = "appendfsync", .type = CFG_ENUM,
      .off = OFF(fsync), .def = "everysec", .flags = CFG_RUNTIME,
      .words = fsync_words, .values = fsync_values,
      .changed = SRV_CFG_CHANGED_FSYNC },
    { .name = "cache-size", .type = CFG_MEMORY, .off = OFF(cache_size),
      .def = "256mb", .flags = CFG_RUNTIME, .min = 0, .max = LLONG_MAX,
      .changed = SRV_CFG_CHANGED_CACHE },
    { .name = "threads", .type = CFG_INT, .off = OFF(threads),
      .def = "0", .min = 0, .max = 64 },
    { .name = "requirepass", .type = CFG_STRING, .off = OFF(requirepass),
      .def = "", .flags = CFG_RUNTIME },
    { .name = "cluster-secret", .type = CFG_STRING,
      .off = OFF(cluster_secret), .def = "" },
    { .name = "maxclients", .type = CFG_LL, .off = OFF(maxclients),
      .def = "10000", .flags = CFG_RUNTIME, .min = 1, .max = UINT_MAX },
    { .name = "timeout", .type = CFG_LL, .off = OFF(timeout),
      .def = "0", .flags = CFG_RUNTIME, .min = 0, .max = INT_MAX },
    { .name = "client-query-buffer-limit", .type = CFG_MEMORY,
      .off = OFF(query_buffer_limit), .def = "1gb", .flags = CFG_RUNTIME,
      .min = MB, .max = LLONG_MAX },
    { .name = "proto-max-bulk-len", .type = CFG_MEMORY,
      .off = OFF(proto_max_bulk_len), .def = "512mb", .flags = CFG_RUNTIME,
      .min = MB, .max = LLONG_MAX, .changed = SRV_CFG_CHANGED_BULK },
    { .name = "client-output-buffer-limit", .type = CFG_OBUF,
      .def = "normal 0 0 0", .flags = CFG_RUNTIME },
    { .name = "slowlog-log-slower-than", .type = CFG_LL,
      .off = OFF(slowlog_log_slower_than), .def = "10000",
      .flags = CFG_RUNTIME, .min = -1, .max = LLONG_MAX },
    { .name = "slowlog-max-len", .type = CFG_LL, .off = OFF(slowlog_max_len),
      .def = "128", .flags = CFG_RUNTIME, .min = 0, .max = LLONG_MAX,
      .changed = SRV_CFG_CHANGED_SLOWLOG },
    { .name = "tcp-backlog", .type = CFG_INT, .off = OFF(tcp_backlog),
      .def = "511", .min = 0, .max = INT_MAX },
    { .name = "tcp-keepalive", .type = CFG_INT, .off = OFF(tcp_keepalive),
      .def = "300", .flags = CFG_RUNTIME, .min = 0, .max = INT_MAX },
    { .name = "logfile", .type = CFG_STRING, .off = OFF(logfile),
      .def = "" },
    { .name = "loglevel", .type = CFG_WORD, .off = OFF(loglevel),
      .def = "notice", .flags = CFG_RUNTIME, .words = loglevel_words,
      .changed = SRV_CFG_CHANGED_LOG },
    { .name = "dbfilename", .type = CFG_STRING, .off = OFF(dbfilename),
      .def = "dump.rdb", .check = check_nonempty },
    { .name = "save", .type = CFG_STRING, .off = OFF(save),
      .def = "", .flags = CFG_RUNTIME, .check = check_save },
    { .name = "appendonly", .type = CFG_YESNO, .off = OFF(appendonly),
      .def = "yes", .flags = CFG_RUNTIME, .check = check_appendonly },
    { .name = "databases", .type = CFG_LL, .off = OFF(databases),
      .def = "1", .flags = CFG_READONLY, .min = 1, .max = 1 },
    { .name = "maxmemory", .type = CFG_MEMORY, .off = OFF(maxmemory),
      .def = "0", .flags = CFG_READONLY, .min = 0, .max = 0 },
    { .name = "maxmemory-policy", .type = CFG_STRING,
      .off = OFF(maxmemory_policy), .def = "noeviction",
      .flags = CFG_READONLY },
    { .name = "tombstone-grace", .type = CFG_LL, .off = OFF(tombstone_grace),
      .def = "864000", .min = 0, .max = LLONG_MAX },
    { .name = "request-timeout", .type = CFG_LL,
      .off = OFF(request_timeout), .def = "2000", .flags = CFG_RUNTIME,
      .min = 1, .max = 3600 * 1000 },
    { .name = "sloppy-quorum", .type = CFG_YESNO, .off = OFF(sloppy_quorum),
      .def = "no", .flags = CFG_RUNTIME,
      .changed = SRV_CFG_CHANGED_QUORUM },
    { .name = "forward-writes", .type = CFG_YESNO,
      .off = OFF(forward_writes), .def = "yes", .flags = CFG_RUNTIME,
      .changed = SRV_CFG_CHANGED_QUORUM },
    { .name = "hint-window", .type = CFG_LL, .off = OFF(hint_window),
      .def = "10800", .flags = CFG_RUNTIME, .min = 0, .max = LLONG_MAX },
    /* Not in DESIGN.md's contract: tests lower it to detect failures
     * faster. */
    { .name = "gossip-interval-ms", .type = CFG_LL,
      .off = OFF(gossip_interval_ms), .def = "1000", .flags = CFG_HIDDEN,
      .min = 10, .max = 60000 },
};

#define CFG_NROWS (sizeof(cfg_rows) / sizeof(cfg_rows[0]))

/* The field of row inside cfg, as a pointer to type. */
#define CFG_FIELD(cfg, row, type) \
    ((type *)(void *)((char *)(cfg) + (row)->off))

int
cfg_ascii_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/*
 * Strict decimal integer as Redis's string2ll reads it: optional '-', no
 * '+', no spaces, no leading zeros, no overflow. Returns 0 or -1.
 */
static int
parse_ll(const char *s, long long *out)
{
    const char *p = s;
    unsigned long long v = 0;
    unsigned long long lim = LLONG_MAX;
    int neg = 0;

    if (p[0] == '0' && p[1] == '\0') {
        *out = 0;
        return 0;
    }
    if (*p == '-') {
        neg = 1;
        lim = (unsigned long long)LLONG_MAX + 1;
        p++;
    }
    if (*p < '1' || *p > '9') {
        return -1;
    }
    for (; *p != '\0'; p++) {
        unsigned d;

        if (*p < '0' || *p > '9') {
            return -1;
        }
        d = (unsigned)(*p - '0');
        if (v > (lim - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (!neg) {
        *out = (long long)v;
    } else if (v == (unsigned long long)LLONG_MAX + 1) {
        *out = LLONG_MIN;
    } else {
        *out = -(long long)v;
    }
    return 0;
}

/*
 * Parse a size with Redis's units (memtoll): digits, then nothing or b, k
 * (1000), kb (1024), m, mb, g, gb in any case. Returns 0 with *out set, or
 * -1 (no digits, a sign, an unknown unit, or overflow).
 */
int
srv_parse_memory(const char *s, long long *out)
{
    static const struct {
        const char *unit;
        long long mul;
    } units[] = {
        { "", 1 }, { "b", 1 },
        { "k", 1000 }, { "kb", 1024 },
        { "m", 1000 * 1000 }, { "mb", 1024 * 1024 },
        { "g", 1000LL * 1000 * 1000 }, { "gb", 1024LL * 1024 * 1024 },
    };
    const char *u = s;
    unsigned long long v = 0;
    size_t i;

    while (*u >= '0' && *u <= '9') {
        unsigned d = (unsigned)(*u - '0');

        if (v > ((unsigned long long)LLONG_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
        u++;
    }
    if (u == s) {
        return -1;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].unit) == 0) {
            if (v > (unsigned long long)(LLONG_MAX / units[i].mul)) {
                return -1;
            }
            *out = (long long)v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

/* Case-insensitive comparison of a counted name with a C string. */
static int
name_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    return alen == blen && strncasecmp(a, b, alen) == 0;
}

/*
 * The row named name (or whose alias it is), ignoring case; *as gets the
 * spelling from the table that matched. NULL if unknown.
 */
static const struct cfg_row *
cfg_lookup(const char *name, size_t len, const char **as)
{
    size_t i;

    for (i = 0; i < CFG_NROWS; i++) {
        const struct cfg_row *row = &cfg_rows[i];

        if (name_eq(name, len, row->name)) {
            *as = row->name;
            return row;
        }
        if (row->alias != NULL && name_eq(name, len, row->alias)) {
            *as = row->alias;
            return row;
        }
    }
    return NULL;
}

static int
check_nonempty(char *v, char *why, size_t whylen)
{
    if (v[0] == '\0') {
        snprintf(why, whylen, "argument must not be empty");
        return -1;
    }
    return 0;
}

/* node-id and zone: no spaces or control bytes (peers print them). */
static int
check_name(char *v, char *why, size_t whylen)
{
    const unsigned char *p;

    for (p = (const unsigned char *)v; *p != '\0'; p++) {
        if (*p <= ' ' || *p == 0x7f) {
            snprintf(why, whylen,
                     "argument must not contain spaces or control "
                     "characters");
            return -1;
        }
    }
    return 0;
}

/* One seed "HOST:PORT" (len bytes at item); HOST may be [IPv6]. */
static int
seed_ok(const char *item, size_t len)
{
    const char *colon = NULL;
    const char *p;
    char port[8];
    long long n;
    size_t plen;

    for (p = item; p < item + len; p++) {
        if (*p == ':') {
            colon = p;
        }
    }
    if (colon == NULL || colon == item || memchr(item, ' ', len) != NULL ||
        (item[0] == '[' && colon[-1] != ']')) {
        return 0;
    }
    plen = (size_t)(item + len - colon - 1);
    if (plen == 0 || plen >= sizeof(port)) {
        return 0;
    }
    memcpy(port, colon + 1, plen);
    port[plen] = '\0';
    return parse_ll(port, &n) == 0 && n >= 1 && n <= 65535;
}

/* seeds: "" or HOST:PORT[,HOST:PORT...]. */
static int
check_seeds(char *v, char *why, size_t whylen)
{
    const char *item = v;

    if (v[0] == '\0') {
        return 0;
    }
    for (;;) {
        const char *end = strchr(item, ',');
        size_t len = end ? (size_t)(end - item) : strlen(item);

        if (!seed_ok(item, len)) {
            snprintf(why, whylen, "bad seed '%.*s': expected HOST:PORT",
                     (int)len, item);
            return -1;
        }
        if (end == NULL) {
            return 0;
        }
        item = end + 1;
    }
}

/* ONE, QUORUM or ALL in any case (stored upper case), or 1..64. */
static int
check_quorum(char *v, char *why, size_t whylen)
{
    long long n;
    char *p;

    if (strcasecmp(v, "one") == 0 || strcasecmp(v, "quorum") == 0 ||
        strcasecmp(v, "all") == 0) {
        for (p = v; *p != '\0'; p++) {
            if (*p >= 'a' && *p <= 'z') {
                *p = (char)(*p - 'a' + 'A');
            }
        }
        return 0;
    }
    if (parse_ll(v, &n) == 0 && n >= 1 && n <= CFG_MAX_REPLICAS) {
        return 0;
    }
    snprintf(why, whylen,
             "argument must be ONE, QUORUM, ALL or a number between 1 and "
             "%d inclusive", CFG_MAX_REPLICAS);
    return -1;
}

/* A numeric quorum cannot ask for more answers than there are replicas. */
static int
quorum_fits(const char *q, int replicas)
{
    long long n;

    return parse_ll(q, &n) != 0 || n <= replicas;
}

/*
 * save: "" or pairs "SECONDS CHANGES" (seconds >= 1, changes >= 0), as
 * Redis checks them; rewritten with single spaces as Redis prints it.
 */
static int
check_save(char *v, char *why, size_t whylen)
{
    char *r = v;
    char *w = v;
    size_t count = 0;
    int rc = -1;

    for (;;) {
        char *start;
        long long n;
        char c;

        while (cfg_ascii_space((unsigned char)*r)) {
            r++;
        }
        if (*r == '\0') {
            break;
        }
        start = r;
        while (*r != '\0' && !cfg_ascii_space((unsigned char)*r)) {
            r++;
        }
        c = *r;
        *r = '\0';
        if (parse_ll(start, &n) != 0 || n < (count % 2 == 0 ? 1 : 0)) {
            goto out;
        }
        *r = c;
        if (count > 0) {
            *w++ = ' ';
        }
        memmove(w, start, (size_t)(r - start));
        w += r - start;
        count++;
    }
    *w = '\0';
    if (count % 2 == 0) {
        rc = 0;
    }
out:
    if (rc != 0) {
        snprintf(why, whylen, "Invalid save parameters");
    }
    return rc;
}

/* Every write goes to the WAL; appendonly only reads "yes". */
static int
check_appendonly(char *v, char *why, size_t whylen)
{
    if (strcmp(v, "yes") != 0) {
        snprintf(why, whylen,
                 "argument must be 'yes' (ringkv always logs every write)");
        return -1;
    }
    return 0;
}

/*
 * client-output-buffer-limit: groups of "CLASS HARD SOFT SECONDS" split on
 * single spaces, as Redis checks them. Only the normal class is kept; the
 * others are checked and dropped.
 */
static int
parse_obuf(const char *v, struct cfg_val *val, char *why, size_t whylen)
{
    const char *p;
    size_t count = 1;
    size_t j;
    int normal = 0;

    if (*v == '\0') {
        return 0;
    }
    for (p = v; *p != '\0'; p++) {
        count += *p == ' ';
    }
    if (count % 4 != 0) {
        snprintf(why, whylen,
                 "Wrong number of arguments in buffer limit configuration.");
        return -1;
    }
    p = v;
    for (j = 0; j < count; j++) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char word[32];
        long long n;

        if (j % 4 == 0) {
            normal = name_eq(p, len, "normal");
            if (!normal && !name_eq(p, len, "slave") &&
                !name_eq(p, len, "replica") && !name_eq(p, len, "pubsub")) {
                snprintf(why, whylen, "Invalid client class specified in "
                         "buffer limit configuration.");
                return -1;
            }
        } else {
            if (len >= sizeof(word)) {
                goto out;
            }
            memcpy(word, p, len);
            word[len] = '\0';
            if (srv_parse_memory(word, &n) != 0) {
                goto out;
            }
            if (normal) {
                val->obuf[j % 4 - 1] = n;
                val->obuf_set = 1;
            }
        }
        p = end ? end + 1 : p + len;
    }
    return 0;
out:
    snprintf(why, whylen, "Error in hard, soft or soft_seconds setting in "
             "buffer limit configuration.");
    return -1;
}

/*
 * Parse the text v for row into *val (which then owns any string). Returns
 * 0, or -1 with Redis's reason in why and nothing left to free.
 */
static int
cfg_parse(const struct cfg_row *row, const char *v, struct cfg_val *val,
          char *why, size_t whylen)
{
    const char *word = v;
    int rc = -1;
    size_t i;

    memset(val, 0, sizeof(*val));
    switch (row->type) {
    case CFG_INT:
    case CFG_LL:
    case CFG_MEMORY:
        if (row->type == CFG_MEMORY ? srv_parse_memory(v, &val->n) != 0
                                    : parse_ll(v, &val->n) != 0) {
            snprintf(why, whylen, row->type == CFG_MEMORY
                     ? "argument must be a memory value"
                     : "argument couldn't be parsed into an integer");
            goto out;
        }
        if (val->n < row->min || val->n > row->max) {
            snprintf(why, whylen,
                     "argument must be between %lld and %lld inclusive",
                     row->min, row->max);
            goto out;
        }
        break;
    case CFG_ENUM:
    case CFG_WORD:
        for (i = 0; row->words[i] != NULL; i++) {
            if (strcasecmp(v, row->words[i]) == 0) {
                break;
            }
        }
        if (row->words[i] == NULL) {
            size_t used;

            used = (size_t)snprintf(why, whylen, "argument(s) must be one "
                                    "of the following: ");
            for (i = 0; row->words[i] != NULL && used < whylen; i++) {
                used += (size_t)snprintf(why + used, whylen - used, "%s%s",
                                         i ? ", " : "", row->words[i]);
            }
            goto out;
        }
        if (row->type == CFG_ENUM) {
            val->n = row->values[i];
        }
        word = row->words[i];
        break;
    case CFG_YESNO:
        if (strcasecmp(v, "yes") != 0 && strcasecmp(v, "no") != 0) {
            snprintf(why, whylen, "argument must be 'yes' or 'no'");
            goto out;
        }
        word = strcasecmp(v, "yes") == 0 ? "yes" : "no";
        break;
    case CFG_OBUF:
        if (parse_obuf(v, val, why, whylen) != 0) {
            goto out;
        }
        break;
    case CFG_STRING:
        break;
    }
    if (row->type == CFG_STRING || row->type == CFG_WORD ||
        row->type == CFG_YESNO) {
        val->s = strdup(word);
        if (val->s == NULL) {
            snprintf(why, whylen, "out of memory");
            goto out;
        }
        if (row->check != NULL && row->check(val->s, why, whylen) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0) {
        free(val->s);
        val->s = NULL;
    }
    return rc;
}

/* Store a parsed value into cfg; takes val's string. */
static void
cfg_store(struct srv_config *cfg, const struct cfg_row *row,
          struct cfg_val *val)
{
    char **sp;

    switch (row->type) {
    case CFG_INT:
    case CFG_ENUM:
        *CFG_FIELD(cfg, row, int) = (int)val->n;
        break;
    case CFG_LL:
    case CFG_MEMORY:
        *CFG_FIELD(cfg, row, long long) = val->n;
        break;
    case CFG_OBUF:
        if (val->obuf_set) {
            cfg->obuf_hard = val->obuf[0];
            cfg->obuf_soft = val->obuf[1];
            cfg->obuf_soft_seconds = val->obuf[2];
        }
        break;
    case CFG_STRING:
    case CFG_WORD:
    case CFG_YESNO:
        sp = CFG_FIELD(cfg, row, char *);
        free(*sp);
        *sp = val->s;
        val->s = NULL;
        break;
    }
}

/*
 * The value of row as CONFIG GET prints it: a pointer into cfg (valid
 * while cfg->lock is held and the value unchanged) or into buf.
 */
static const char *
cfg_format(struct srv_config *cfg, const struct cfg_row *row, char *buf,
           size_t len)
{
    size_t i;
    int v;

    switch (row->type) {
    case CFG_INT:
        snprintf(buf, len, "%d", *CFG_FIELD(cfg, row, int));
        return buf;
    case CFG_LL:
    case CFG_MEMORY:
        snprintf(buf, len, "%lld", *CFG_FIELD(cfg, row, long long));
        return buf;
    case CFG_ENUM:
        v = *CFG_FIELD(cfg, row, int);
        for (i = 0; row->words[i] != NULL; i++) {
            if (row->values[i] == v) {
                return row->words[i];
            }
        }
        snprintf(buf, len, "%d", v);
        return buf;
    case CFG_OBUF:
        snprintf(buf, len, "normal %lld %lld %lld " CFG_OBUF_OTHERS,
                 cfg->obuf_hard, cfg->obuf_soft, cfg->obuf_soft_seconds);
        return buf;
    case CFG_STRING:
    case CFG_WORD:
    case CFG_YESNO:
        break;
    }
    return *CFG_FIELD(cfg, row, char *);
}

/*
 * Fill in the defaults of DESIGN.md's command-line contract and initialise
 * cfg->lock. Aborts if memory runs out (it runs at startup).
 */
void
srv_config_init(struct srv_config *cfg)
{
    char why[256];
    size_t i;

    memset(cfg, 0, sizeof(*cfg));
    if (pthread_mutex_init(&cfg->lock, NULL) != 0) {
        fprintf(stderr, PROG ": can't create the config lock\n");
        abort();
    }
    for (i = 0; i < CFG_NROWS; i++) {
        struct cfg_val val;

        if (cfg_parse(&cfg_rows[i], cfg_rows[i].def, &val, why,
                      sizeof(why)) != 0) {
            fprintf(stderr, PROG ": default of %s: %s\n", cfg_rows[i].name,
                    why);
            abort();
        }
        cfg_store(cfg, &cfg_rows[i], &val);
    }
}

/* Free the strings of cfg and destroy its lock. */
void
srv_config_deinit(struct srv_config *cfg)
{
    size_t i;

    for (i = 0; i < CFG_NROWS; i++) {
        const struct cfg_row *row = &cfg_rows[i];

        if (row->type == CFG_STRING || row->type == CFG_WORD ||
            row->type == CFG_YESNO) {
            free(*CFG_FIELD(cfg, row, char *));
            *CFG_FIELD(cfg, row, char *) = NULL;
        }
    }
    free(cfg->config_file);
    cfg->config_file = NULL;
    pthread_mutex_destroy(&cfg->lock);
}

/* Set name to value from the config file or a flag (startup). */
int
cfg_apply(struct srv_config *cfg, const char *name, const char *value,
          size_t vlen, char *why, size_t whylen)
{
    const struct cfg_row *row;
    struct cfg_val val;
    const char *as;

    row = cfg_lookup(name, strlen(name), &as);
    if (row == NULL) {
        return APPLY_UNKNOWN;
    }
    if (row->flags & CFG_READONLY) {
        return APPLY_READONLY;
    }
    if (strlen(value) != vlen) {
        snprintf(why, whylen, "argument must not contain NUL bytes");
        return APPLY_BADVALUE;
    }
    if (cfg_parse(row, value, &val, why, whylen) != 0) {
        return APPLY_BADVALUE;
    }
    cfg_store(cfg, row, &val);
    return APPLY_OK;
}

/* Checks across settings once the file and flags are in; sets dir. */
int
cfg_finish(struct srv_config *cfg, char *err, size_t errlen)
{
    char *dir;

    if (!quorum_fits(cfg->read_quorum, cfg->replicas) ||
        !quorum_fits(cfg->write_quorum, cfg->replicas)) {
        snprintf(err, errlen, PROG ": %s %s is larger than replicas %d",
                 quorum_fits(cfg->read_quorum, cfg->replicas)
                 ? "write-quorum" : "read-quorum",
                 quorum_fits(cfg->read_quorum, cfg->replicas)
                 ? cfg->write_quorum : cfg->read_quorum, cfg->replicas);
        return -1;
    }
    if (cfg->cluster_port == 0 && cfg->port > 65535 - 10000) {
        snprintf(err, errlen, PROG ": port %d leaves no room for the "
                 "default cluster port (port + 10000); set --cluster-port",
                 cfg->port);
        return -1;
    }
    if (cfg->cluster_port == cfg->port) {
        snprintf(err, errlen, PROG ": cluster-port must differ from port");
        return -1;
    }
    dir = strdup(cfg->data_dir);
    if (dir == NULL) {
        snprintf(err, errlen, PROG ": out of memory");
        return -1;
    }
    free(cfg->dir);
    cfg->dir = dir;
    return 0;
}

/* The --help text, built from the table. */
size_t
srv_config_usage(char *buf, size_t len)
{
    size_t used = 0;
    size_t i;
    int n;

    n = snprintf(buf, len,
                 "Usage: " PROG " [CONFIG-FILE] [--name value]...\n"
                 "       " PROG " --help | --version\n\n"
                 "A config file holds the same names without the dashes, "
                 "one per line.\nOptions (default in brackets):\n");
    used = n > 0 ? (size_t)n : 0;
    for (i = 0; i < CFG_NROWS; i++) {
        const struct cfg_row *row = &cfg_rows[i];

        if (row->flags & (CFG_READONLY | CFG_HIDDEN)) {
            continue;
        }
        n = snprintf(used < len ? buf + used : NULL,
                     used < len ? len - used : 0, "  --%-28s [%s]\n",
                     row->name, row->def[0] ? row->def : "\"\"");
        used += n > 0 ? (size_t)n : 0;
    }
    return used;
}

/* Whether a CONFIG GET pattern has glob characters (else: exact name). */
static int
is_glob(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] == '*' || p[i] == '?' || p[i] == '[') {
            return 1;
        }
    }
    return 0;
}

/* Whether name matches pattern the way Redis's CONFIG GET matches. */
static int
get_match(const char *pat, size_t plen, const char *name)
{
    if (!is_glob(pat, plen)) {
        return name_eq(pat, plen, name);
    }
    return srv_glob_match(pat, plen, name, strlen(name), 1);
}

/*
 * CONFIG GET pattern...: a flat array of name, value pairs, each matching
 * setting once, in table order. Returns RK_OK or RK_ENOMEM (out unchanged).
 */
int
srv_config_get(struct srv_config *cfg, struct resp_buf *out,
               size_t npat, const char **pats, const size_t *patlens)
{
    const char *as[CFG_NROWS];
    size_t start = out->len;
    size_t nhit = 0;
    size_t i;
    size_t j;
    char buf[160];
    int rc = RK_ENOMEM;

    for (i = 0; i < CFG_NROWS; i++) {
        const struct cfg_row *row = &cfg_rows[i];

        as[i] = NULL;
        for (j = 0; j < npat && as[i] == NULL; j++) {
            if ((row->flags & CFG_HIDDEN) &&
                is_glob(pats[j], patlens[j])) {
                continue;
            }
            if (get_match(pats[j], patlens[j], row->name)) {
                as[i] = row->name;
            } else if (row->alias != NULL &&
                       get_match(pats[j], patlens[j], row->alias)) {
                as[i] = row->alias;
            }
        }
        nhit += as[i] != NULL;
    }
    pthread_mutex_lock(&cfg->lock);
    if (resp_add_map(out, (long long)nhit) != RK_OK) {
        goto out;
    }
    for (i = 0; i < CFG_NROWS; i++) {
        if (as[i] == NULL) {
            continue;
        }
        if (resp_add_bulk_str(out, as[i]) != RK_OK ||
            resp_add_bulk_str(out, cfg_format(cfg, &cfg_rows[i], buf,
                                              sizeof(buf))) != RK_OK) {
            goto out;
        }
    }
    rc = RK_OK;
out:
    pthread_mutex_unlock(&cfg->lock);
    if (rc != RK_OK) {
        out->len = start;
    }
    return rc;
}

/* A copy of one setting's value as CONFIG GET prints it; caller frees. */
char *
srv_config_strdup(struct srv_config *cfg, const char *name)
{
    const struct cfg_row *row;
    const char *as;
    char buf[160];
    char *copy;

    row = cfg_lookup(name, strlen(name), &as);
    if (row == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&cfg->lock);
    copy = strdup(cfg_format(cfg, row, buf, sizeof(buf)));
    pthread_mutex_unlock(&cfg->lock);
    return copy;
}

/* Printable length of a client-supplied name in an error message. */
static int
err_len(size_t len)
{
    return len > 128 ? 128 : (int)len;
}

/*
 * CONFIG SET name value [name value ...] with Redis 7's checks in Redis's
 * order: the first unknown name; then the first immutable or repeated one;
 * then every value, before anything changes. Returns 0 or -1 with err.
 */
int
srv_config_set(struct srv_config *cfg, size_t nargs, const char **args,
               const size_t *lens, unsigned *changed, char *err,
               size_t errlen)
{
    struct set_item {
        const struct cfg_row *row;
        const char *as;         /* table spelling of the name used */
        struct cfg_val val;
    } *items = NULL;
    unsigned char seen[CFG_NROWS];
    size_t n = nargs / 2;
    size_t parsed = 0;
    size_t i;
    char why[256];
    int rc = -1;

    if (changed != NULL) {
        *changed = 0;
    }
    if (nargs == 0) {
        snprintf(err, errlen,
                 "wrong number of arguments for 'config|set' command");
        return -1;
    }
    if (nargs % 2 != 0) {
        snprintf(err, errlen, "syntax error");
        return -1;
    }
    items = calloc(n, sizeof(*items));
    if (items == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        items[i].row = cfg_lookup(args[2 * i], lens[2 * i], &items[i].as);
        if (items[i].row == NULL) {
            snprintf(err, errlen, "Unknown option or number of arguments "
                     "for CONFIG SET - '%.*s'", err_len(lens[2 * i]),
                     args[2 * i]);
            goto out;
        }
    }
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < n; i++) {
        size_t idx = (size_t)(items[i].row - cfg_rows);
        const char *what = NULL;

        if (!(items[i].row->flags & CFG_RUNTIME)) {
            what = "can't set immutable config";
        } else if (seen[idx]) {
            what = "duplicate parameter";
        }
        if (what != NULL) {
            snprintf(err, errlen, "CONFIG SET failed (possibly related to "
                     "argument '%.*s') - %s", err_len(lens[2 * i]),
                     args[2 * i], what);
            goto out;
        }
        seen[idx] = 1;
    }
    for (i = 0; i < n; i++) {
        const struct cfg_row *row = items[i].row;
        const char *v = args[2 * i + 1];
        size_t vlen = lens[2 * i + 1];
        char *copy;
        int bad;

        copy = malloc(vlen + 1);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        memcpy(copy, v, vlen);
        copy[vlen] = '\0';
        if (strlen(copy) != vlen) {
            snprintf(why, sizeof(why), "argument must not contain NUL bytes");
            bad = 1;
        } else {
            bad = cfg_parse(row, copy, &items[i].val, why, sizeof(why)) != 0;
        }
        free(copy);
        if (!bad && row->check == check_quorum &&
            !quorum_fits(items[i].val.s, cfg->replicas)) {
            snprintf(why, sizeof(why), "argument must be ONE, QUORUM, ALL "
                     "or a number between 1 and %d inclusive", cfg->replicas);
            free(items[i].val.s);
            items[i].val.s = NULL;
            bad = 1;
        }
        if (bad) {
            snprintf(err, errlen, "CONFIG SET failed (possibly related to "
                     "argument '%s') - %s", items[i].as, why);
            goto out;
        }
        parsed = i + 1;
    }
    pthread_mutex_lock(&cfg->lock);
    for (i = 0; i < n; i++) {
        cfg_store(cfg, items[i].row, &items[i].val);
        if (changed != NULL) {
            *changed |= items[i].row->changed;
        }
    }
    pthread_mutex_unlock(&cfg->lock);
    rc = 0;
out:
    for (i = 0; i < parsed; i++) {
        free(items[i].val.s);
    }
    free(items);
    return rc;
}
