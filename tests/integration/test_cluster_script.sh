#!/bin/bash
# tests/integration/test_cluster_script.sh - scripts/cluster end to end:
# start three $RINGKV_BIN nodes on free loopback ports in a temporary
# RINGKV_CLUSTER_DIR, wait for gossip to see all three, kill node 2 and see
# it down, restart it and see it alive again, stop, check that no node
# process is left, clean. Kills whatever is left by PID on exit.
# Exit status: 0 pass, 1 fail.

set -u

here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../scripts/cluster"

fail() {
    echo "FAIL: $*" >&2
    if [ -n "${RINGKV_CLUSTER_DIR:-}" ]; then
        for log in "$RINGKV_CLUSTER_DIR"/node*/log; do
            [ -f "$log" ] || continue
            echo "--- $log" >&2
            tail -n 20 "$log" >&2
        done
    fi
    exit 1
}

[ -n "${RINGKV_BIN:-}" ] && [ -x "$RINGKV_BIN" ] || fail "RINGKV_BIN is not set"
[ -x "$script" ] || fail "$script is not executable"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-clusterscript-XXXXXX") || fail "mktemp"
export RINGKV_CLUSTER_DIR="$tmp/cluster"
export RINGKV_BIN
seen_pids=()

# shellcheck source=cluster_lib.sh
. "$here/cluster_lib.sh"

# Every PID the script recorded so far.
collect_pids() {
    local pid
    for pid in $(rk_cluster_pids); do
        seen_pids+=("$pid")
    done
}

cleanup() {
    local pid
    collect_pids
    for pid in "${seen_pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

base=$(rk_cluster_base 3) || fail "no free ports"

# One RESP command to 127.0.0.1:$1; prints a status line or a bulk body.
query() {
    local port=$1
    shift
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        req="*$#"$'\r\n'
        for a in "$@"; do
            req+="\$${#a}"$'\r\n'"$a"$'\r\n'
        done
        printf '%s' "$req" >&3
        IFS= read -r -t 2 line <&3 || exit 1
        line=${line%$'\r'}
        case "$line" in
            \$*) IFS= read -r -N "${line#\$}" -t 2 body <&3 || exit 1
                 printf '%s\n' "${body//$'\r'/}" ;;
            *) echo "$line" ;;
        esac
    ) 2>/dev/null
}

# Wait (20 s at most) until node1's INFO cluster says cluster_alive:$1.
wait_alive() {
    for _ in $(seq 200); do
        query "$base" INFO cluster | grep -qx "cluster_alive:$1" && return 0
        sleep 0.1
    done
    fail "node1 never reported cluster_alive:$1; last: $(query "$base" INFO cluster)"
}

out=$("$script" start 3 --base-port "$base" -- --gossip-interval-ms 100 \
      --threads 1 2>&1) || fail "start 3 failed: $out"
echo "$out"
collect_pids
[ "${#seen_pids[@]}" = 3 ] || fail "expected 3 pid files, got ${#seen_pids[@]}"
echo "$out" | grep -q "^node2 *$((base + 1)) *$((base + 10001)) *zone-b " ||
    fail "start table lacks node2's row"
[ -s "$RINGKV_CLUSTER_DIR/secret" ] || fail "no secret file"
for k in 1 2 3; do
    [ -s "$RINGKV_CLUSTER_DIR/node$k/cmd" ] || fail "node$k has no cmd file"
done
[ "$(query $((base + 2)) PING)" = "+PONG" ] || fail "node3 does not answer PING"

wait_alive 3

# A second start refuses while the nodes are alive.
if "$script" start 3 --base-port "$base" >/dev/null 2>&1; then
    fail "start over live nodes succeeded"
fi

pid2=$(cat "$RINGKV_CLUSTER_DIR/node2/pid")
"$script" kill 2 || fail "kill 2 failed"
kill -0 "$pid2" 2>/dev/null && fail "node2 (pid $pid2) survived kill"
out=$("$script" status 2>&1) || fail "status failed: $out"
echo "$out"
echo "$out" | grep -Eq '^node2 .* down +-$' || fail "status does not show node2 down"
echo "$out" | grep -Eq '^node1 .* up +PONG$' || fail "status does not show node1 up"
echo "$out" | grep -q 'cluster_members:3' || fail "status lacks cluster_members"
wait_alive 2

"$script" restart 2 || fail "restart 2 failed"
collect_pids
[ "$(cat "$RINGKV_CLUSTER_DIR/node2/pid")" != "$pid2" ] || fail "node2 kept its pid"
wait_alive 3
out=$("$script" show 2>&1) || fail "show failed: $out"
echo "$out" | grep -Eq '^node2 .* up +PONG$' || fail "status does not show node2 up"

"$script" stop || fail "stop failed"
for pid in "${seen_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && fail "pid $pid still runs after stop"
done
ls "$RINGKV_CLUSTER_DIR"/node*/pid >/dev/null 2>&1 && fail "pid files left after stop"

"$script" clean || fail "clean failed"
[ -e "$RINGKV_CLUSTER_DIR" ] && fail "clean left $RINGKV_CLUSTER_DIR"
echo "PASS: scripts/cluster start/kill/status/restart/stop/clean"
exit 0
