#!/bin/bash
# tests/clients/lib.sh - sourced by run.sh: start servers for the client
# smoke tests on free loopback ports with temporary data dirs, and kill them
# by PID when the sourcing script exits (the pattern of
# tests/integration/test_tools.sh).
#
# The server binary is $RINGKV_BIN. With RINGKV_TEST_REDIS_SERVER set to a
# redis-server binary, that is started instead (same ports, no persistence),
# to check the tests themselves against a real Redis.
#
# After sourcing: rk_start NAME [--requirepass PW]  sets rk_port_NAME.

rk_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

rk_skip() {
    echo "SKIP: $*" >&2
    exit 77
}

rk_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-clients-XXXXXX") ||
    rk_fail "mktemp"
rk_pids=()

# Stop every server started here: SIGTERM, up to 10 s, then SIGKILL.
rk_stop_all() {
    local pid
    for pid in "${rk_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${rk_pids[@]}"; do
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rk_pids=()
}

rk_cleanup() {
    rk_stop_all
    rm -rf "$rk_tmp"
}
trap rk_cleanup EXIT
trap 'exit 1' INT TERM HUP

# Is something listening on 127.0.0.1:$1?
rk_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port P with P and P + 10000 (the cluster port) unused, below the
# ephemeral range.
rk_pick_port() {
    local p
    for _ in $(seq 200); do
        p=$((10240 + RANDOM % 12000))
        if ! rk_port_in_use "$p" && ! rk_port_in_use $((p + 10000)); then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Does the server on port $1 answer an inline PING (+PONG, or -NOAUTH when
# it has a password)? Needs no redis-cli.
rk_answers() {
    local line
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 line <&3 || exit 1
        case "$line" in
        +PONG* | -NOAUTH*) exit 0 ;;
        esac
        exit 1
    ) 2>/dev/null
}

# rk_start NAME [server args...]: start a server, wait until it answers,
# and set rk_port_NAME. Retries on a port taken in the meantime.
rk_start() {
    local name=$1
    shift
    local attempt port pid dir log
    for attempt in 1 2 3; do
        port=$(rk_pick_port) || rk_fail "no free port"
        dir="$rk_tmp/$name-$attempt"
        log="$rk_tmp/$name.log"
        mkdir -p "$dir"
        if [ -n "${RINGKV_TEST_REDIS_SERVER:-}" ]; then
            "$RINGKV_TEST_REDIS_SERVER" --bind 127.0.0.1 --port "$port" \
                --dir "$dir" --save '' --appendonly no "$@" >"$log" 2>&1 &
        else
            "$RINGKV_BIN" --bind 127.0.0.1 --port "$port" \
                --data-dir "$dir" "$@" >"$log" 2>&1 &
        fi
        pid=$!
        rk_pids+=("$pid")
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            if rk_answers "$port"; then
                printf -v "rk_port_$name" '%s' "$port"
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            cat "$log" >&2
            rk_fail "server $name did not answer PING within 10 s"
        fi
        wait "$pid"
        if ! grep -qi "in use" "$log"; then
            cat "$log" >&2
            rk_fail "server $name exited during start-up"
        fi
        echo "port $port busy, retrying (attempt $attempt)" >&2
    done
    rk_fail "could not start server $name"
}

# Did a sanitizer report anything in a server log (after rk_stop_all, so
# that leak reports at exit are in)? Prints the reports.
rk_sanitizer_reports() {
    local f found=1
    for f in "$rk_tmp"/*.log; do
        [ -f "$f" ] || continue
        if grep -qE "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" \
            "$f"; then
            echo "---- sanitizer report in $(basename "$f") ----" >&2
            head -c 16384 "$f" >&2
            found=0
        fi
    done
    return "$found"
}

# The tail of every server log, for a failed test.
rk_show_logs() {
    local f
    for f in "$rk_tmp"/*.log; do
        [ -f "$f" ] || continue
        echo "---- $(basename "$f") ----" >&2
        tail -c 8192 "$f" >&2
    done
}
