#!/bin/bash
# tests/integration/test_suites_on_cluster.sh ITEST... - the Redis
# behaviour suites again, against the nodes of a 3-node ringkv cluster.
#
# Starts three $RINGKV_BIN nodes with scripts/cluster (3 replicas, QUORUM)
# on free loopback ports in a temporary RINGKV_CLUSTER_DIR, then runs each
# given itest binary with RINGKV_TEST_REDIS_PORT set to a node (a
# different node for each suite) and RINGKV_TEST_CLUSTER=1. Every command
# then goes through the quorum coordinator, so a reply that differs from a
# single node's, a missing counter or a lost limit fails the suite; tests
# that need ringkv's own process or one node's semantics skip themselves
# (RK_REQUIRE_RINGKV, RK_REQUIRE_ONE_NODE). Kills the nodes by PID on exit.
# Exit status: 0 pass, 1 fail.

set -u

here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../scripts/cluster"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ -n "${RINGKV_BIN:-}" ] && [ -x "$RINGKV_BIN" ] || fail "RINGKV_BIN is not set"
[ "$#" -gt 0 ] || fail "usage: $0 ITEST..."
command -v redis-cli >/dev/null || fail "redis-cli is missing (redis-tools)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-suites-XXXXXX") || fail "mktemp"
export RINGKV_CLUSTER_DIR="$tmp/cluster"
export RINGKV_BIN

# shellcheck source=cluster_lib.sh
. "$here/cluster_lib.sh"

cleanup() {
    local pid
    for pid in $(rk_cluster_pids); do
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

base=$(rk_cluster_base 3) || fail "no free ports"
out=$("$script" start 3 --base-port "$base" -- --gossip-interval-ms 100 \
      --threads 1 2>&1) || fail "start 3 failed: $out"

# Until every node sees all three alive (20 s at most).
for port in "$base" $((base + 1)) $((base + 2)); do
    for _ in $(seq 200); do
        redis-cli -p "$port" INFO cluster 2>/dev/null |
            grep -q "^cluster_alive:3" && break
        sleep 0.1
    done
    redis-cli -p "$port" INFO cluster 2>/dev/null |
        grep -q "^cluster_alive:3" || fail "port $port never saw 3 nodes"
done

status=0
k=0
for itest in "$@"; do
    port=$((base + k % 3))
    k=$((k + 1))
    echo "== $(basename "$itest") against node$((port - base + 1)) (port $port)"
    if ! RINGKV_TEST_REDIS_PORT=$port RINGKV_TEST_CLUSTER=1 "$itest"; then
        echo "FAIL: $(basename "$itest") against a cluster node" >&2
        status=1
    fi
done
exit "$status"
