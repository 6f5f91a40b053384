#!/bin/bash
# tests/integration/test_tools.sh - the stock Redis tools against ringkv:
# redis-cli (PING, --pipe, --scan) and redis-benchmark. Starts
# $RINGKV_BIN on a free loopback port with a temporary data dir and kills it
# on exit. With RINGKV_TEST_REDIS_PORT set, uses that running server
# instead (to check the test against a real redis-server).
# Exit status: 0 pass, 1 fail, 77 skipped (tools not installed).

set -u

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

for tool in redis-cli redis-benchmark; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed" >&2
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-tools-XXXXXX") || fail "mktemp"
server_pid=""

cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null
        for _ in $(seq 100); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Is something listening on 127.0.0.1:$1?
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port P with P and P + 10000 (the cluster port) unused, below the
# ephemeral range.
pick_port() {
    local p
    for _ in $(seq 200); do
        p=$((10240 + RANDOM % 12000))
        if ! port_in_use "$p" && ! port_in_use $((p + 10000)); then
            echo "$p"
            return 0
        fi
    done
    return 1
}

start_server() {
    local attempt
    for attempt in 1 2 3; do
        port=$(pick_port) || fail "no free port"
        mkdir -p "$tmp/data"
        "$RINGKV_BIN" --bind 127.0.0.1 --port "$port" \
            --data-dir "$tmp/data" >"$tmp/server.log" 2>&1 &
        server_pid=$!
        for _ in $(seq 100); do
            if ! kill -0 "$server_pid" 2>/dev/null; then
                break
            fi
            if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ]; then
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            cat "$tmp/server.log" >&2
            fail "server did not answer PING within 10 s"
        fi
        wait "$server_pid"
        server_pid=""
        if ! grep -q "in use" "$tmp/server.log"; then
            cat "$tmp/server.log" >&2
            fail "server exited during start-up"
        fi
        echo "port $port busy, retrying (attempt $attempt)" >&2
    done
    fail "could not start the server"
}

if [ -n "${RINGKV_TEST_REDIS_PORT:-}" ]; then
    port=$RINGKV_TEST_REDIS_PORT
    echo "running against the external server on port $port" >&2
    redis-cli -p "$port" flushall >/dev/null || fail "external server"
else
    [ -n "${RINGKV_BIN:-}" ] || fail "RINGKV_BIN is not set"
    start_server
fi

show_log() {
    if [ -f "$tmp/server.log" ]; then
        echo "---- server log ----" >&2
        tail -c 8192 "$tmp/server.log" >&2
    fi
}

# 1. redis-cli ping
out=$(redis-cli -p "$port" ping 2>&1)
[ "$out" = "PONG" ] || { show_log; fail "redis-cli ping: '$out'"; }
echo "ok: redis-cli ping"

# 2. redis-cli --pipe with 1000 SETs in RESP
n=1000
for i in $(seq 1 "$n"); do
    key="rk:tool:$i"
    val="value-$i"
    printf '*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' \
        "${#key}" "$key" "${#val}" "$val"
done >"$tmp/pipe.resp"
out=$(redis-cli -p "$port" --pipe <"$tmp/pipe.resp" 2>&1)
echo "$out" | grep -q "errors: 0, replies: $n" ||
    { show_log; fail "redis-cli --pipe: $out"; }
echo "ok: redis-cli --pipe ($n SETs, no errors)"
out=$(redis-cli -p "$port" get rk:tool:500 2>&1)
[ "$out" = "value-500" ] || fail "GET after --pipe: '$out'"
out=$(redis-cli -p "$port" dbsize 2>&1)
[ "$out" = "$n" ] || fail "DBSIZE after --pipe: '$out'"

# 3. redis-cli --scan lists exactly those keys
redis-cli -p "$port" --scan --pattern 'rk:tool:*' 2>&1 | sort >"$tmp/scan.out"
seq 1 "$n" | sed 's/^/rk:tool:/' | sort >"$tmp/scan.want"
if ! cmp -s "$tmp/scan.out" "$tmp/scan.want"; then
    diff "$tmp/scan.want" "$tmp/scan.out" | head -20 >&2
    show_log
    fail "redis-cli --scan: $(wc -l <"$tmp/scan.out") lines, want $n"
fi
out=$(redis-cli -p "$port" --scan --pattern 'rk:tool:99*' 2>&1 |
    sort | tr '\n' ' ')
want="rk:tool:99 $(seq 990 999 | sed 's/^/rk:tool:/' | tr '\n' ' ')"
[ "$out" = "$want" ] ||
    fail "redis-cli --scan --pattern rk:tool:99*: '$out'"
echo "ok: redis-cli --scan"

# 4. redis-benchmark: four result lines, nothing on stderr
redis-benchmark -p "$port" -t set,get,incr,mset -n 10000 -q \
    >"$tmp/bench.out" 2>"$tmp/bench.err"
rc=$?
tr '\r' '\n' <"$tmp/bench.out" | grep "requests per second" >"$tmp/bench.lines"
if [ "$rc" -ne 0 ] || [ -s "$tmp/bench.err" ] ||
    [ "$(wc -l <"$tmp/bench.lines")" -ne 4 ]; then
    echo "exit status $rc; stdout:" >&2
    tr '\r' '\n' <"$tmp/bench.out" | tail -20 >&2
    echo "stderr:" >&2
    head -20 "$tmp/bench.err" >&2
    show_log
    fail "redis-benchmark"
fi
for t in SET GET INCR MSET; do
    grep -q "^$t" "$tmp/bench.lines" || fail "redis-benchmark: no $t line"
done
cat "$tmp/bench.lines"
echo "ok: redis-benchmark"

# The server is still healthy afterwards.
out=$(redis-cli -p "$port" ping 2>&1)
[ "$out" = "PONG" ] || { show_log; fail "ping after benchmark: '$out'"; }
echo "PASS"
exit 0
