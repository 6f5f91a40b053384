/*
 * tests/integration/test_server.c - server commands against a spawned
 * ringkv-server: INFO, DBSIZE, FLUSHDB/FLUSHALL, CONFIG, COMMAND, TIME,
 * SLOWLOG and SHUTDOWN, as Redis 7.0 answers them.
 */
#include "harness.h"

#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * INFO [sections] (NULL: none; several separated by spaces, each its own
 * argument): the text, checked to be a bulk reply; caller frees.
 */
static char *
info(redisContext *c, const char *sections)
{
    char cmd[256];
    redisReply *r;
    char *text;

    ck_assert(sections == NULL || strchr(sections, '%') == NULL);
    snprintf(cmd, sizeof(cmd), "INFO%s%s", sections ? " " : "",
             sections ? sections : "");
    r = rk_cmd(c, cmd);
    ck_assert_msg(r->type == REDIS_REPLY_STRING, "%s: type %d", cmd,
                  r->type);
    text = malloc((size_t)r->len + 1);
    ck_assert(text != NULL);
    memcpy(text, r->str, (size_t)r->len);
    text[r->len] = '\0';
    freeReplyObject(r);
    return text;
}

/* The integer value of an INFO field, failing if it is missing. */
static long long
info_int(const char *text, const char *field)
{
    char val[256], *end;
    long long v;

    ck_assert_msg(rk_info_field(text, field, val, sizeof(val)),
                  "INFO has no %s field:\n%.2000s", field, text);
    v = strtoll(val, &end, 10);
    ck_assert_msg(end != val && *end == '\0', "%s:%s is not an integer",
                  field, val);
    return v;
}

static void
assert_field(const char *text, const char *field)
{
    char val[256];

    ck_assert_msg(rk_info_field(text, field, val, sizeof(val)),
                  "INFO has no %s field:\n%.2000s", field, text);
}

/* Does the INFO text have a "# Title" line? */
static int
has_section(const char *text, const char *title)
{
    char line[64];
    const char *p = text;
    size_t n;

    n = (size_t)snprintf(line, sizeof(line), "# %s\r\n", title);
    while ((p = strstr(p, line)) != NULL) {
        if (p == text || p[-1] == '\n') {
            return 1;
        }
        p += n;
    }
    return 0;
}

START_TEST(info_default_fields)
{
    static const char *const sections[] = {
        "Server", "Clients", "Memory", "Persistence", "Stats",
        "Replication", "CPU", "Errorstats", "Keyspace"
    };
    static const char *const fields[] = {
        "redis_version", "redis_mode", "os", "arch_bits", "process_id",
        "tcp_port", "uptime_in_seconds", "connected_clients",
        "used_memory", "used_memory_human", "maxmemory", "aof_enabled",
        "total_connections_received", "total_commands_processed",
        "instantaneous_ops_per_sec", "keyspace_hits", "keyspace_misses",
        "role"
    };
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *c2 = rk_connect(srv);
    char *text, val[256];
    size_t i;

    rk_cmd_status(c2, "PONG", "PING");
    text = info(c, NULL);
    ck_assert_msg(strncmp(text, "# Server\r\n", 10) == 0, "%.2000s", text);
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        ck_assert_msg(has_section(text, sections[i]), "no # %s in\n%.2000s",
                      sections[i], text);
    }
    ck_assert_msg(!has_section(text, "Commandstats"),
                  "INFO without arguments has no Commandstats");
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        assert_field(text, fields[i]);
    }
    /* Lines end in CRLF, also the last one. */
    ck_assert(strstr(text, "\r\n") != NULL);
    ck_assert_msg(strlen(text) > 2
                  && strcmp(text + strlen(text) - 2, "\r\n") == 0,
                  "INFO must end with CRLF");
    ck_assert_int_eq(info_int(text, "tcp_port"), srv->port);
    ck_assert_int_eq(info_int(text, "loading"), 0);
    ck_assert_int_eq(info_int(text, "arch_bits"), (long long)sizeof(long) * 8);
    ck_assert_int_ge(info_int(text, "uptime_in_seconds"), 0);
    ck_assert_int_ge(info_int(text, "connected_clients"), 2);
    ck_assert_int_gt(info_int(text, "used_memory"), 0);
    ck_assert_int_ge(info_int(text, "total_connections_received"), 2);
    ck_assert_int_ge(info_int(text, "total_commands_processed"), 1);
    ck_assert_int_ge(info_int(text, "instantaneous_ops_per_sec"), 0);
    ck_assert_int_ge(info_int(text, "maxmemory"), 0);
    ck_assert(rk_info_field(text, "redis_version", val, sizeof(val)));
    ck_assert_msg(val[0] >= '0' && val[0] <= '9' && strchr(val, '.'),
                  "redis_version:%s", val);
    ck_assert(rk_info_field(text, "role", val, sizeof(val)));
    ck_assert_str_eq(val, "master");
    if (!rk_is_external()) {
        ck_assert_int_eq(info_int(text, "process_id"), srv->pid);
        /* ringkv's own fields: storage engine and record cache. */
        assert_field(text, "ringkv_version");
        assert_field(text, "storage_engine");
        assert_field(text, "storage_fsync");
        assert_field(text, "cache_size");
        assert_field(text, "cache_hits");
    }
    free(text);
    redisFree(c2);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(info_sections_by_name)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    char *text;

    text = info(c, "server");
    ck_assert_msg(strncmp(text, "# Server\r\n", 10) == 0, "%.2000s", text);
    ck_assert(!has_section(text, "Clients"));
    ck_assert_ptr_eq(strstr(text, "\r\n\r\n"), NULL);
    ck_assert_str_eq(text + strlen(text) - 2, "\r\n");
    assert_field(text, "redis_version");
    free(text);

    text = info(c, "SERVER");
    ck_assert_msg(strncmp(text, "# Server\r\n", 10) == 0, "%.2000s", text);
    free(text);

    /* Several sections (7.0), in Redis's order, separated by an empty
     * line. */
    text = info(c, "clients server");
    ck_assert_msg(strncmp(text, "# Server\r\n", 10) == 0, "%.2000s", text);
    ck_assert_msg(strstr(text, "\r\n\r\n# Clients\r\n") != NULL, "%.2000s",
                  text);
    ck_assert(!has_section(text, "Memory"));
    free(text);

    text = info(c, "keyspace");
    ck_assert_str_eq(text, "# Keyspace\r\n");
    free(text);

    text = info(c, "nosuchsection");
    ck_assert_str_eq(text, "");
    free(text);

    text = info(c, "commandstats");
    ck_assert_msg(strncmp(text, "# Commandstats\r\n", 16) == 0, "%.2000s",
                  text);
    free(text);

    text = info(c, "default");
    ck_assert(has_section(text, "Server"));
    ck_assert(has_section(text, "Keyspace"));
    ck_assert(!has_section(text, "Commandstats"));
    free(text);

    text = info(c, "all");
    ck_assert(has_section(text, "Server"));
    ck_assert(has_section(text, "Commandstats"));
    ck_assert(has_section(text, "Errorstats"));
    ck_assert(has_section(text, "Keyspace"));
    free(text);

    text = info(c, "everything");
    ck_assert(has_section(text, "Server"));
    ck_assert(has_section(text, "Commandstats"));
    ck_assert(has_section(text, "Keyspace"));
    free(text);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/*
 * Parse "cmdstat_NAME:calls=..,usec=..,usec_per_call=..,rejected_calls=..,
 * failed_calls=.." for NAME; fails if missing or malformed.
 */
static void
cmdstat(const char *text, const char *name, long long *calls,
        long long *rejected, long long *failed)
{
    char field[64], val[256];
    long long usec;
    double per;
    int n = 0;

    snprintf(field, sizeof(field), "cmdstat_%s", name);
    ck_assert_msg(rk_info_field(text, field, val, sizeof(val)),
                  "no %s in\n%.2000s", field, text);
    ck_assert_msg(sscanf(val, "calls=%lld,usec=%lld,usec_per_call=%lf,"
                         "rejected_calls=%lld,failed_calls=%lld%n", calls,
                         &usec, &per, rejected, failed, &n) == 5
                  && val[n] == '\0', "bad %s:%s", field, val);
    ck_assert_int_ge(usec, 0);
    /* Two decimals, as Redis prints it. */
    ck_assert_msg(strstr(val, "usec_per_call=") != NULL
                  && strchr(strstr(val, "usec_per_call="), '.') != NULL,
                  "%s:%s", field, val);
}

START_TEST(info_stats_count_commands)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    long long calls, rejected, failed;
    char *text, val[256];

    rk_cmd_status(c, "OK", "CONFIG RESETSTAT");
    rk_cmd_status(c, "OK", "SET rk:st:k v");
    rk_cmd_status(c, "OK", "SET rk:st:s notanumber");
    rk_cmd_bulk(c, "v", "GET rk:st:k");
    rk_cmd_nil(c, "GET rk:st:missing");
    rk_cmd_error(c, "ERR wrong number of arguments for 'get' command",
                 "GET");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "INCR rk:st:s");
    rk_cmd_error(c, "ERR unknown command 'nosuchcmd', with args beginning "
                 "with: ", "nosuchcmd");

    text = info(c, "stats");
    ck_assert_int_eq(info_int(text, "keyspace_hits"), 1);
    ck_assert_int_eq(info_int(text, "keyspace_misses"), 1);
    ck_assert_int_ge(info_int(text, "total_commands_processed"), 6);
    free(text);

    text = info(c, "commandstats");
    cmdstat(text, "get", &calls, &rejected, &failed);
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(rejected, 1);
    ck_assert_int_eq(failed, 0);
    cmdstat(text, "set", &calls, &rejected, &failed);
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(rejected, 0);
    ck_assert_int_eq(failed, 0);
    cmdstat(text, "incr", &calls, &rejected, &failed);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(rejected, 0);
    /* Subcommands are counted as "container|sub". */
    cmdstat(text, "config|resetstat", &calls, &rejected, &failed);
    ck_assert_int_eq(calls, 1);
    ck_assert_ptr_eq(strstr(text, "cmdstat_nosuchcmd"), NULL);
    free(text);

    text = info(c, "errorstats");
    ck_assert_msg(strncmp(text, "# Errorstats\r\n", 14) == 0, "%.2000s", text);
    ck_assert(rk_info_field(text, "errorstat_ERR", val, sizeof(val)));
    ck_assert_str_eq(val, "count=3");
    free(text);

    /* INFO itself was counted: 2 calls so far. */
    text = info(c, "commandstats");
    cmdstat(text, "info", &calls, &rejected, &failed);
    ck_assert_int_eq(calls, 3);
    free(text);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(info_keyspace_counts)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    char *text, val[256];
    long long keys, expires, avg;
    int n = 0;

    text = info(c, "keyspace");
    ck_assert_str_eq(text, "# Keyspace\r\n");
    free(text);
    rk_cmd_status(c, "OK", "SET rk:ks:a 1");
    rk_cmd_status(c, "OK", "SET rk:ks:b 2 EX 1000");
    rk_cmd_status(c, "OK", "SET rk:ks:c 3");
    text = info(c, "keyspace");
    ck_assert_msg(rk_info_field(text, "db0", val, sizeof(val)), "%.2000s",
                  text);
    ck_assert_msg(sscanf(val, "keys=%lld,expires=%lld,avg_ttl=%lld%n",
                         &keys, &expires, &avg, &n) == 3 && val[n] == '\0',
                  "db0:%s", val);
    ck_assert_int_eq(keys, 3);
    ck_assert_int_eq(expires, 1);
    ck_assert_int_ge(avg, 0);
    free(text);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(dbsize_flushdb_flushall)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_int(c, 0, "DBSIZE");
    rk_cmd_status(c, "OK", "SET rk:f:a 1");
    rk_cmd_status(c, "OK", "SET rk:f:b 1");
    rk_cmd_status(c, "OK", "SET rk:f:c 1 PX 100000");
    rk_cmd_int(c, 3, "DBSIZE");
    rk_cmd_status(c, "OK", "FLUSHDB");
    rk_cmd_int(c, 0, "DBSIZE");
    rk_cmd_nil(c, "GET rk:f:a");

    rk_cmd_status(c, "OK", "SET rk:f:a 1");
    rk_cmd_status(c, "OK", "FLUSHALL");
    rk_cmd_int(c, 0, "DBSIZE");
    rk_cmd_status(c, "OK", "SET rk:f:a 1");
    rk_cmd_status(c, "OK", "FLUSHALL SYNC");
    rk_cmd_int(c, 0, "DBSIZE");
    rk_cmd_status(c, "OK", "SET rk:f:a 1");
    rk_cmd_status(c, "OK", "FLUSHALL ASYNC");
    rk_cmd_nil(c, "GET rk:f:a");
    rk_cmd_status(c, "OK", "SET rk:f:a 1");
    rk_cmd_status(c, "OK", "FLUSHDB async");
    rk_cmd_nil(c, "GET rk:f:a");
    rk_cmd_status(c, "OK", "FLUSHDB SYNC");
    rk_cmd_int(c, 0, "DBSIZE");

    rk_cmd_error(c, "ERR syntax error", "FLUSHALL foo");
    rk_cmd_error(c, "ERR syntax error", "FLUSHDB foo");
    rk_cmd_error(c, "ERR syntax error", "FLUSHALL SYNC ASYNC");
    rk_cmd_error(c, "ERR wrong number of arguments for 'dbsize' command",
                 "DBSIZE x");
    /* New keys after a flush are fine. */
    rk_cmd_status(c, "OK", "SET rk:f:z 1");
    rk_cmd_int(c, 1, "DBSIZE");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/* Is name among the even elements of a CONFIG GET reply? Its value. */
static const redisReply *
config_value(const redisReply *r, const char *name)
{
    size_t i;

    for (i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type == REDIS_REPLY_STRING
            && strcmp(r->element[i]->str, name) == 0) {
            return r->element[i + 1];
        }
    }
    return NULL;
}

START_TEST(config_get_patterns)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    const redisReply *v;
    redisReply *r;
    size_t i;

    r = rk_cmd(c, "CONFIG GET maxclients");
    rk_assert_array(r, 2);
    rk_assert_bulk(r->element[0], "maxclients");
    ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_STRING);
    ck_assert_int_gt(atoll(r->element[1]->str), 0);
    freeReplyObject(r);

    /* Several patterns (7.0): one reply of pairs, any order. */
    r = rk_cmd(c, "CONFIG GET maxclients timeout");
    rk_assert_array(r, 4);
    v = config_value(r, "timeout");
    ck_assert_ptr_ne(v, NULL);
    rk_assert_bulk(v, "0");
    ck_assert_ptr_ne(config_value(r, "maxclients"), NULL);
    freeReplyObject(r);

    /* A glob: every name matches, values are bulk strings. */
    r = rk_cmd(c, "CONFIG GET max*");
    rk_assert_array(r, -1);
    ck_assert_int_eq(r->elements % 2, 0);
    ck_assert_ptr_ne(config_value(r, "maxclients"), NULL);
    for (i = 0; i < r->elements; i += 2) {
        ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_STRING);
        ck_assert_int_eq(r->element[i + 1]->type, REDIS_REPLY_STRING);
        ck_assert_msg(fnmatch("max*", r->element[i]->str, 0) == 0, "%s",
                      r->element[i]->str);
    }
    freeReplyObject(r);

    /* Settings every Redis tool asks for. */
    r = rk_cmd(c, "CONFIG GET *");
    rk_assert_array(r, -1);
    ck_assert_int_eq(r->elements % 2, 0);
    ck_assert_ptr_ne(config_value(r, "timeout"), NULL);
    ck_assert_ptr_ne(config_value(r, "proto-max-bulk-len"), NULL);
    ck_assert_ptr_ne(config_value(r, "client-query-buffer-limit"), NULL);
    ck_assert_ptr_ne(config_value(r, "client-output-buffer-limit"), NULL);
    ck_assert_ptr_ne(config_value(r, "slowlog-log-slower-than"), NULL);
    ck_assert_ptr_ne(config_value(r, "requirepass"), NULL);
    ck_assert_ptr_ne(config_value(r, "save"), NULL);
    ck_assert_ptr_ne(config_value(r, "appendonly"), NULL);
    ck_assert_ptr_ne(config_value(r, "databases"), NULL);
    freeReplyObject(r);

    r = rk_cmd(c, "CONFIG GET nosuchsetting");
    rk_assert_array(r, 0);
    freeReplyObject(r);
    rk_cmd_error(c, "ERR wrong number of arguments for 'config|get' "
                 "command", "CONFIG GET");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(config_set_round_trip)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "OK", "CONFIG SET maxclients 500");
    r = rk_cmd(c, "CONFIG GET maxclients");
    rk_assert_array(r, 2);
    rk_assert_bulk(r->element[1], "500");
    freeReplyObject(r);
    rk_cmd_status(c, "OK", "CONFIG SET timeout 30");
    r = rk_cmd(c, "CONFIG GET timeout");
    rk_assert_array(r, 2);
    rk_assert_bulk(r->element[1], "30");
    freeReplyObject(r);

    /* Several at once (7.0). */
    rk_cmd_status(c, "OK", "CONFIG SET maxclients 600 timeout 0");
    r = rk_cmd(c, "CONFIG GET maxclients timeout");
    rk_assert_array(r, 4);
    rk_assert_bulk(config_value(r, "maxclients"), "600");
    rk_assert_bulk(config_value(r, "timeout"), "0");
    freeReplyObject(r);

    rk_cmd_error(c, "ERR Unknown option or number of arguments for CONFIG "
                 "SET - 'nosuchsetting'", "CONFIG SET nosuchsetting 1");
    rk_cmd_error(c, "ERR CONFIG SET failed (possibly related to argument "
                 "'maxclients') - argument couldn't be parsed into an "
                 "integer", "CONFIG SET maxclients abc");
    rk_cmd_error(c, "ERR wrong number of arguments for 'config|set' "
                 "command", "CONFIG SET maxclients");
    /* A failed CONFIG SET changes nothing. */
    r = rk_cmd(c, "CONFIG GET maxclients");
    rk_assert_bulk(r->element[1], "600");
    freeReplyObject(r);
    rk_cmd_status(c, "OK", "CONFIG SET maxclients 10000");
    rk_cmd_error(c, "ERR unknown subcommand 'foo'. Try CONFIG HELP.",
                 "CONFIG foo");
    rk_cmd_error(c, "ERR wrong number of arguments for 'config' command",
                 "CONFIG");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(config_resetstat_clears_counters)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    char *text;

    rk_cmd_status(c, "OK", "SET rk:rs:k v");
    rk_cmd_bulk(c, "v", "GET rk:rs:k");
    rk_cmd_nil(c, "GET rk:rs:missing");
    rk_cmd_error(c, "ERR wrong number of arguments for 'get' command",
                 "GET");
    rk_cmd_status(c, "OK", "CONFIG RESETSTAT");
    text = info(c, "stats");
    ck_assert_int_eq(info_int(text, "keyspace_hits"), 0);
    ck_assert_int_eq(info_int(text, "keyspace_misses"), 0);
    ck_assert_int_le(info_int(text, "total_commands_processed"), 2);
    free(text);
    text = info(c, "commandstats");
    ck_assert_ptr_eq(strstr(text, "cmdstat_get:"), NULL);
    ck_assert_ptr_eq(strstr(text, "cmdstat_set:"), NULL);
    free(text);
    text = info(c, "errorstats");
    ck_assert_str_eq(text, "# Errorstats\r\n");
    free(text);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/* Does an array of status replies contain s? */
static int
has_status(const redisReply *arr, const char *s)
{
    size_t i;

    for (i = 0; i < arr->elements; i++) {
        if (arr->element[i]->type == REDIS_REPLY_STATUS
            && strcmp(arr->element[i]->str, s) == 0) {
            return 1;
        }
    }
    return 0;
}

START_TEST(command_count_info_docs)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r, *e;
    long long count;
    char head[32];
    size_t i;
    int fd;

    r = rk_cmd(c, "COMMAND COUNT");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    count = r->integer;
    freeReplyObject(r);
    ck_assert_int_gt(count, 20);

    r = rk_cmd(c, "COMMAND");
    rk_assert_array(r, count);
    freeReplyObject(r);

    r = rk_cmd(c, "COMMAND INFO get");
    rk_assert_array(r, 1);
    e = r->element[0];
    /* name, arity, flags, first key, last key, step, ACL categories,
     * tips, key specs, subcommands */
    rk_assert_array(e, 10);
    rk_assert_bulk(e->element[0], "get");
    rk_assert_int(e->element[1], 2);
    rk_assert_array(e->element[2], -1);
    ck_assert(has_status(e->element[2], "readonly"));
    ck_assert(has_status(e->element[2], "fast"));
    rk_assert_int(e->element[3], 1);
    rk_assert_int(e->element[4], 1);
    rk_assert_int(e->element[5], 1);
    rk_assert_array(e->element[6], -1);
    ck_assert(has_status(e->element[6], "@read"));
    ck_assert(has_status(e->element[6], "@string"));
    ck_assert(has_status(e->element[6], "@fast"));
    rk_assert_array(e->element[7], -1);
    rk_assert_array(e->element[8], -1);
    rk_assert_array(e->element[9], -1);
    freeReplyObject(r);

    r = rk_cmd(c, "COMMAND INFO set nosuchcommand mset");
    rk_assert_array(r, 3);
    rk_assert_array(r->element[0], 10);
    rk_assert_bulk(r->element[0]->element[0], "set");
    rk_assert_int(r->element[0]->element[1], -3);
    ck_assert(has_status(r->element[0]->element[2], "write"));
    ck_assert(has_status(r->element[0]->element[2], "denyoom"));
    rk_assert_nil(r->element[1]);
    rk_assert_array(r->element[2], 10);
    rk_assert_bulk(r->element[2]->element[0], "mset");
    rk_assert_int(r->element[2]->element[3], 1);
    rk_assert_int(r->element[2]->element[4], -1);
    rk_assert_int(r->element[2]->element[5], 2);
    freeReplyObject(r);

    /*
     * COMMAND DOCS: pairs of name and docs (redis-cli reads them). Redis's
     * full reply nests deeper than hiredis 0.14 parses: read its header.
     */
    fd = rk_raw_connect(srv);
    rk_raw_send_str(fd, "COMMAND DOCS\r\n");
    ck_assert_int_eq(rk_raw_read(fd, head, 1, 5000), 1);
    ck_assert_int_eq(head[0], '*');
    for (i = 0; i + 1 < sizeof(head); i++) {
        if (rk_raw_read(fd, head + i, 1, 5000) != 1 || head[i] == '\r') {
            break;
        }
    }
    head[i] = '\0';
    ck_assert_msg(atol(head) > 0 && atol(head) % 2 == 0, "*%s", head);
    close(fd);
    r = rk_cmd(c, "COMMAND DOCS get");
    rk_assert_array(r, 2);
    rk_assert_bulk(r->element[0], "get");
    rk_assert_array(r->element[1], -1);
    ck_assert_int_eq(r->element[1]->elements % 2, 0);
    ck_assert_int_gt(r->element[1]->elements, 0);
    rk_assert_bulk(r->element[1]->element[0], "summary");
    freeReplyObject(r);
    r = rk_cmd(c, "COMMAND DOCS nosuchcommand");
    rk_assert_array(r, 0);
    freeReplyObject(r);

    rk_cmd_error(c, "ERR unknown subcommand 'foo'. Try COMMAND HELP.",
                 "COMMAND foo");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(time_two_bulk_strings)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    long long sec, usec;
    redisReply *r;
    char *end;

    r = rk_cmd(c, "TIME");
    rk_assert_array(r, 2);
    ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_STRING);
    sec = strtoll(r->element[0]->str, &end, 10);
    ck_assert(*end == '\0' && end != r->element[0]->str);
    usec = strtoll(r->element[1]->str, &end, 10);
    ck_assert(*end == '\0' && end != r->element[1]->str);
    ck_assert_int_ge(usec, 0);
    ck_assert_int_lt(usec, 1000000);
    ck_assert_int_le(llabs(sec - (long long)time(NULL)), 5);
    freeReplyObject(r);
    rk_cmd_error(c, "ERR wrong number of arguments for 'time' command",
                 "TIME x");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(slowlog_get_len_reset)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r, *e = NULL;
    size_t i;
    int found = 0;

    rk_cmd_status(c, "OK", "CONFIG SET slowlog-log-slower-than 0");
    rk_cmd_status(c, "OK", "SLOWLOG RESET");
    rk_cmd_status(c, "OK", "CLIENT SETNAME slowpoke");
    rk_cmd_status(c, "OK", "SET rk:slow:k value");
    r = rk_cmd(c, "SLOWLOG LEN");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_ge(r->integer, 2);
    freeReplyObject(r);

    r = rk_cmd(c, "SLOWLOG GET");
    rk_assert_array(r, -1);
    ck_assert_int_ge(r->elements, 2);
    for (i = 0; i < r->elements; i++) {
        e = r->element[i];
        /* id, unix time, microseconds, args, client addr, client name */
        rk_assert_array(e, 6);
        ck_assert_int_eq(e->element[0]->type, REDIS_REPLY_INTEGER);
        ck_assert_int_eq(e->element[1]->type, REDIS_REPLY_INTEGER);
        ck_assert_int_le(llabs(e->element[1]->integer - (long long)time(NULL)),
                         10);
        ck_assert_int_eq(e->element[2]->type, REDIS_REPLY_INTEGER);
        ck_assert_int_ge(e->element[2]->integer, 0);
        rk_assert_array(e->element[3], -1);
        ck_assert_int_eq(e->element[4]->type, REDIS_REPLY_STRING);
        ck_assert_int_eq(e->element[5]->type, REDIS_REPLY_STRING);
        if (e->element[3]->elements == 3
            && strcmp(e->element[3]->element[0]->str, "SET") == 0) {
            rk_assert_bulk(e->element[3]->element[1], "rk:slow:k");
            rk_assert_bulk(e->element[3]->element[2], "value");
            ck_assert_msg(strncmp(e->element[4]->str, "127.0.0.1:", 10) == 0,
                          "%s", e->element[4]->str);
            rk_assert_bulk(e->element[5], "slowpoke");
            found = 1;
        }
    }
    ck_assert_msg(found, "SET not in the slow log");
    /* Newest first: ids decrease. */
    ck_assert_int_gt(r->element[0]->element[0]->integer,
                     r->element[1]->element[0]->integer);
    freeReplyObject(r);

    r = rk_cmd(c, "SLOWLOG GET 1");
    rk_assert_array(r, 1);
    freeReplyObject(r);

    rk_cmd_status(c, "OK", "SLOWLOG RESET");
    r = rk_cmd(c, "SLOWLOG LEN");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_le(r->integer, 1);
    freeReplyObject(r);

    rk_cmd_status(c, "OK", "CONFIG SET slowlog-log-slower-than 10000");
    rk_cmd_status(c, "OK", "SLOWLOG RESET");
    rk_cmd_status(c, "OK", "SET rk:slow:fast v");
    rk_cmd_int(c, 0, "SLOWLOG LEN");
    rk_cmd_error(c, "ERR unknown subcommand 'foo'. Try SLOWLOG HELP.",
                 "SLOWLOG foo");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(shutdown_exits_zero)
{
    struct rk_server *srv;
    redisContext *c;
    redisReply *r;
    int st;

    RK_REQUIRE_RINGKV();
    srv = rk_server_start(NULL);
    c = rk_connect(srv);
    rk_cmd_status(c, "OK", "SET rk:sd:k v");
    r = redisCommand(c, "SHUTDOWN");
    /* Redis closes the connection without a reply. */
    ck_assert_msg(r == NULL, "SHUTDOWN answered (type %d)",
                  r ? r->type : 0);
    redisFree(c);
    st = rk_server_wait_exit(srv, 15000);
    ck_assert_msg(st != -1, "server still running 15 s after SHUTDOWN");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "exit status 0x%x", (unsigned)st);
    /* The data survived the shutdown. */
    rk_server_restart(srv);
    c = rk_connect(srv);
    rk_cmd_bulk(c, "v", "GET rk:sd:k");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

static Suite *
server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = rk_tcase(s, "server", 60);

    tcase_add_test(tc, info_default_fields);
    tcase_add_test(tc, info_sections_by_name);
    tcase_add_test(tc, info_stats_count_commands);
    tcase_add_test(tc, info_keyspace_counts);
    tcase_add_test(tc, dbsize_flushdb_flushall);
    tcase_add_test(tc, config_get_patterns);
    tcase_add_test(tc, config_set_round_trip);
    tcase_add_test(tc, config_resetstat_clears_counters);
    tcase_add_test(tc, command_count_info_docs);
    tcase_add_test(tc, time_two_bulk_strings);
    tcase_add_test(tc, slowlog_get_len_reset);
    tcase_add_test(tc, shutdown_exits_zero);
    return s;
}

int
main(void)
{
    return rk_run_suite(server_suite());
}
