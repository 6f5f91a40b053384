/*
 * tests/integration/test_conn.c - connection commands against a spawned
 * ringkv-server: PING, ECHO, QUIT, RESET, SELECT, HELLO, CLIENT, AUTH and
 * the generic unknown-command and arity errors, byte-exact as Redis 7.0.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const password_args[] = {
    "--requirepass", RK_TEST_PASSWORD, NULL
};

/* A server that requires RK_TEST_PASSWORD (CONFIG SET on Redis). */
static struct rk_server *
start_with_password(void)
{
    struct rk_server *srv = rk_server_start(password_args);

    if (rk_is_external()) {
        redisContext *c = rk_connect(srv);

        rk_cmd_status(c, "OK", "CONFIG SET requirepass %s",
                      RK_TEST_PASSWORD);
        redisFree(c);
    }
    return srv;
}

/* Undo start_with_password() on Redis so later suites find no password. */
static void
stop_with_password(struct rk_server *srv)
{
    if (rk_is_external()) {
        redisContext *c = rk_connect(srv);

        rk_cmd_status(c, "OK", "AUTH %s", RK_TEST_PASSWORD);
        rk_cmd_status(c, "OK", "CONFIG SET requirepass %s", "");
        redisFree(c);
    }
    rk_server_stop(srv);
}

/* "127.0.0.1:PORT" of the client side of a hiredis connection. */
static void
local_addr(redisContext *c, char *buf, size_t len)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(buf, len, "127.0.0.1:%d", ntohs(sa.sin_port));
}

static long long
client_id(redisContext *c)
{
    redisReply *r = rk_cmd(c, "CLIENT ID");
    long long id;

    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    id = r->integer;
    freeReplyObject(r);
    ck_assert_int_gt(id, 0);
    return id;
}

/* The connection is closed: the next command gets no reply. */
static void
assert_closed(redisContext *c)
{
    redisReply *r = redisCommand(c, "PING");

    ck_assert_msg(r == NULL, "connection still open after kill/quit");
}

START_TEST(ping_and_echo)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "PONG", "PING");
    rk_cmd_bulk(c, "hello", "PING hello");
    rk_cmd_bulk(c, "", "PING %s", "");
    rk_cmd_error(c, "ERR wrong number of arguments for 'ping' command",
                 "PING a b");
    rk_cmd_bulk(c, "hi", "ECHO hi");
    r = rk_cmd(c, "ECHO %b", "a\0b\r\nc", (size_t)6);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq(r->len, 6);
    ck_assert(memcmp(r->str, "a\0b\r\nc", 6) == 0);
    freeReplyObject(r);
    rk_cmd_error(c, "ERR wrong number of arguments for 'echo' command",
                 "ECHO");
    rk_cmd_error(c, "ERR wrong number of arguments for 'echo' command",
                 "ECHO a b");
    /* Command names are case-insensitive. */
    rk_cmd_status(c, "PONG", "pInG");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(quit_replies_ok_then_closes)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    int fd;

    rk_cmd_status(c, "OK", "QUIT");
    assert_closed(c);
    redisFree(c);

    /* Pipelined after QUIT: nothing more is answered. */
    fd = rk_raw_connect(srv);
    rk_raw_send_str(fd, "PING\r\nQUIT\r\nPING\r\n");
    rk_raw_expect(fd, "+PONG\r\n+OK\r\n", 5000);
    ck_assert_int_eq(rk_raw_wait_closed(fd, 5000), 1);
    close(fd);

    /* The server carries on. */
    c = rk_connect(srv);
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(reset_clears_name_multi_watch)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    redisContext *other = rk_connect(srv);
    redisReply *r;

    rk_cmd_status(c, "OK", "CLIENT SETNAME before-reset");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "SET rk:reset:k v");
    rk_cmd_status(c, "RESET", "RESET");
    rk_cmd_nil(c, "CLIENT GETNAME");
    rk_cmd_error(c, "ERR EXEC without MULTI", "EXEC");
    rk_cmd_nil(c, "GET rk:reset:k");

    /* RESET forgets WATCHed keys. */
    rk_cmd_status(c, "OK", "WATCH rk:reset:w");
    rk_cmd_status(c, "RESET", "RESET");
    rk_cmd_status(other, "OK", "SET rk:reset:w changed");
    rk_cmd_status(c, "OK", "MULTI");
    rk_cmd_status(c, "QUEUED", "GET rk:reset:w");
    r = rk_cmd(c, "EXEC");
    rk_assert_array(r, 1);
    rk_assert_bulk(r->element[0], "changed");
    freeReplyObject(r);

    redisFree(other);
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(reset_clears_auth)
{
    struct rk_server *srv = start_with_password();
    redisContext *c = rk_connect(srv);

    rk_cmd_status(c, "OK", "AUTH %s", RK_TEST_PASSWORD);
    rk_cmd_status(c, "PONG", "PING");
    rk_cmd_status(c, "RESET", "RESET");
    rk_cmd_error(c, "NOAUTH Authentication required.", "PING");
    redisFree(c);
    stop_with_password(srv);
}
END_TEST

START_TEST(select_db0_only)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_status(c, "OK", "SELECT 0");
    rk_cmd_error(c, "ERR value is not an integer or out of range",
                 "SELECT abc");
    rk_cmd_error(c, "ERR DB index is out of range", "SELECT -1");
    rk_cmd_error(c, "ERR DB index is out of range", "SELECT 16");
    rk_cmd_error(c, "ERR wrong number of arguments for 'select' command",
                 "SELECT");
    if (!rk_is_external()) {
        /* ringkv has one database; Redis accepts 1..15. */
        rk_cmd_error(c, "ERR DB index is out of range", "SELECT 1");
    }
    rk_cmd_status(c, "OK", "SELECT 0");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/*
 * Check a RESP2 HELLO reply (flat array of 7 pairs) for the client whose
 * CLIENT ID is id (0: not known yet).
 */
static void
check_hello(const redisReply *r, long long id)
{
    static const char *const keys[] = {
        "server", "version", "proto", "id", "mode", "role", "modules"
    };
    size_t i;

    rk_assert_array(r, 14);
    for (i = 0; i < 7; i++) {
        rk_assert_bulk(r->element[2 * i], keys[i]);
    }
    ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_STRING);
    ck_assert_int_gt(r->element[1]->len, 0);
    ck_assert_int_eq(r->element[3]->type, REDIS_REPLY_STRING);
    ck_assert_int_gt(r->element[3]->len, 0);
    rk_assert_int(r->element[5], 2);
    if (id > 0) {
        rk_assert_int(r->element[7], id);
    } else {
        ck_assert_int_eq(r->element[7]->type, REDIS_REPLY_INTEGER);
        ck_assert_int_gt(r->element[7]->integer, 0);
    }
    ck_assert_int_eq(r->element[9]->type, REDIS_REPLY_STRING);
    rk_assert_bulk(r->element[11], "master");
    rk_assert_array(r->element[13], 0);
}

START_TEST(hello_without_arguments)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    long long id = client_id(c);
    redisReply *r;

    r = rk_cmd(c, "HELLO");
    check_hello(r, id);
    freeReplyObject(r);
    r = rk_cmd(c, "HELLO 2");
    check_hello(r, id);
    freeReplyObject(r);
    rk_cmd_error(c, "NOPROTO unsupported protocol version", "HELLO 1");
    rk_cmd_error(c, "NOPROTO unsupported protocol version", "HELLO 4");
    rk_cmd_error(c, "ERR Protocol version is not an integer or out of range",
                 "HELLO x");
    rk_cmd_error(c, "ERR Syntax error in HELLO option 'FOO'", "HELLO 2 FOO");
    rk_cmd_error(c, "ERR Syntax error in HELLO option 'AUTH'",
                 "HELLO 2 AUTH default");
    /* Only the default user exists. */
    rk_cmd_error(c, "WRONGPASS invalid username-password pair or user is "
                 "disabled.", "HELLO 2 AUTH nosuchuser p");
    /* Still RESP2 after all that. */
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

/* HELLO 3 switches the connection to RESP3 (node-redis 5+ needs it by
 * default); HELLO 2 and RESET switch back. Checked over a raw socket:
 * hiredis 0.14 reads only RESP2. */
START_TEST(hello_3_switches_protocol)
{
    struct rk_server *srv = rk_server_start(NULL);
    int fd = rk_raw_connect(srv);
    char buf[4096];
    size_t n;

    rk_raw_send_str(fd, "HELLO 3\r\n");
    n = rk_raw_read(fd, buf, sizeof(buf) - 1, 200);
    buf[n] = '\0';
    ck_assert_msg(strncmp(buf, "%7\r\n$6\r\nserver\r\n", 16) == 0,
                  "HELLO 3 reply: %s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "$5\r\nproto\r\n:3\r\n"));
    rk_raw_send_str(fd, "DEL nosuchkey\r\nGET nosuchkey\r\n"
                    "MGET nosuchkey nosuchkey\r\n");
    rk_raw_expect(fd, ":0\r\n_\r\n*2\r\n_\r\n_\r\n", 2000);
    rk_raw_send_str(fd, "CONFIG GET maxclients\r\n");
    rk_raw_expect(fd, "%1\r\n$10\r\nmaxclients\r\n", 2000);
    (void)rk_raw_read(fd, buf, sizeof(buf), 200);
    rk_raw_send_str(fd, "RESET\r\nGET nosuchkey\r\n");
    rk_raw_expect(fd, "+RESET\r\n$-1\r\n", 2000);
    rk_raw_send_str(fd, "HELLO 3\r\n");
    (void)rk_raw_read(fd, buf, sizeof(buf), 200);
    rk_raw_send_str(fd, "HELLO 2\r\n");
    n = rk_raw_read(fd, buf, sizeof(buf) - 1, 200);
    buf[n] = '\0';
    ck_assert_msg(strncmp(buf, "*14\r\n", 5) == 0, "HELLO 2: %s", buf);
    rk_raw_send_str(fd, "GET nosuchkey\r\n");
    rk_raw_expect(fd, "$-1\r\n", 2000);
    close(fd);
    rk_server_stop(srv);
}
END_TEST

START_TEST(hello_auth_and_setname)
{
    struct rk_server *srv = start_with_password();
    redisContext *c = rk_connect(srv);
    long long id;
    redisReply *r;

    rk_cmd_error(c, "NOAUTH HELLO must be called with the client already "
                 "authenticated, otherwise the HELLO AUTH <user> <pass> "
                 "option can be used to authenticate the client and select "
                 "the RESP protocol version at the same time", "HELLO");
    rk_cmd_error(c, "NOAUTH HELLO must be called with the client already "
                 "authenticated, otherwise the HELLO AUTH <user> <pass> "
                 "option can be used to authenticate the client and select "
                 "the RESP protocol version at the same time",
                 "HELLO 2 SETNAME x");
    rk_cmd_error(c, "WRONGPASS invalid username-password pair or user is "
                 "disabled.", "HELLO 2 AUTH default wrong");
    rk_cmd_error(c, "NOAUTH Authentication required.", "PING");

    r = rk_cmd(c, "HELLO 2 AUTH default %s SETNAME hello-name",
               RK_TEST_PASSWORD);
    check_hello(r, 0);
    id = r->element[7]->integer;
    freeReplyObject(r);
    ck_assert_int_eq(client_id(c), id);
    rk_cmd_status(c, "PONG", "PING");
    rk_cmd_bulk(c, "hello-name", "CLIENT GETNAME");

    r = rk_cmd(c, "HELLO 2 SETNAME other-name");
    check_hello(r, id);
    freeReplyObject(r);
    rk_cmd_bulk(c, "other-name", "CLIENT GETNAME");
    redisFree(c);
    stop_with_password(srv);
}
END_TEST

START_TEST(client_id_setname_getname)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *a = rk_connect(srv);
    long long ida = client_id(a), idb;
    redisContext *b = rk_connect(srv);

    /* b connected after a was served: its ID is larger. */
    idb = client_id(b);
    ck_assert_int_ne(ida, idb);
    ck_assert_int_gt(idb, ida);
    ck_assert_int_eq(client_id(a), ida);
    rk_cmd_nil(a, "CLIENT GETNAME");
    rk_cmd_status(a, "OK", "CLIENT SETNAME conn-a");
    rk_cmd_bulk(a, "conn-a", "CLIENT GETNAME");
    rk_cmd_nil(b, "CLIENT GETNAME");
    rk_cmd_error(a, "ERR Client names cannot contain spaces, newlines or "
                 "special characters.", "CLIENT SETNAME %s", "a b");
    rk_cmd_error(a, "ERR Client names cannot contain spaces, newlines or "
                 "special characters.", "CLIENT SETNAME %s", "a\nb");
    rk_cmd_bulk(a, "conn-a", "CLIENT GETNAME");
    rk_cmd_status(a, "OK", "CLIENT SETNAME %s", "");
    rk_cmd_nil(a, "CLIENT GETNAME");
    rk_cmd_error(a, "ERR wrong number of arguments for 'client|setname' "
                 "command", "CLIENT SETNAME");
    rk_cmd_error(a, "ERR wrong number of arguments for 'client|getname' "
                 "command", "CLIENT GETNAME x");
    rk_cmd_error(a, "ERR wrong number of arguments for 'client|id' command",
                 "CLIENT ID x");
    rk_cmd_error(a, "ERR unknown subcommand 'foo'. Try CLIENT HELP.",
                 "CLIENT foo");
    rk_cmd_error(a, "ERR wrong number of arguments for 'client' command",
                 "CLIENT");
    redisFree(a);
    redisFree(b);
    rk_server_stop(srv);
}
END_TEST

/* The line of a CLIENT LIST text that starts with "id=ID ", or NULL. */
static const char *
find_client_line(const char *list, long long id)
{
    char prefix[40];
    const char *p = list;

    snprintf(prefix, sizeof(prefix), "id=%lld ", id);
    while (p != NULL && *p != '\0') {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            return p;
        }
        p = strchr(p, '\n');
        if (p != NULL) {
            p++;
        }
    }
    return NULL;
}

/* Does the line at p (up to '\n') contain " field=value " (or end)? */
static int
line_has(const char *p, const char *field_value)
{
    size_t linelen = strcspn(p, "\n");
    size_t fl = strlen(field_value);
    const char *q = p;

    while ((q = strstr(q, field_value)) != NULL && q < p + linelen) {
        int start_ok = q == p || q[-1] == ' ';
        int end_ok = q[fl] == ' ' || q[fl] == '\n';

        if (start_ok && end_ok) {
            return 1;
        }
        q++;
    }
    return 0;
}

START_TEST(client_info_and_list)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *a = rk_connect(srv);
    redisContext *b = rk_connect(srv);
    long long ida = client_id(a), idb = client_id(b);
    char addr_a[64], addr_b[64], field[96];
    const char *line;
    redisReply *r;

    local_addr(a, addr_a, sizeof(addr_a));
    local_addr(b, addr_b, sizeof(addr_b));
    rk_cmd_status(a, "OK", "CLIENT SETNAME conn-a");

    r = rk_cmd(a, "CLIENT INFO");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(r->len > 0 && r->str[r->len - 1] == '\n',
                  "CLIENT INFO must end with a newline: '%s'", r->str);
    ck_assert_ptr_eq(strchr(r->str, '\n'), r->str + r->len - 1);
    line = find_client_line(r->str, ida);
    ck_assert_msg(line == r->str, "CLIENT INFO: '%s'", r->str);
    snprintf(field, sizeof(field), "addr=%s", addr_a);
    ck_assert_msg(line_has(line, field), "no %s in '%s'", field, r->str);
    ck_assert_msg(line_has(line, "name=conn-a"), "'%s'", r->str);
    ck_assert_msg(line_has(line, "db=0"), "'%s'", r->str);
    ck_assert_msg(line_has(line, "cmd=client|info"), "'%s'", r->str);
    freeReplyObject(r);

    r = rk_cmd(a, "CLIENT LIST");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(r->len > 0 && r->str[r->len - 1] == '\n', "'%s'", r->str);
    line = find_client_line(r->str, ida);
    ck_assert_msg(line != NULL, "client %lld not in '%s'", ida, r->str);
    ck_assert_msg(line_has(line, "name=conn-a"), "'%s'", r->str);
    ck_assert_msg(line_has(line, "cmd=client|list"), "'%s'", r->str);
    line = find_client_line(r->str, idb);
    ck_assert_msg(line != NULL, "client %lld not in '%s'", idb, r->str);
    snprintf(field, sizeof(field), "addr=%s", addr_b);
    ck_assert_msg(line_has(line, field), "no %s in '%s'", field, r->str);
    ck_assert_msg(line_has(line, "name="), "'%s'", r->str);
    freeReplyObject(r);

    r = rk_cmd(a, "CLIENT LIST ID %lld", idb);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(find_client_line(r->str, idb) == r->str, "'%s'", r->str);
    ck_assert_ptr_eq(strchr(r->str, '\n'), r->str + r->len - 1);
    freeReplyObject(r);

    redisFree(a);
    redisFree(b);
    rk_server_stop(srv);
}
END_TEST

START_TEST(client_kill_forms)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *a = rk_connect(srv);
    redisContext *b = rk_connect(srv);
    redisContext *c = rk_connect(srv);
    redisContext *d = rk_connect(srv);
    char addr[64];

    /* New style by ID: the number of clients killed. */
    rk_cmd_int(a, 1, "CLIENT KILL ID %lld", client_id(b));
    assert_closed(b);
    rk_cmd_int(a, 0, "CLIENT KILL ID %d", 999999);

    /* New style by ADDR. */
    local_addr(c, addr, sizeof(addr));
    rk_cmd_int(a, 1, "CLIENT KILL ADDR %s", addr);
    assert_closed(c);
    rk_cmd_int(a, 0, "CLIENT KILL ADDR %s", "1.2.3.4:5");

    /* Old style ip:port: +OK or an error. */
    local_addr(d, addr, sizeof(addr));
    rk_cmd_status(a, "OK", "CLIENT KILL %s", addr);
    assert_closed(d);
    rk_cmd_error(a, "ERR No such client", "CLIENT KILL %s", "1.2.3.4:5");
    rk_cmd_error(a, "ERR syntax error", "CLIENT KILL foo bar");
    rk_cmd_error(a, "ERR wrong number of arguments for 'client|kill' "
                 "command", "CLIENT KILL");

    /* The killer lives on. */
    rk_cmd_status(a, "PONG", "PING");
    redisFree(a);
    redisFree(b);
    redisFree(c);
    redisFree(d);
    rk_server_stop(srv);
}
END_TEST

START_TEST(client_setinfo)
{
    struct rk_server *srv;
    redisContext *c;
    redisReply *r;

    RK_REQUIRE_RINGKV();  /* CLIENT SETINFO is Redis 7.2 */
    srv = rk_server_start(NULL);
    c = rk_connect(srv);
    rk_cmd_status(c, "OK", "CLIENT SETINFO lib-name redis-py");
    /* redis-py sends the attribute in upper case. */
    rk_cmd_status(c, "OK", "CLIENT SETINFO LIB-VER 5.0.1");
    r = rk_cmd(c, "CLIENT INFO");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(line_has(r->str, "lib-name=redis-py"), "'%s'", r->str);
    ck_assert_msg(line_has(r->str, "lib-ver=5.0.1"), "'%s'", r->str);
    freeReplyObject(r);
    rk_cmd_error(c, "ERR lib-name cannot contain spaces, newlines or "
                 "special characters.", "CLIENT SETINFO lib-name %s", "a b");
    rk_cmd_error(c, "ERR Unrecognized option 'foo'",
                 "CLIENT SETINFO foo bar");
    rk_cmd_error(c, "ERR wrong number of arguments for 'client|setinfo' "
                 "command", "CLIENT SETINFO lib-name");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(auth_required)
{
    struct rk_server *srv = start_with_password();
    redisContext *c = rk_connect(srv);
    redisContext *d;

    rk_cmd_error(c, "NOAUTH Authentication required.", "PING");
    rk_cmd_error(c, "NOAUTH Authentication required.", "GET rk:auth");
    rk_cmd_error(c, "NOAUTH Authentication required.", "SET rk:auth v");
    rk_cmd_error(c, "WRONGPASS invalid username-password pair or user is "
                 "disabled.", "AUTH wrong");
    rk_cmd_error(c, "WRONGPASS invalid username-password pair or user is "
                 "disabled.", "AUTH default wrong");
    rk_cmd_error(c, "WRONGPASS invalid username-password pair or user is "
                 "disabled.", "AUTH nosuchuser %s", RK_TEST_PASSWORD);
    rk_cmd_error(c, "ERR syntax error", "AUTH a b c");
    rk_cmd_error(c, "ERR wrong number of arguments for 'auth' command",
                 "AUTH");
    rk_cmd_error(c, "NOAUTH Authentication required.", "PING");
    rk_cmd_status(c, "OK", "AUTH %s", RK_TEST_PASSWORD);
    rk_cmd_status(c, "PONG", "PING");
    rk_cmd_status(c, "OK", "SET rk:auth v");
    /* A failed AUTH later does not log the client out (Redis 6+). */
    rk_cmd_error(c, "WRONGPASS invalid username-password pair or user is "
                 "disabled.", "AUTH wrong");
    rk_cmd_bulk(c, "v", "GET rk:auth");

    d = rk_connect(srv);
    rk_cmd_status(d, "OK", "AUTH default %s", RK_TEST_PASSWORD);
    rk_cmd_bulk(d, "v", "GET rk:auth");
    rk_cmd_status(d, "OK", "QUIT");
    redisFree(d);
    redisFree(c);
    stop_with_password(srv);
}
END_TEST

START_TEST(auth_without_password_configured)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_error(c, "ERR AUTH <password> called without any password "
                 "configured for the default user. Are you sure your "
                 "configuration is correct?", "AUTH foo");
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(unknown_command_text)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);
    char name[201], a1[101], a2[101], exp[512];

    rk_cmd_error(c, "ERR unknown command 'foo', with args beginning with: "
                 "'a' 'b' ", "foo a b");
    rk_cmd_error(c, "ERR unknown command 'foo', with args beginning with: ",
                 "foo");
    rk_cmd_error(c, "ERR unknown command 'FOO', with args beginning with: "
                 "'x' ", "FOO x");
    /* Long names and arguments are cut to 128 characters each side. */
    memset(name, 'x', 200);
    name[200] = '\0';
    memset(a1, 'y', 100);
    a1[100] = '\0';
    memset(a2, 'z', 100);
    a2[100] = '\0';
    snprintf(exp, sizeof(exp), "ERR unknown command '%.128s', with args "
             "beginning with: '%s' '%.25s' ", name, a1, a2);
    rk_cmd_error(c, exp, "%s %s %s", name, a1, a2);
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

START_TEST(wrong_arity_text)
{
    struct rk_server *srv = rk_server_start(NULL);
    redisContext *c = rk_connect(srv);

    rk_cmd_error(c, "ERR wrong number of arguments for 'get' command",
                 "GET");
    rk_cmd_error(c, "ERR wrong number of arguments for 'get' command",
                 "GET a b");
    rk_cmd_error(c, "ERR wrong number of arguments for 'get' command",
                 "gEt");
    rk_cmd_error(c, "ERR wrong number of arguments for 'set' command",
                 "SET a");
    rk_cmd_error(c, "ERR wrong number of arguments for 'config|get' "
                 "command", "CONFIG GET");
    rk_cmd_status(c, "PONG", "PING");
    redisFree(c);
    rk_server_stop(srv);
}
END_TEST

static Suite *
conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = rk_tcase(s, "conn", 60);

    tcase_add_test(tc, ping_and_echo);
    tcase_add_test(tc, quit_replies_ok_then_closes);
    tcase_add_test(tc, reset_clears_name_multi_watch);
    tcase_add_test(tc, reset_clears_auth);
    tcase_add_test(tc, select_db0_only);
    tcase_add_test(tc, hello_without_arguments);
    tcase_add_test(tc, hello_3_switches_protocol);
    tcase_add_test(tc, hello_auth_and_setname);
    tcase_add_test(tc, client_id_setname_getname);
    tcase_add_test(tc, client_info_and_list);
    tcase_add_test(tc, client_kill_forms);
    tcase_add_test(tc, client_setinfo);
    tcase_add_test(tc, auth_required);
    tcase_add_test(tc, auth_without_password_configured);
    tcase_add_test(tc, unknown_command_text);
    tcase_add_test(tc, wrong_arity_text);
    return s;
}

int
main(void)
{
    return rk_run_suite(conn_suite());
}
