/*
 * tests/unit/test_config.c - settings table: defaults, config file and flag
 * parsing, memory units, glob matching, CONFIG GET replies and CONFIG SET
 * errors (texts checked against Redis 7.0).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "glob.h"
#include "resp.h"

#define ERRLEN 512

/* Write text to a fresh temporary file; returns its path (static). */
static const char *
write_conf(const char *text)
{
    static char path[64];
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "/tmp/test_config_XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Parse argv (NULL-terminated, without argv[0]) into cfg. */
static int
parse(struct srv_config *cfg, char *err, const char *const *args)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = (char *)"ringkv-server";
    while (*args != NULL) {
        argv[argc++] = (char *)*args++;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    return srv_config_parse_args(cfg, argc, argv, err, ERRLEN);
}

/* CONFIG SET with C strings. */
static int
cset(struct srv_config *cfg, char *err, unsigned *changed,
     const char *const *args)
{
    size_t lens[32];
    size_t n = 0;

    while (args[n] != NULL) {
        lens[n] = strlen(args[n]);
        n++;
    }
    err[0] = '\0';
    return srv_config_set(cfg, n, (const char **)args, lens, changed, err,
                          ERRLEN);
}

/* CONFIG GET with C strings; returns the reply (caller frees). */
static char *
cget(struct srv_config *cfg, const char *const *pats)
{
    struct resp_buf b;
    size_t lens[16];
    size_t n = 0;
    char *s;

    while (pats[n] != NULL) {
        lens[n] = strlen(pats[n]);
        n++;
    }
    resp_buf_init(&b);
    ck_assert_int_eq(srv_config_get(cfg, &b, n, (const char **)pats, lens),
                     0);
    s = strndup(b.ptr, b.len);
    resp_buf_deinit(&b);
    return s;
}

static int
glob(const char *p, const char *s)
{
    return srv_glob_match(p, strlen(p), s, strlen(s), 0);
}

static int
globi(const char *p, const char *s)
{
    return srv_glob_match(p, strlen(p), s, strlen(s), 1);
}

START_TEST(defaults)
{
    struct srv_config cfg;

    srv_config_init(&cfg);
    ck_assert_ptr_null(cfg.config_file);
    ck_assert_str_eq(cfg.bind, "127.0.0.1");
    ck_assert_int_eq(cfg.port, 6379);
    ck_assert_str_eq(cfg.data_dir, "./data");
    ck_assert_str_eq(cfg.dir, "./data");
    ck_assert_str_eq(cfg.node_id, "");
    ck_assert_int_eq(cfg.cluster_port, 0);
    ck_assert_str_eq(cfg.seeds, "");
    ck_assert_str_eq(cfg.zone, "default");
    ck_assert_int_eq(cfg.replicas, 3);
    ck_assert_str_eq(cfg.read_quorum, "QUORUM");
    ck_assert_str_eq(cfg.write_quorum, "QUORUM");
    ck_assert_int_eq(cfg.fsync, 1);     /* STORE_FSYNC_EVERYSEC */
    ck_assert_int_eq(cfg.cache_size, 256LL * 1024 * 1024);
    ck_assert_int_eq(cfg.threads, 0);
    ck_assert_str_eq(cfg.requirepass, "");
    ck_assert_str_eq(cfg.cluster_secret, "");
    ck_assert_int_eq(cfg.maxclients, 10000);
    ck_assert_int_eq(cfg.timeout, 0);
    ck_assert_int_eq(cfg.query_buffer_limit, 1024LL * 1024 * 1024);
    ck_assert_int_eq(cfg.proto_max_bulk_len, 512LL * 1024 * 1024);
    ck_assert_int_eq(cfg.obuf_hard, 0);
    ck_assert_int_eq(cfg.obuf_soft, 0);
    ck_assert_int_eq(cfg.obuf_soft_seconds, 0);
    ck_assert_int_eq(cfg.slowlog_log_slower_than, 10000);
    ck_assert_int_eq(cfg.slowlog_max_len, 128);
    ck_assert_int_eq(cfg.tcp_backlog, 511);
    ck_assert_int_eq(cfg.tcp_keepalive, 300);
    ck_assert_str_eq(cfg.logfile, "");
    ck_assert_str_eq(cfg.loglevel, "notice");
    ck_assert_str_eq(cfg.dbfilename, "dump.rdb");
    ck_assert_str_eq(cfg.save, "");
    ck_assert_str_eq(cfg.appendonly, "yes");
    ck_assert_int_eq(cfg.databases, 1);
    ck_assert_int_eq(cfg.tombstone_grace, 864000);
    srv_config_deinit(&cfg);
}
END_TEST

START_TEST(no_args_keeps_defaults)
{
    struct srv_config cfg;
    char err[ERRLEN];
    const char *args[] = { NULL };

    srv_config_init(&cfg);
    ck_assert_int_eq(parse(&cfg, err, args), 0);
    ck_assert_int_eq(cfg.port, 6379);
    ck_assert_ptr_null(cfg.config_file);
    srv_config_deinit(&cfg);
}
END_TEST

START_TEST(file_parsing)
{
    struct srv_config cfg;
    char err[ERRLEN];
    const char *path = write_conf(
        "# a comment\n"
        "\n"
        "   \t\n"
        "  # indented comment\n"
        "port 7001\r\n"
        "BIND 0.0.0.0\n"
        "data-dir \"/tmp/with space\"\n"
        "requirepass \"p\\x41ss\\n\\\"q\\\"\"\n"
        "cluster-secret 'it\\'s'\n"
        "node-id a\"b\"\n"
        "zone \"\"\n"
        "zone eu-1\n"
        "seeds 10.0.0.1:17001,[::1]:17002\n"
        "replicas 5\n"
        "read-quorum one\n"
        "write-quorum 4\n"
        "appendfsync ALWAYS\n"
        "cache-size 64mb\n"
        "save 900 1   300  10\n"
        "client-output-buffer-limit normal 1mb 2kb 3\n"
        "client-output-buffer-limit replica 256mb 64mb 60\n"
        "loglevel WARNING\n"
        "tombstone-grace 3600\n");
    const char *args[] = { path, NULL };

    srv_config_init(&cfg);
    ck_assert_msg(parse(&cfg, err, args) == 0, "%s", err);
    ck_assert_int_eq(cfg.port, 7001);
    ck_assert_str_eq(cfg.bind, "0.0.0.0");
    ck_assert_str_eq(cfg.data_dir, "/tmp/with space");
    ck_assert_str_eq(cfg.dir, "/tmp/with space");
    ck_assert_str_eq(cfg.requirepass, "pAss\n\"q\"");
    ck_assert_str_eq(cfg.cluster_secret, "it's");
    ck_assert_str_eq(cfg.node_id, "ab");
    ck_assert_str_eq(cfg.zone, "eu-1");
    ck_assert_str_eq(cfg.seeds, "10.0.0.1:17001,[::1]:17002");
    ck_assert_int_eq(cfg.replicas, 5);
    ck_assert_str_eq(cfg.read_quorum, "ONE");
    ck_assert_str_eq(cfg.write_quorum, "4");
    ck_assert_int_eq(cfg.fsync, 2);     /* STORE_FSYNC_ALWAYS */
    ck_assert_int_eq(cfg.cache_size, 64LL * 1024 * 1024);
    ck_assert_str_eq(cfg.save, "900 1 300 10");
    ck_assert_int_eq(cfg.obuf_hard, 1024 * 1024);
    ck_assert_int_eq(cfg.obuf_soft, 2048);
    ck_assert_int_eq(cfg.obuf_soft_seconds, 3);
    ck_assert_str_eq(cfg.loglevel, "warning");
    ck_assert_int_eq(cfg.tombstone_grace, 3600);
    ck_assert_ptr_nonnull(cfg.config_file);
    ck_assert_int_eq(cfg.config_file[0], '/');
    ck_assert_str_eq(cfg.config_file, path);
    srv_config_deinit(&cfg);
    unlink(path);
}
END_TEST

/* One bad config file: the error line must be exactly want (%s = path). */
static void
check_file_error(const char *text, const char *want)
{
    struct srv_config cfg;
    char err[ERRLEN];
    char expect[ERRLEN];
    const char *path = write_conf(text);
    const char *args[] = { path, NULL };

    snprintf(expect, sizeof(expect), want, path);
    srv_config_init(&cfg);
    ck_assert_int_eq(parse(&cfg, err, args), -1);
    ck_assert_str_eq(err, expect);
    srv_config_deinit(&cfg);
    unlink(path);
}

START_TEST(file_errors)
{
    struct srv_config cfg;
    char err[ERRLEN];
    const char *missing[] = { "/nonexistent/ringkv.conf", NULL };

    check_file_error("# c\nport 7000\n\nfoo bar\n",
                     "ringkv-server: config file %s line 4: "
                     "unknown option 'foo'");
    check_file_error("port abc\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "port: 'abc': argument couldn't be parsed into an "
                     "integer");
    check_file_error("\n\nport 70000\n",
                     "ringkv-server: config file %s line 3: bad value for "
                     "port: '70000': argument must be between 1 and 65535 "
                     "inclusive");
    check_file_error("port 1 2\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "port: '1 2': argument couldn't be parsed into an "
                     "integer");
    check_file_error("requirepass \"abc\n",
                     "ringkv-server: config file %s line 1: unbalanced "
                     "quotes");
    check_file_error("requirepass \"abc\"def\n",
                     "ringkv-server: config file %s line 1: unbalanced "
                     "quotes");
    check_file_error("requirepass 'abc\n",
                     "ringkv-server: config file %s line 1: unbalanced "
                     "quotes");
    check_file_error("node-id a\"b\"c\n",
                     "ringkv-server: config file %s line 1: unbalanced "
                     "quotes");
    check_file_error("port\n",
                     "ringkv-server: config file %s line 1: option 'port' "
                     "needs a value");
    check_file_error("cache-size 10zz\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "cache-size: '10zz': argument must be a memory value");
    check_file_error("fsync sometimes\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "fsync: 'sometimes': argument(s) must be one of the "
                     "following: everysec, always, no");
    check_file_error("appendonly no\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "appendonly: 'no': argument must be 'yes' (ringkv "
                     "always logs every write)");
    check_file_error("databases 16\n",
                     "ringkv-server: config file %s line 1: option "
                     "'databases' is read-only");
    check_file_error("seeds host:0\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "seeds: 'host:0': bad seed 'host:0': expected "
                     "HOST:PORT");
    check_file_error("seeds a:1,b\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "seeds: 'a:1,b': bad seed 'b': expected HOST:PORT");
    check_file_error("save 900\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "save: '900': Invalid save parameters");
    check_file_error("zone \"a b\"\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "zone: 'a b': argument must not contain spaces or "
                     "control characters");
    check_file_error("requirepass \"a\\x00b\"\n",
                     "ringkv-server: config file %s line 1: bad value for "
                     "requirepass: 'a': argument must not contain NUL "
                     "bytes");

    srv_config_init(&cfg);
    ck_assert_int_eq(parse(&cfg, err, missing), -1);
    ck_assert_str_eq(err, "ringkv-server: can't open config file "
                     "'/nonexistent/ringkv.conf': No such file or directory");
    srv_config_deinit(&cfg);
}
END_TEST

START_TEST(flags_override_file)
{
    struct srv_config cfg;
    char err[ERRLEN];
    const char *path = write_conf("port 7000\nthreads 4\nzone a\n");
    const char *args[] = { path, "--port", "7100", "--zone=b",
                           "--save", "60", "5", "--client-output-buffer-limit",
                           "normal", "1", "2", "3", "--requirepass=",
                           "--slowlog-log-slower-than", "-1", NULL };

    srv_config_init(&cfg);
    ck_assert_msg(parse(&cfg, err, args) == 0, "%s", err);
    ck_assert_int_eq(cfg.port, 7100);
    ck_assert_int_eq(cfg.threads, 4);
    ck_assert_str_eq(cfg.zone, "b");
    ck_assert_str_eq(cfg.save, "60 5");
    ck_assert_int_eq(cfg.obuf_hard, 1);
    ck_assert_int_eq(cfg.obuf_soft, 2);
    ck_assert_int_eq(cfg.obuf_soft_seconds, 3);
    ck_assert_str_eq(cfg.requirepass, "");
    ck_assert_int_eq(cfg.slowlog_log_slower_than, -1);
    srv_config_deinit(&cfg);
    unlink(path);
}
END_TEST

START_TEST(flags_only)
{
    struct srv_config cfg;
    char err[ERRLEN];
    const char *args[] = { "--bind", "0.0.0.0", "--data-dir", "/var/lib/rk",
                           "--cluster-port", "17000", "--fsync", "no",
                           "--requirepass", "--secret--", "--PORT", "6380",
                           NULL };

    srv_config_init(&cfg);
    ck_assert_msg(parse(&cfg, err, args) == 0, "%s", err);
    ck_assert_str_eq(cfg.bind, "0.0.0.0");
    ck_assert_str_eq(cfg.data_dir, "/var/lib/rk");
    ck_assert_str_eq(cfg.dir, "/var/lib/rk");
    ck_assert_int_eq(cfg.cluster_port, 17000);
    ck_assert_int_eq(cfg.fsync, 0);     /* STORE_FSYNC_NO */
    ck_assert_str_eq(cfg.requirepass, "--secret--");
    ck_assert_int_eq(cfg.port, 6380);
    srv_config_deinit(&cfg);
}
END_TEST

/* One bad command line: the error must be exactly want. */
static void
check_flag_error(const char *const *args, const char *want)
{
    struct srv_config cfg;
    char err[ERRLEN];

    srv_config_init(&cfg);
    ck_assert_int_eq(parse(&cfg, err, args), -1);
    ck_assert_str_eq(err, want);
    srv_config_deinit(&cfg);
}

START_TEST(bad_flags)
{
    const char *a1[] = { "--port", "abc", NULL };
    const char *a2[] = { "--foo", "1", NULL };
    const char *a3[] = { "--port", NULL };
    const char *a4[] = { "--port", "1", "--threads", "65", NULL };
    const char *a5[] = { "--replicas", "0", NULL };
    const char *a6[] = { "--dir", "/x", NULL };
    const char *a7[] = { "--read-quorum", "5", NULL };
    const char *a8[] = { "--port", "60000", NULL };
    const char *a9[] = { "--port", "7000", "--cluster-port", "7000", NULL };
    const char *a10[] = { "--read-quorum", "most", NULL };
    const char *a11[] = { "--port", "0", NULL };
    const char *a12[] = { "--threads=abc", NULL };
    const char *a13[] = { "--port", "7000", "extra", NULL };
    const char *a14[] = { "/dev/null", "second.conf", NULL };
    const char *a15[] = { "--", "x", NULL };

    check_flag_error(a1, "ringkv-server: bad value for --port: 'abc': "
                     "argument couldn't be parsed into an integer");
    check_flag_error(a2, "ringkv-server: unknown option --foo");
    check_flag_error(a3, "ringkv-server: option --port needs a value");
    check_flag_error(a4, "ringkv-server: bad value for --threads: '65': "
                     "argument must be between 0 and 64 inclusive");
    check_flag_error(a5, "ringkv-server: bad value for --replicas: '0': "
                     "argument must be between 1 and 64 inclusive");
    check_flag_error(a6, "ringkv-server: option --dir is read-only");
    check_flag_error(a7, "ringkv-server: read-quorum 5 is larger than "
                     "replicas 3");
    check_flag_error(a8, "ringkv-server: port 60000 leaves no room for the "
                     "default cluster port (port + 10000); set "
                     "--cluster-port");
    check_flag_error(a9, "ringkv-server: cluster-port must differ from "
                     "port");
    check_flag_error(a10, "ringkv-server: bad value for --read-quorum: "
                     "'most': argument must be ONE, QUORUM, ALL or a number "
                     "between 1 and 64 inclusive");
    check_flag_error(a11, "ringkv-server: bad value for --port: '0': "
                     "argument must be between 1 and 65535 inclusive");
    check_flag_error(a12, "ringkv-server: bad value for --threads: 'abc': "
                     "argument couldn't be parsed into an integer");
    check_flag_error(a13, "ringkv-server: bad value for --port: "
                     "'7000 extra': argument couldn't be parsed into an "
                     "integer");
    check_flag_error(a14, "ringkv-server: unexpected argument "
                     "'second.conf'");
    check_flag_error(a15, "ringkv-server: unknown option --");
}
END_TEST

START_TEST(help_and_version)
{
    struct srv_config cfg;
    char err[ERRLEN];
    char usage[4096];
    const char *h1[] = { "--help", NULL };
    const char *h2[] = { "-h", NULL };
    const char *h3[] = { "--port", "7000", "--help", NULL };
    const char *v1[] = { "--version", NULL };
    const char *v2[] = { "-v", NULL };
    size_t n;

    srv_config_init(&cfg);
    ck_assert_int_eq(parse(&cfg, err, h1), SRV_CONFIG_HELP);
    ck_assert_int_eq(parse(&cfg, err, h2), SRV_CONFIG_HELP);
    ck_assert_int_eq(parse(&cfg, err, h3), SRV_CONFIG_HELP);
    ck_assert_int_eq(parse(&cfg, err, v1), SRV_CONFIG_VERSION);
    ck_assert_int_eq(parse(&cfg, err, v2), SRV_CONFIG_VERSION);
    srv_config_deinit(&cfg);

    n = srv_config_usage(usage, sizeof(usage));
    ck_assert_uint_lt(n, sizeof(usage));
    ck_assert_uint_eq(n, strlen(usage));
    ck_assert_ptr_nonnull(strstr(usage, "Usage: ringkv-server [CONFIG-FILE]"));
    ck_assert_ptr_nonnull(strstr(usage, "--port"));
    ck_assert_ptr_nonnull(strstr(usage, "[6379]"));
    ck_assert_ptr_nonnull(strstr(usage, "--cluster-secret"));
    ck_assert_ptr_null(strstr(usage, "--databases"));
    /* Truncation still reports the full length. */
    ck_assert_uint_eq(srv_config_usage(usage, 10), n);
    ck_assert_uint_eq(strlen(usage), 9);
}
END_TEST

START_TEST(memory_units)
{
    static const struct {
        const char *in;
        long long want;
    } good[] = {
        { "0", 0 }, { "123", 123 }, { "5b", 5 }, { "5B", 5 },
        { "1k", 1000 }, { "1kb", 1024 }, { "1KB", 1024 }, { "2K", 2000 },
        { "1m", 1000000 }, { "1mb", 1048576 }, { "3Mb", 3145728 },
        { "1g", 1000000000 }, { "1gb", 1073741824 }, { "2GB", 2147483648 },
        { "0007", 7 }, { "9223372036854775807", LLONG_MAX },
        { "8589934591gb", 8589934591LL * 1073741824 },
    };
    static const char *bad[] = {
        "", "mb", "-1", "+1", " 1", "1 ", "1.5mb", "1tb", "1kbb", "0x10",
        "9223372036854775808", "8589934592gb", "1 mb",
    };
    size_t i;
    long long v;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = -1;
        ck_assert_msg(srv_parse_memory(good[i].in, &v) == 0, "%s",
                      good[i].in);
        ck_assert_int_eq(v, good[i].want);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(srv_parse_memory(bad[i], &v) == -1, "'%s'", bad[i]);
    }
}
END_TEST

START_TEST(glob_basics)
{
    ck_assert(glob("hello", "hello"));
    ck_assert(!glob("hello", "hell"));
    ck_assert(!glob("hell", "hello"));
    ck_assert(glob("h?llo", "hallo"));
    ck_assert(!glob("h?llo", "hllo"));
    ck_assert(glob("h*llo", "hllo"));
    ck_assert(glob("h*llo", "heeeello"));
    ck_assert(glob("*", "x"));
    ck_assert(!glob("*", ""));          /* as Redis's stringmatchlen */
    ck_assert(!glob("**", ""));
    ck_assert(glob("a*", "a"));
    ck_assert(glob("a***", "a"));
    ck_assert(glob("***a***", "a"));
    ck_assert(glob("*a*b*c*", "xxaxxbxxcxx"));
    ck_assert(!glob("*a*b*c*", "xxaxxcxxbxx"));
    ck_assert(!glob("", "a"));
    ck_assert(glob("", ""));
    ck_assert(!glob("?", ""));
    ck_assert(glob("user:*:name", "user:42:name"));
    ck_assert(!glob("user:*:name", "user:42:mail"));
}
END_TEST

START_TEST(glob_classes)
{
    ck_assert(glob("h[ae]llo", "hello"));
    ck_assert(glob("h[ae]llo", "hallo"));
    ck_assert(!glob("h[ae]llo", "hillo"));
    ck_assert(glob("h[^e]llo", "hallo"));
    ck_assert(!glob("h[^e]llo", "hello"));
    ck_assert(glob("h[a-b]llo", "hbllo"));
    ck_assert(!glob("h[a-b]llo", "hcllo"));
    ck_assert(glob("h[b-a]llo", "hallo"));  /* reversed range */
    ck_assert(glob("[0-9][0-9]", "42"));
    ck_assert(glob("[\\]]", "]"));
    ck_assert(glob("[\\-]", "-"));
    ck_assert(!glob("[\\-]", "a"));
    ck_assert(glob("[a-]", "]"));           /* "a-]" is a range to ']' */
    ck_assert(glob("[abc", "c"));           /* unterminated class */
    ck_assert(!glob("[abc", "d"));
    ck_assert(glob("[^", "x"));
    ck_assert(!glob("[]", "a"));
    ck_assert(glob("[*]", "*"));
    ck_assert(!glob("[*]", "a"));
    ck_assert(glob("[?]x", "?x"));
}
END_TEST

START_TEST(glob_escapes_and_nocase)
{
    ck_assert(glob("\\*", "*"));
    ck_assert(!glob("\\*", "a"));
    ck_assert(glob("\\?x", "?x"));
    ck_assert(!glob("\\?x", "ax"));
    ck_assert(glob("a\\[b", "a[b"));
    ck_assert(glob("a\\", "a\\"));          /* trailing backslash */
    ck_assert(glob("\\\\", "\\"));
    ck_assert(!glob("Hello", "hello"));
    ck_assert(globi("Hello", "hELLO"));
    ck_assert(globi("H[A-C]*", "hbx"));
    ck_assert(globi("[a-c]", "B"));
    ck_assert(!glob("[a-c]", "B"));
    ck_assert(globi("[xB]", "b"));
    ck_assert(!glob("[xB]", "b"));
    ck_assert(globi("MAX*", "maxclients"));
    /* Binary bytes, with NUL, compare by length. */
    ck_assert(srv_glob_match("a\0*", 3, "a\0bc", 4, 0));
    ck_assert(!srv_glob_match("a\0*", 3, "a\1bc", 4, 0));
    ck_assert(srv_glob_match("[\x80-\xff]", 5, "\xc3", 1, 0));
}
END_TEST

START_TEST(glob_pathological)
{
    char pat[4096];
    char str[4096];
    size_t i;

    /* "a*a*a*...b" on "aaaa...": exponential without the early stop. */
    for (i = 0; i < 60; i++) {
        pat[2 * i] = 'a';
        pat[2 * i + 1] = '*';
    }
    pat[120] = 'b';
    memset(str, 'a', 3000);
    ck_assert(!srv_glob_match(pat, 121, str, 3000, 0));
    ck_assert(srv_glob_match(pat, 120, str, 3000, 0));

    /* More than SRV_GLOB_MAX_NESTING stars deep never matches. */
    for (i = 0; i < 1100; i++) {
        pat[2 * i] = '*';
        pat[2 * i + 1] = 'a';
    }
    ck_assert(!srv_glob_match(pat, 2200, str, 1100, 0));
    ck_assert(srv_glob_match(pat, 2 * 900, str, 900, 0));
}
END_TEST

START_TEST(config_get_patterns)
{
    struct srv_config cfg;
    const char *p1[] = { "port", "bind", "p*rt", NULL };
    const char *p2[] = { "appendfsync", NULL };
    const char *p3[] = { "*fsync", NULL };
    const char *p4[] = { "nosuch", "x*", NULL };
    const char *p5[] = { "MAXCLIENTS", "Save", NULL };
    const char *p6[] = { "client-output-buffer-limit", NULL };
    const char *p7[] = { "*quorum", "dir", "databases", "cache-size", NULL };
    const char *p8[] = { "max\\clients", NULL };
    char *r;

    srv_config_init(&cfg);
    r = cget(&cfg, p1);
    ck_assert_str_eq(r, "*4\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
                     "$4\r\nport\r\n$4\r\n6379\r\n");
    free(r);
    r = cget(&cfg, p2);
    ck_assert_str_eq(r, "*2\r\n$11\r\nappendfsync\r\n$8\r\neverysec\r\n");
    free(r);
    r = cget(&cfg, p3);
    ck_assert_str_eq(r, "*2\r\n$5\r\nfsync\r\n$8\r\neverysec\r\n");
    free(r);
    r = cget(&cfg, p4);
    ck_assert_str_eq(r, "*0\r\n");
    free(r);
    r = cget(&cfg, p5);
    ck_assert_str_eq(r, "*4\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
                     "$4\r\nsave\r\n$0\r\n\r\n");
    free(r);
    r = cget(&cfg, p6);
    ck_assert_str_eq(r, "*2\r\n$26\r\nclient-output-buffer-limit\r\n"
                     "$67\r\nnormal 0 0 0 slave 268435456 67108864 60 "
                     "pubsub 33554432 8388608 60\r\n");
    free(r);
    r = cget(&cfg, p7);
    ck_assert_str_eq(r, "*12\r\n$3\r\ndir\r\n$6\r\n./data\r\n"
                     "$11\r\nread-quorum\r\n$6\r\nQUORUM\r\n"
                     "$12\r\nwrite-quorum\r\n$6\r\nQUORUM\r\n"
                     "$10\r\ncache-size\r\n$9\r\n268435456\r\n"
                     "$9\r\ndatabases\r\n$1\r\n1\r\n"
                     "$13\r\nsloppy-quorum\r\n$2\r\nno\r\n");
    free(r);
    /* No glob characters: an exact name, as Redis looks it up. */
    r = cget(&cfg, p8);
    ck_assert_str_eq(r, "*0\r\n");
    free(r);
    srv_config_deinit(&cfg);
}
END_TEST

START_TEST(config_get_all)
{
    struct srv_config cfg;
    const char *all[] = { "*", NULL };
    char *r;

    srv_config_init(&cfg);
    r = cget(&cfg, all);
    /* Every row once; the alias only when no pattern names the row. */
    ck_assert(strncmp(r, "*76\r\n$4\r\nbind\r\n", 15) == 0);
    ck_assert_ptr_nonnull(strstr(r, "$5\r\nfsync\r\n"));
    ck_assert_ptr_null(strstr(r, "appendfsync"));
    ck_assert_ptr_nonnull(strstr(r, "$15\r\ntombstone-grace\r\n$6\r\n864000"
                                 "\r\n"));
    free(r);

    ck_assert_ptr_null(srv_config_strdup(&cfg, "nosuch"));
    r = srv_config_strdup(&cfg, "APPENDFSYNC");
    ck_assert_str_eq(r, "everysec");
    free(r);
    r = srv_config_strdup(&cfg, "proto-max-bulk-len");
    ck_assert_str_eq(r, "536870912");
    free(r);
    srv_config_deinit(&cfg);
}
END_TEST

START_TEST(config_set_ok)
{
    struct srv_config cfg;
    char err[ERRLEN];
    unsigned changed = 99;
    const char *s1[] = { "maxclients", "50", "APPENDFSYNC", "Always",
                         "cache-size", "1gb", "proto-max-bulk-len", "2mb",
                         "requirepass", "secret", NULL };
    const char *s2[] = { "read-quorum", "all", "write-quorum", "2",
                         "loglevel", "DEBUG", "slowlog-max-len", "5", NULL };
    const char *s3[] = { "client-output-buffer-limit",
                         "pubsub 1 2 3 normal 1mb 2kb 3 slave 1 1 1", NULL };
    const char *s4[] = { "client-output-buffer-limit", "", "save",
                         "3600 1 300 100", "appendonly", "YES", NULL };
    const char *s5[] = { "timeout", "0", NULL };
    const char *g[] = { "client-output-buffer-limit", "save", "appendonly",
                        NULL };
    char *r;

    srv_config_init(&cfg);
    ck_assert_msg(cset(&cfg, err, &changed, s1) == 0, "%s", err);
    ck_assert_int_eq(cfg.maxclients, 50);
    ck_assert_int_eq(cfg.fsync, 2);
    ck_assert_int_eq(cfg.cache_size, 1024LL * 1024 * 1024);
    ck_assert_int_eq(cfg.proto_max_bulk_len, 2 * 1024 * 1024);
    ck_assert_str_eq(cfg.requirepass, "secret");
    ck_assert_uint_eq(changed, SRV_CFG_CHANGED_FSYNC | SRV_CFG_CHANGED_CACHE |
                      SRV_CFG_CHANGED_BULK);

    ck_assert_msg(cset(&cfg, err, &changed, s2) == 0, "%s", err);
    ck_assert_str_eq(cfg.read_quorum, "ALL");
    ck_assert_str_eq(cfg.write_quorum, "2");
    ck_assert_str_eq(cfg.loglevel, "debug");
    ck_assert_int_eq(cfg.slowlog_max_len, 5);
    ck_assert_uint_eq(changed, SRV_CFG_CHANGED_QUORUM | SRV_CFG_CHANGED_LOG |
                      SRV_CFG_CHANGED_SLOWLOG);

    ck_assert_msg(cset(&cfg, err, &changed, s3) == 0, "%s", err);
    ck_assert_int_eq(cfg.obuf_hard, 1024 * 1024);
    ck_assert_int_eq(cfg.obuf_soft, 2048);
    ck_assert_int_eq(cfg.obuf_soft_seconds, 3);
    ck_assert_uint_eq(changed, 0);

    /* An empty limit string changes nothing, as in Redis. */
    ck_assert_msg(cset(&cfg, err, &changed, s4) == 0, "%s", err);
    ck_assert_int_eq(cfg.obuf_hard, 1024 * 1024);
    r = cget(&cfg, g);
    ck_assert_str_eq(r, "*6\r\n$26\r\nclient-output-buffer-limit\r\n"
                     "$76\r\nnormal 1048576 2048 3 slave 268435456 67108864 "
                     "60 pubsub 33554432 8388608 60\r\n"
                     "$4\r\nsave\r\n$14\r\n3600 1 300 100\r\n"
                     "$10\r\nappendonly\r\n$3\r\nyes\r\n");
    free(r);

    ck_assert_int_eq(cset(&cfg, err, NULL, s5), 0);
    srv_config_deinit(&cfg);
}
END_TEST

/* One failing CONFIG SET: exact error, and nothing changed. */
static void
check_set_error(struct srv_config *cfg, const char *const *args,
                const char *want)
{
    char err[ERRLEN];
    unsigned changed = 99;

    ck_assert_int_eq(cset(cfg, err, &changed, args), -1);
    ck_assert_str_eq(err, want);
    ck_assert_uint_eq(changed, 0);
    ck_assert_int_eq(cfg->maxclients, 10000);
    ck_assert_int_eq(cfg->timeout, 0);
    ck_assert_int_eq(cfg->fsync, 1);
    ck_assert_str_eq(cfg->requirepass, "");
    ck_assert_int_eq(cfg->obuf_hard, 0);
}

#define SETFAIL "CONFIG SET failed (possibly related to argument "

START_TEST(config_set_errors)
{
    struct srv_config cfg;
    const char *e1[] = { "maxclients", "5", "timeout", "abc", NULL };
    const char *e2[] = { "maxclients", "5", "foo", "1", NULL };
    const char *e3[] = { "port", "1", "foo", "1", NULL };
    const char *e4[] = { "maxclients", "5", "PORT", "7000", NULL };
    const char *e5[] = { "maxclients", "5", "MaxClients", "6", NULL };
    const char *e6[] = { "fsync", "no", "appendfsync", "always", NULL };
    const char *e7[] = { "requirepass", "x", "appendfsync", "bad", NULL };
    const char *e8[] = { "maxclients", "-5", NULL };
    const char *e9[] = { "timeout", "-1", NULL };
    const char *e10[] = { "proto-max-bulk-len", "1", NULL };
    const char *e11[] = { "cache-size", "-1", NULL };
    const char *e12[] = { "loglevel", "", NULL };
    const char *e13[] = { "appendonly", "maybe", NULL };
    const char *e14[] = { "appendonly", "no", NULL };
    const char *e15[] = { "client-output-buffer-limit", "normal 1 2", NULL };
    const char *e16[] = { "client-output-buffer-limit", "foo 1 2 3", NULL };
    const char *e17[] = { "client-output-buffer-limit", "master 1 2 3", NULL };
    const char *e18[] = { "client-output-buffer-limit", "normal 1 x 3",
                          NULL };
    const char *e19[] = { "read-quorum", "4", NULL };
    const char *e20[] = { "timeout", "05", NULL };
    const char *e21[] = { "timeout", "+5", NULL };
    const char *e22[] = { "tcp-keepalive", "1.5", NULL };
    const char *e23[] = { "maxclients", NULL };
    const char *e24[] = { NULL };
    const char *e25[] = { "databases", "1", NULL };
    const char *e26[] = { "dir", "/tmp", NULL };
    const char *e27[] = { "save", "0 1", NULL };
    const char *e28[] = { "requirepass", "x", "maxclients", "6",
                          "fsync", "no", "cluster-secret", "s", NULL };
    char err[ERRLEN];
    const char *nul_args[] = { "requirepass", "a\0b" };
    size_t nul_lens[] = { 11, 3 };

    srv_config_init(&cfg);
    check_set_error(&cfg, e1, SETFAIL "'timeout') - argument couldn't be "
                    "parsed into an integer");
    check_set_error(&cfg, e2, "Unknown option or number of arguments for "
                    "CONFIG SET - 'foo'");
    /* An unknown name wins over an earlier immutable one. */
    check_set_error(&cfg, e3, "Unknown option or number of arguments for "
                    "CONFIG SET - 'foo'");
    check_set_error(&cfg, e4, SETFAIL "'PORT') - can't set immutable "
                    "config");
    check_set_error(&cfg, e5, SETFAIL "'MaxClients') - duplicate "
                    "parameter");
    check_set_error(&cfg, e6, SETFAIL "'appendfsync') - duplicate "
                    "parameter");
    check_set_error(&cfg, e7, SETFAIL "'appendfsync') - argument(s) must be "
                    "one of the following: everysec, always, no");
    check_set_error(&cfg, e8, SETFAIL "'maxclients') - argument must be "
                    "between 1 and 4294967295 inclusive");
    check_set_error(&cfg, e9, SETFAIL "'timeout') - argument must be "
                    "between 0 and 2147483647 inclusive");
    check_set_error(&cfg, e10, SETFAIL "'proto-max-bulk-len') - argument "
                    "must be between 1048576 and 9223372036854775807 "
                    "inclusive");
    check_set_error(&cfg, e11, SETFAIL "'cache-size') - argument must be a "
                    "memory value");
    check_set_error(&cfg, e12, SETFAIL "'loglevel') - argument(s) must be "
                    "one of the following: debug, verbose, notice, warning");
    check_set_error(&cfg, e13, SETFAIL "'appendonly') - argument must be "
                    "'yes' or 'no'");
    check_set_error(&cfg, e14, SETFAIL "'appendonly') - argument must be "
                    "'yes' (ringkv always logs every write)");
    check_set_error(&cfg, e15, SETFAIL "'client-output-buffer-limit') - "
                    "Wrong number of arguments in buffer limit "
                    "configuration.");
    check_set_error(&cfg, e16, SETFAIL "'client-output-buffer-limit') - "
                    "Invalid client class specified in buffer limit "
                    "configuration.");
    check_set_error(&cfg, e17, SETFAIL "'client-output-buffer-limit') - "
                    "Invalid client class specified in buffer limit "
                    "configuration.");
    check_set_error(&cfg, e18, SETFAIL "'client-output-buffer-limit') - "
                    "Error in hard, soft or soft_seconds setting in buffer "
                    "limit configuration.");
    check_set_error(&cfg, e19, SETFAIL "'read-quorum') - argument must be "
                    "ONE, QUORUM, ALL or a number between 1 and 3 "
                    "inclusive");
    check_set_error(&cfg, e20, SETFAIL "'timeout') - argument couldn't be "
                    "parsed into an integer");
    check_set_error(&cfg, e21, SETFAIL "'timeout') - argument couldn't be "
                    "parsed into an integer");
    check_set_error(&cfg, e22, SETFAIL "'tcp-keepalive') - argument "
                    "couldn't be parsed into an integer");
    check_set_error(&cfg, e23, "syntax error");
    check_set_error(&cfg, e24, "wrong number of arguments for 'config|set' "
                    "command");
    check_set_error(&cfg, e25, SETFAIL "'databases') - can't set immutable "
                    "config");
    check_set_error(&cfg, e26, SETFAIL "'dir') - can't set immutable "
                    "config");
    check_set_error(&cfg, e27, SETFAIL "'save') - Invalid save parameters");
    /* Immutable after valid pairs: nothing of the earlier ones applied. */
    check_set_error(&cfg, e28, SETFAIL "'cluster-secret') - can't set "
                    "immutable config");

    ck_assert_int_eq(srv_config_set(&cfg, 2, nul_args, nul_lens, NULL, err,
                                    sizeof(err)), -1);
    ck_assert_str_eq(err, SETFAIL "'requirepass') - argument must not "
                     "contain NUL bytes");
    ck_assert_str_eq(cfg.requirepass, "");
    srv_config_deinit(&cfg);
}
END_TEST

static Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, defaults);
    tcase_add_test(tc, no_args_keeps_defaults);
    tcase_add_test(tc, file_parsing);
    tcase_add_test(tc, file_errors);
    tcase_add_test(tc, flags_override_file);
    tcase_add_test(tc, flags_only);
    tcase_add_test(tc, bad_flags);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, memory_units);
    tcase_add_test(tc, glob_basics);
    tcase_add_test(tc, glob_classes);
    tcase_add_test(tc, glob_escapes_and_nocase);
    tcase_add_test(tc, glob_pathological);
    tcase_add_test(tc, config_get_patterns);
    tcase_add_test(tc, config_get_all);
    tcase_add_test(tc, config_set_ok);
    tcase_add_test(tc, config_set_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
