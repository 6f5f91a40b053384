#!/usr/bin/python3
"""tests/clients/test_redis_py.py - redis-py (Debian python3-redis) against
ringkv with the client's default settings.

Run by run.sh, which starts the servers and sets:
  RINGKV_TEST_PORT        a server without a password
  RINGKV_TEST_AUTH_PORT   a server started with --requirepass (optional)
  RINGKV_TEST_PASSWORD    its password

Every check runs even when an earlier one failed; each failure is printed
with what was expected and what came back. Exit status: 0 all passed,
1 some failed, 77 the redis module is not installed.
"""

import os
import sys
import threading
import time
import traceback

try:
    import redis
    import redis.exceptions
except ImportError as e:
    print("SKIP: import redis failed: %s (install python3-redis)" % e,
          file=sys.stderr)
    sys.exit(77)

PORT = int(os.environ.get("RINGKV_TEST_PORT", "6379"))
AUTH_PORT = os.environ.get("RINGKV_TEST_AUTH_PORT", "")
PASSWORD = os.environ.get("RINGKV_TEST_PASSWORD", "")

passed = []
failed = []


class CheckFailed(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise CheckFailed("%s: got %r, want %r" % (what, got, want))


def expect_true(what, cond, detail=""):
    if not cond:
        raise CheckFailed("%s %s" % (what, detail))


def check(name):
    """Decorator: run the check now, record pass/fail, go on regardless."""
    def run(fn):
        try:
            fn()
        except CheckFailed as e:
            failed.append(name)
            print("FAIL: %s: %s" % (name, e))
        except Exception as e:  # a client exception is a failure too
            failed.append(name)
            print("FAIL: %s: %s: %s" % (name, type(e).__name__, e))
            traceback.print_exc(limit=4, file=sys.stdout)
        else:
            passed.append(name)
            print("ok: %s" % name)
        return fn
    return run


def client(**kw):
    return redis.Redis(port=PORT, **kw)


print("redis-py %s (%s), port %d" % (redis.__version__, redis.__file__,
                                     PORT))
r = client()


@check("ping")
def _():
    expect("PING", r.ping(), True)
    expect("ECHO", r.echo(b"hello"), b"hello")


@check("flushdb and dbsize")
def _():
    expect("FLUSHDB", r.flushdb(), True)
    expect("DBSIZE after FLUSHDB", r.dbsize(), 0)


@check("set/get")
def _():
    expect("SET", r.set("py:str", "value"), True)
    expect("GET", r.get("py:str"), b"value")
    expect("GET missing", r.get("py:missing"), None)
    expect("SET NX on existing", r.set("py:str", "x", nx=True), None)
    expect("SET XX", r.set("py:str", "v2", xx=True), True)
    expect("GET after XX", r.get("py:str"), b"v2")
    expect("SET GET", r.set("py:str", "v3", get=True), b"v2")
    expect("GETSET", r.getset("py:str", "v4"), b"v3")
    expect("APPEND", r.append("py:str", "-tail"), 7)
    expect("STRLEN", r.strlen("py:str"), 7)
    expect("GETRANGE", r.getrange("py:str", 0, 1), b"v4")
    expect("SETNX new", r.setnx("py:new", "1"), True)
    expect("GETDEL", r.getdel("py:new"), b"1")
    expect("EXISTS after GETDEL", r.exists("py:new"), 0)


@check("binary-safe keys and values")
def _():
    blob = bytes(range(256)) * 4 + b"\r\n\x00$-1\r\n*3\r\n"
    key = b"py:bin:\x00\r\n\xff"
    expect("SET binary", r.set(key, blob), True)
    expect("GET binary", r.get(key), blob)
    expect("STRLEN binary", r.strlen(key), len(blob))
    expect("SET empty", r.set("py:empty", b""), True)
    expect("GET empty", r.get("py:empty"), b"")
    uni = "ключ-キー-🔑"
    expect("SET unicode", r.set(uni, uni), True)
    expect("GET unicode", r.get(uni), uni.encode("utf-8"))


@check("1 MB value")
def _():
    big = bytes(range(256)) * 4096          # 1 MiB, every byte value
    expect("SET 1 MiB", r.set("py:big", big), True)
    got = r.get("py:big")
    expect_true("GET 1 MiB", got == big,
                "length %s, want %d" % (len(got) if got else got, len(big)))
    expect("STRLEN 1 MiB", r.strlen("py:big"), len(big))


@check("decode_responses=True")
def _():
    d = client(decode_responses=True)
    try:
        expect("SET", d.set("py:dec", "héllo"), True)
        expect("GET", d.get("py:dec"), "héllo")
        expect("MGET", d.mget("py:dec", "py:nope"), ["héllo", None])
    finally:
        d.close()


@check("incr family")
def _():
    r.delete("py:ctr")
    expect("INCR new", r.incr("py:ctr"), 1)
    expect("INCR", r.incr("py:ctr"), 2)
    expect("INCRBY", r.incrby("py:ctr", 40), 42)
    expect("DECR", r.decr("py:ctr"), 41)
    expect("DECRBY", r.decrby("py:ctr", 1), 40)
    expect("INCRBYFLOAT", r.incrbyfloat("py:ctr", 0.5), 40.5)
    expect("GET after INCRBYFLOAT", r.get("py:ctr"), b"40.5")


@check("mset/mget")
def _():
    m = {"py:m:%d" % i: "v%d" % i for i in range(10)}
    expect("MSET", r.mset(m), True)
    keys = list(m) + ["py:m:missing"]
    expect("MGET", r.mget(keys), [m[k].encode() for k in m] + [None])
    expect("MSETNX existing", r.msetnx({"py:m:0": "x", "py:m:new": "y"}),
           False)
    expect("MSETNX left new key unset", r.exists("py:m:new"), 0)


@check("expire/ttl")
def _():
    r.set("py:exp", "v")
    expect("TTL no expire", r.ttl("py:exp"), -1)
    expect("TTL missing", r.ttl("py:exp:missing"), -2)
    expect("EXPIRE", r.expire("py:exp", 100), True)
    ttl = r.ttl("py:exp")
    expect_true("TTL after EXPIRE 100", 98 <= ttl <= 100, "got %r" % ttl)
    pttl = r.pttl("py:exp")
    expect_true("PTTL", 98000 <= pttl <= 100000, "got %r" % pttl)
    expect("PERSIST", r.persist("py:exp"), True)
    expect("TTL after PERSIST", r.ttl("py:exp"), -1)
    expect("SET EX", r.set("py:exp2", "v", ex=50), True)
    ttl = r.ttl("py:exp2")
    expect_true("TTL after SET EX 50", 48 <= ttl <= 50, "got %r" % ttl)
    expect("SETEX", r.setex("py:exp3", 30, "v"), True)
    ttl = r.ttl("py:exp3")
    expect_true("TTL after SETEX 30", 28 <= ttl <= 30, "got %r" % ttl)
    expect("PEXPIRE", r.pexpire("py:exp3", 1), True)
    time.sleep(0.05)
    expect("GET after PEXPIRE 1 ms", r.get("py:exp3"), None)
    expect("EXPIRE missing", r.expire("py:exp:missing", 10), False)


@check("delete/exists/type/rename")
def _():
    r.mset({"py:d1": "1", "py:d2": "2", "py:d3": "3"})
    expect("EXISTS 3 (one twice)",
           r.exists("py:d1", "py:d2", "py:d1", "py:dx"), 3)
    expect("DELETE 2 + missing", r.delete("py:d1", "py:d2", "py:dx"), 2)
    expect("EXISTS after DEL", r.exists("py:d1", "py:d2"), 0)
    expect("UNLINK", r.unlink("py:d3"), 1)
    r.set("py:t", "v")
    expect("TYPE string", r.type("py:t"), b"string")
    expect("TYPE none", r.type("py:tx"), b"none")
    expect("RENAME", r.rename("py:t", "py:t2"), True)
    expect("GET renamed", r.get("py:t2"), b"v")


@check("scan_iter over 500 keys, keys()")
def _():
    r.flushdb()
    with r.pipeline(transaction=False) as p:
        for i in range(500):
            p.set("py:scan:%d" % i, i)
        p.execute()
    r.set("py:other", "x")
    want = {("py:scan:%d" % i).encode() for i in range(500)}
    got = list(r.scan_iter(match="py:scan:*"))
    missing = want - set(got)
    extra = set(got) - want
    expect_true("SCAN MATCH py:scan:* returned every key", not missing,
                "%d missing, e.g. %r" % (len(missing), sorted(missing)[:5]))
    expect_true("SCAN MATCH returned only matching keys", not extra,
                "extra %r" % sorted(extra)[:5])
    got_all = list(r.scan_iter(count=50))
    expect("SCAN COUNT 50 (all keys, as a set)", set(got_all),
           want | {b"py:other"})
    expect_true("SCAN without duplicates on a quiet keyspace",
                len(got_all) == len(set(got_all)),
                "%d returned, %d distinct" % (len(got_all),
                                              len(set(got_all))))
    cursor, page = r.scan(0, count=10)
    expect_true("SCAN 0 COUNT 10: cursor and page", isinstance(cursor, int)
                and len(page) > 0, "got %r %r" % (cursor, page))
    keys = r.keys("py:scan:1*")
    want_keys = {k for k in want if k.startswith(b"py:scan:1")}
    expect("KEYS py:scan:1*", set(keys), want_keys)
    expect("KEYS count", len(keys), 111)
    expect("DBSIZE", r.dbsize(), 501)


@check("pipeline() default: MULTI/EXEC")
def _():
    with r.pipeline() as p:
        p.set("py:p:a", "1")
        p.incr("py:p:a")
        p.get("py:p:a")
        p.mset({"py:p:b": "b", "py:p:c": "c"})
        p.mget("py:p:b", "py:p:c")
        p.expire("py:p:a", 100)
        p.ttl("py:p:a")
        p.delete("py:p:b")
        p.exists("py:p:b")
        res = p.execute()
    expect("pipeline results", res,
           [True, 2, b"2", True, [b"b", b"c"], True, 100, 1, 0])


@check("pipeline() chained, empty and error results")
def _():
    res = r.pipeline().set("py:p:x", "x").get("py:p:x").execute()
    expect("chained pipeline", res, [True, b"x"])
    expect("empty pipeline", r.pipeline().execute(), [])
    p = r.pipeline()
    p.set("py:p:s", "notanumber")
    p.incr("py:p:s")
    p.get("py:p:s")
    res = p.execute(raise_on_error=False)
    expect("MULTI with a failing INCR: first", res[0], True)
    expect_true("MULTI with a failing INCR: error in place",
                isinstance(res[1], redis.ResponseError), "got %r" % res[1:])
    expect("MULTI with a failing INCR: rest ran", res[2], b"notanumber")
    p = r.pipeline()
    p.incr("py:p:s")
    try:
        p.execute()
    except redis.ResponseError:
        pass
    else:
        raise CheckFailed("execute() did not raise the EXEC error")
    # A command the server rejects at queueing time: EXECABORT.
    p = r.pipeline()
    p.set("py:p:q", "1")
    p.execute_command("SET", "py:p:q")       # wrong arity
    try:
        p.execute()
    except redis.ResponseError as e:
        expect_true("EXECABORT reported", "EXECABORT" in str(e) or
                    "wrong number" in str(e), "got %r" % str(e))
    else:
        raise CheckFailed("queue-time error did not raise")
    expect("EXECABORT discarded the queue", r.get("py:p:q"), None)


@check("pipeline(transaction=False)")
def _():
    with r.pipeline(transaction=False) as p:
        for i in range(100):
            p.set("py:np:%d" % i, i)
        for i in range(100):
            p.get("py:np:%d" % i)
        p.incr("py:np:ctr")
        p.ping()
        res = p.execute()
    expect("100 SET", res[:100], [True] * 100)
    expect("100 GET", res[100:200], [str(i).encode() for i in range(100)])
    expect("INCR, PING", res[200:], [1, True])


@check("WATCH transaction: WatchError when another client writes")
def _():
    r.set("py:w", "0")
    other = client()
    try:
        with r.pipeline() as p:
            p.watch("py:w")
            cur = int(p.get("py:w"))
            other.set("py:w", "100")          # a different connection
            p.multi()
            p.set("py:w", cur + 1)
            try:
                p.execute()
            except redis.WatchError:
                pass
            else:
                raise CheckFailed("EXEC after a concurrent write did not "
                                  "raise WatchError")
        expect("value after aborted EXEC", r.get("py:w"), b"100")
        # Untouched WATCH: EXEC runs.
        with r.pipeline() as p:
            p.watch("py:w")
            cur = int(p.get("py:w"))
            p.multi()
            p.set("py:w", cur + 1)
            expect("EXEC with untouched WATCH", p.execute(), [True])
        expect("value after EXEC", r.get("py:w"), b"101")

        # The transaction() helper retries on WatchError.
        calls = []

        def bump(pipe):
            v = int(pipe.get("py:w"))
            if not calls:
                other.set("py:w", "200")
            calls.append(v)
            pipe.multi()
            pipe.set("py:w", v + 1)

        r.transaction(bump, "py:w")
        expect("transaction() retried once", calls, [101, 200])
        expect("value after transaction()", r.get("py:w"), b"201")
    finally:
        other.close()


@check("client_setname/getname/list/id")
def _():
    c = client()
    try:
        expect("CLIENT GETNAME unset", c.client_getname(), None)
        expect("CLIENT SETNAME", c.client_setname("py-smoke"), True)
        expect("CLIENT GETNAME", c.client_getname(), "py-smoke")
        cid = c.client_id()
        expect_true("CLIENT ID", isinstance(cid, int) and cid > 0,
                    "got %r" % cid)
        lst = c.client_list()
        expect_true("CLIENT LIST is a list of dicts", isinstance(lst, list)
                    and lst and isinstance(lst[0], dict), "got %r" % lst)
        mine = [e for e in lst if e.get("name") == "py-smoke"]
        expect("CLIENT LIST entries named py-smoke", len(mine), 1)
        for field in ("id", "addr", "fd", "age", "idle", "db", "cmd"):
            expect_true("CLIENT LIST field %s" % field, field in mine[0],
                        "entry %r" % mine[0])
        expect("CLIENT LIST id", mine[0]["id"], str(cid))
        expect("CLIENT LIST cmd", mine[0]["cmd"], "client|list")
        info = c.client_info()
        expect("CLIENT INFO name", info.get("name"), "py-smoke")
    finally:
        c.close()


@check("info() parsed")
def _():
    info = r.info()
    expect_true("INFO is a dict", isinstance(info, dict), type(info))
    expect_true("redis_version", isinstance(info.get("redis_version"), str)
                and info["redis_version"][:1].isdigit(),
                "got %r" % info.get("redis_version"))
    cc = info.get("connected_clients")
    expect_true("connected_clients is an int >= 1",
                isinstance(cc, int) and cc >= 1, "got %r" % cc)
    r.set("py:info:key", "v")
    r.set("py:info:exp", "v", ex=100)
    info = r.info()
    db0 = info.get("db0")
    expect_true("db0 parsed as a dict", isinstance(db0, dict),
                "got %r" % db0)
    expect("db0 keys", db0.get("keys"), r.dbsize())
    expect_true("db0 expires >= 1", isinstance(db0.get("expires"), int)
                and db0["expires"] >= 1, "got %r" % db0)
    expect_true("db0 avg_ttl", "avg_ttl" in db0, "got %r" % db0)
    for section, field in (("server", "redis_version"),
                           ("clients", "connected_clients"),
                           ("memory", "used_memory"),
                           ("stats", "total_commands_processed"),
                           ("keyspace", "db0")):
        sec = r.info(section)
        expect_true("INFO %s has %s" % (section, field), field in sec,
                    "keys %r" % sorted(sec)[:20])
    expect_true("INFO uptime_in_seconds is an int",
                isinstance(info.get("uptime_in_seconds"), int),
                "got %r" % info.get("uptime_in_seconds"))
    expect_true("INFO loading is 0", info.get("loading") == 0,
                "got %r" % info.get("loading"))


@check("config_get('*')")
def _():
    cfg = r.config_get("*")
    expect_true("CONFIG GET * is a non-empty dict",
                isinstance(cfg, dict) and len(cfg) > 0, "got %r" % cfg)
    expect("CONFIG GET * port", cfg.get("port"), str(PORT))
    expect("CONFIG GET timeout", r.config_get("timeout"), {"timeout": "0"})
    expect("CONFIG GET no-such-parameter", r.config_get("no-such-param"), {})


@check("error reply raises ResponseError")
def _():
    r.set("py:err", "abc")
    try:
        r.incr("py:err")
    except redis.ResponseError as e:
        expect_true("INCR on a string", "not an integer" in str(e),
                    "message %r" % str(e))
    else:
        raise CheckFailed("INCR on a string did not raise")
    try:
        r.execute_command("NOSUCHCOMMAND", "a")
    except redis.ResponseError as e:
        expect_true("unknown command", "unknown command" in str(e),
                    "message %r" % str(e))
    else:
        raise CheckFailed("unknown command did not raise")
    try:
        r.execute_command("GET")
    except redis.ResponseError as e:
        expect_true("wrong arity", "wrong number of arguments" in str(e),
                    "message %r" % str(e))
    else:
        raise CheckFailed("GET without a key did not raise")
    # The connection is still usable after errors.
    expect("PING after errors", r.ping(), True)


@check("connection pool shared by threads")
def _():
    r.delete("py:thr")
    errors = []

    def work():
        try:
            for _ in range(200):
                r.incr("py:thr")
        except Exception as e:  # noqa
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    expect("thread errors", errors, [])
    expect("INCR total from 4 threads", r.get("py:thr"), b"800")


@check("flushdb empties the database")
def _():
    r.set("py:f", "1")
    expect("FLUSHDB", r.flushdb(), True)
    expect("DBSIZE", r.dbsize(), 0)
    expect("KEYS *", r.keys("*"), [])


if AUTH_PORT:
    AUTH_PORT = int(AUTH_PORT)

    @check("requirepass: Redis(password=...) works")
    def _():
        a = redis.Redis(port=AUTH_PORT, password=PASSWORD)
        try:
            expect("PING with password", a.ping(), True)
            expect("SET with password", a.set("py:auth", "v"), True)
            expect("GET with password", a.get("py:auth"), b"v")
        finally:
            a.close()

    @check("requirepass: no password raises AuthenticationError")
    def _():
        a = redis.Redis(port=AUTH_PORT)
        try:
            a.get("py:auth")
        except redis.exceptions.AuthenticationError as e:
            expect_true("NOAUTH message", "NOAUTH" in str(e) or
                        "uthentication required" in str(e),
                        "got %r" % str(e))
        else:
            raise CheckFailed("GET without password did not raise")
        finally:
            a.close()

    @check("requirepass: wrong password is refused")
    def _():
        # redis-py 4.3 raises ResponseError for WRONGPASS (later versions
        # AuthenticationError); either is right, a working PING is not.
        a = redis.Redis(port=AUTH_PORT, password="wrong-" + PASSWORD)
        try:
            a.ping()
        except (redis.exceptions.AuthenticationError,
                redis.ResponseError) as e:
            expect_true("WRONGPASS message", "WRONGPASS" in str(e),
                        "got %s: %r" % (type(e).__name__, str(e)))
        else:
            raise CheckFailed("PING with a wrong password did not raise")
        finally:
            a.close()
else:
    print("note: RINGKV_TEST_AUTH_PORT not set, requirepass checks skipped")

r.close()
print("%d passed, %d failed" % (len(passed), len(failed)))
if failed:
    print("failed: " + ", ".join(failed))
    sys.exit(1)
sys.exit(0)
