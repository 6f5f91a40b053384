/*
 * server/config_parse.c - the startup readers of settings: the config file
 * (redis.conf syntax, split into words as Redis's sdssplitargs does) and
 * the command-line flags. Both only find a name and its value text; the
 * table in config.c parses, checks and stores it (cfg_apply()), and
 * cfg_finish() checks the settings against each other at the end.
 */
#include "config.h"
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rk.h"

/* A growable NUL-terminated string for the file and flag parsers. */
struct cfg_str {
    char *p;
    size_t len;
    size_t cap;
};

static int
cfg_str_add(struct cfg_str *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        char *np;

        while (cap < s->len + n + 1) {
            cap *= 2;
        }
        np = realloc(s->p, cap);
        if (np == NULL) {
            return RK_ENOMEM;
        }
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
    return RK_OK;
}

static int
ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/*
 * Read the next word of a config line at *pp into tok, as Redis's
 * sdssplitargs does: "..." takes \xHH, \n, \r, \t, \b, \a and \<char>;
 * '...' takes \'; a closing quote must be followed by a space or the end;
 * quotes may start in the middle of a word. Returns 1 with a word, 0 at
 * the end of the line, -1 on unbalanced quotes, RK_ENOMEM.
 */
static int
cfg_next_word(const char **pp, struct cfg_str *tok)
{
    const char *p = *pp;
    int inq = 0;
    int insq = 0;
    int done = 0;

    tok->len = 0;
    while (cfg_ascii_space((unsigned char)*p)) {
        p++;
    }
    if (*p == '\0') {
        return 0;
    }
    if (cfg_str_add(tok, "", 0) != RK_OK) {
        return RK_ENOMEM;
    }
    while (!done) {
        char c = 0;
        int add = 0;

        if (inq) {
            if (p[0] == '\\' && p[1] == 'x' && hex_value(p[2]) >= 0 &&
                hex_value(p[3]) >= 0) {
                c = (char)(hex_value(p[2]) * 16 + hex_value(p[3]));
                add = 1;
                p += 3;
            } else if (p[0] == '\\' && p[1] != '\0') {
                p++;
                switch (*p) {
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'b': c = '\b'; break;
                case 'a': c = '\a'; break;
                default: c = *p; break;
                }
                add = 1;
            } else if (*p == '"') {
                if (p[1] != '\0' && !cfg_ascii_space((unsigned char)p[1])) {
                    return -1;
                }
                done = 1;
            } else if (*p == '\0') {
                return -1;
            } else {
                c = *p;
                add = 1;
            }
        } else if (insq) {
            if (p[0] == '\\' && p[1] == '\'') {
                p++;
                c = '\'';
                add = 1;
            } else if (*p == '\'') {
                if (p[1] != '\0' && !cfg_ascii_space((unsigned char)p[1])) {
                    return -1;
                }
                done = 1;
            } else if (*p == '\0') {
                return -1;
            } else {
                c = *p;
                add = 1;
            }
        } else {
            switch (*p) {
            case ' ':
            case '\n':
            case '\r':
            case '\t':
            case '\0':
                done = 1;
                break;
            case '"':
                inq = 1;
                break;
            case '\'':
                insq = 1;
                break;
            default:
                c = *p;
                add = 1;
                break;
            }
        }
        if (add && cfg_str_add(tok, &c, 1) != RK_OK) {
            return RK_ENOMEM;
        }
        if (*p != '\0') {
            p++;
        }
    }
    *pp = p;
    return 1;
}

/*
 * Apply one config file line (already stripped, not a comment). Returns 0,
 * or -1 with the reason (without the file and line prefix) in why.
 */
static int
cfg_file_line(struct srv_config *cfg, const char *line, char *why,
              size_t whylen)
{
    struct cfg_str name = { NULL, 0, 0 };
    struct cfg_str value = { NULL, 0, 0 };
    struct cfg_str tok = { NULL, 0, 0 };
    const char *p = line;
    char reason[256];
    int nwords = 0;
    int rc = -1;
    int r;

    while ((r = cfg_next_word(&p, &tok)) == 1) {
        struct cfg_str *dst = nwords == 0 ? &name : &value;

        if ((nwords > 1 && cfg_str_add(dst, " ", 1) != RK_OK) ||
            cfg_str_add(dst, tok.p, tok.len) != RK_OK) {
            r = RK_ENOMEM;
            break;
        }
        nwords++;
    }
    if (r == -1) {
        snprintf(why, whylen, "unbalanced quotes");
        goto out;
    }
    if (r != 0) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    if (nwords < 2) {
        snprintf(why, whylen, "option '%s' needs a value", name.p);
        goto out;
    }
    switch (cfg_apply(cfg, name.p, value.p, value.len, reason,
                      sizeof(reason))) {
    case APPLY_OK:
        rc = 0;
        break;
    case APPLY_UNKNOWN:
        snprintf(why, whylen, "unknown option '%s'", name.p);
        break;
    case APPLY_READONLY:
        snprintf(why, whylen, "option '%s' is read-only", name.p);
        break;
    default:
        snprintf(why, whylen, "bad value for %s: '%s': %s", name.p, value.p,
                 reason);
        break;
    }
out:
    free(name.p);
    free(value.p);
    free(tok.p);
    return rc;
}

/* Read a redis.conf-style file into cfg. Returns 0 or -1 with err. */
static int
cfg_load_file(struct srv_config *cfg, const char *path, char *err,
              size_t errlen)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    char why[512];
    int rc = -1;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, PROG ": can't open config file '%s': %s",
                 path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) != -1) {
        char *s = line;
        char *e = line + n;

        lineno++;
        while (e > s && cfg_ascii_space((unsigned char)e[-1])) {
            e--;
        }
        *e = '\0';
        while (cfg_ascii_space((unsigned char)*s)) {
            s++;
        }
        if (*s == '\0' || *s == '#') {
            continue;
        }
        if (cfg_file_line(cfg, s, why, sizeof(why)) != 0) {
            snprintf(err, errlen, PROG ": config file %s line %ld: %s", path,
                     lineno, why);
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, PROG ": can't read config file '%s': %s",
                 path, strerror(errno));
        goto out;
    }
    free(cfg->config_file);
    cfg->config_file = realpath(path, NULL);
    if (cfg->config_file == NULL) {
        cfg->config_file = strdup(path);
    }
    if (cfg->config_file == NULL) {
        snprintf(err, errlen, PROG ": out of memory");
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

static int
is_flag(const char *a)
{
    return a[0] == '-' && a[1] == '-';
}

/*
 * Apply the flag at argv[*i] ("--name value..." or "--name=value...") and
 * move *i past it. Returns 0 or -1 with one line in err.
 */
static int
cfg_flag(struct srv_config *cfg, int argc, char **argv, int *i, char *err,
         size_t errlen)
{
    struct cfg_str name = { NULL, 0, 0 };
    struct cfg_str value = { NULL, 0, 0 };
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    char why[256];
    int rc = -1;
    int add;

    add = cfg_str_add(&name, arg, strcspn(arg, "="));
    (*i)++;
    if (add == RK_OK && eq == NULL && *i >= argc) {
        snprintf(err, errlen, PROG ": option --%s needs a value", name.p);
        goto out;
    }
    if (add == RK_OK && eq != NULL) {
        add = cfg_str_add(&value, eq + 1, strlen(eq + 1));
    } else if (add == RK_OK) {
        add = cfg_str_add(&value, argv[*i], strlen(argv[*i]));
        (*i)++;
    }
    /* Redis joins the words of a multi-word value: --save 900 1. */
    while (add == RK_OK && *i < argc && !is_flag(argv[*i])) {
        add = cfg_str_add(&value, " ", 1);
        if (add == RK_OK) {
            add = cfg_str_add(&value, argv[*i], strlen(argv[*i]));
        }
        (*i)++;
    }
    if (add != RK_OK) {
        snprintf(err, errlen, PROG ": out of memory");
        goto out;
    }
    switch (cfg_apply(cfg, name.p, value.p, value.len, why, sizeof(why))) {
    case APPLY_OK:
        rc = 0;
        break;
    case APPLY_UNKNOWN:
        snprintf(err, errlen, PROG ": unknown option --%s", name.p);
        break;
    case APPLY_READONLY:
        snprintf(err, errlen, PROG ": option --%s is read-only", name.p);
        break;
    default:
        snprintf(err, errlen, PROG ": bad value for --%s: '%s': %s", name.p,
                 value.p, why);
        break;
    }
out:
    free(name.p);
    free(value.p);
    return rc;
}

/*
 * Parse argv (argv[0] is the program): an optional config file first, then
 * --name value or --name=value flags that override it. Returns 0,
 * SRV_CONFIG_HELP, SRV_CONFIG_VERSION, or -1 with one line in err.
 */
int
srv_config_parse_args(struct srv_config *cfg, int argc, char **argv,
                      char *err, size_t errlen)
{
    int i = 1;

    if (i < argc && (strcmp(argv[i], "-h") == 0 ||
                     strcmp(argv[i], "-v") == 0)) {
        return argv[i][1] == 'h' ? SRV_CONFIG_HELP : SRV_CONFIG_VERSION;
    }
    if (i < argc && !is_flag(argv[i])) {
        if (cfg_load_file(cfg, argv[i], err, errlen) != 0) {
            return -1;
        }
        i++;
    }
    while (i < argc) {
        const char *arg = argv[i];

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            return SRV_CONFIG_HELP;
        }
        if (strcmp(arg, "--version") == 0 || strcmp(arg, "-v") == 0) {
            return SRV_CONFIG_VERSION;
        }
        if (!is_flag(arg)) {
            snprintf(err, errlen, PROG ": unexpected argument '%s'", arg);
            return -1;
        }
        if (cfg_flag(cfg, argc, argv, &i, err, errlen) != 0) {
            return -1;
        }
    }
    return cfg_finish(cfg, err, errlen);
}
