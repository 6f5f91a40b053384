#!/bin/bash
# tests/integration/test_cluster_partition.sh - a network partition of a
# three-node cluster, in network namespaces this test creates.
#
# Each node runs in its own namespace with a veth pair to a bridge in a
# fourth "hub" namespace (10.77.N.0/24 networks are never routed outside
# these namespaces). Cutting node 3's veth makes a minority of one: QUORUM
# writes through node 3 fail with -NOQUORUM within the request timeout,
# the majority keeps serving QUORUM reads and writes, and after the heal
# every replica converges (CONSISTENCY READ ONE through each node shows
# the majority's writes, delivered by hints).
#
# Exit status: 0 pass, 1 fail, 77 skipped (not root, no `ip`, no netns).

set -u

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*" >&2
    exit 77
}

BIN="${RINGKV_BIN:-build/server/ringkv-server}"
[ "$(id -u)" = 0 ] || skip "needs root for ip netns"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v redis-cli >/dev/null || skip "redis-cli is not installed"

tag="rk$$"
hub="$tag-hub"
net="10.77.$(( $$ % 200 + 1 ))"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-partition-XXXXXX") || fail mktemp
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -CONT "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for i in 1 2 3; do
        ip netns del "$tag-$i" 2>/dev/null
    done
    ip netns del "$hub" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$hub" 2>/dev/null || skip "cannot create network namespaces"
ip -n "$hub" link add br0 type bridge || fail "bridge"
ip -n "$hub" link set br0 up
for i in 1 2 3; do
    ip netns add "$tag-$i" || fail "netns $i"
    ip link add "v$tag$i" type veth peer name "h$tag$i" || fail "veth $i"
    ip link set "v$tag$i" netns "$tag-$i"
    ip link set "h$tag$i" netns "$hub"
    ip -n "$hub" link set "h$tag$i" master br0 up
    ip -n "$tag-$i" addr add "$net.$i/24" dev "v$tag$i"
    ip -n "$tag-$i" link set "v$tag$i" up
    ip -n "$tag-$i" link set lo up
done

seeds="$net.1:16379,$net.2:16379,$net.3:16379"
for i in 1 2 3; do
    mkdir -p "$tmp/n$i"
    ip netns exec "$tag-$i" "$BIN" --bind "$net.$i" --port 6379 \
        --data-dir "$tmp/n$i/data" --node-id "n$i" --zone "z$i" \
        --seeds "$seeds" --cluster-secret "partition-test" \
        --gossip-interval-ms 100 --request-timeout 1000 --threads 1 \
        >"$tmp/n$i/log" 2>&1 &
    pids+=($!)
done

# cli N ARGS...: redis-cli against node N from inside its namespace.
cli() {
    local n="$1"
    shift
    ip netns exec "$tag-$n" timeout 10 redis-cli -h "$net.$n" -p 6379 "$@"
}

# wait_for SECONDS COMMAND...: retry until the command succeeds.
wait_for() {
    local until=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -lt "$until" ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

alive_count() {
    cli "$1" info cluster | tr -d '\r' | sed -n 's/^cluster_alive://p'
}
all_alive() {
    for i in 1 2 3; do
        [ "$(alive_count "$i")" = 3 ] || return 1
    done
}
set_ok() {
    [ "$(cli "$1" set "$2" "$3")" = OK ]
}

wait_for 30 all_alive || fail "the three nodes did not see each other"
for k in 1 2 3 4 5; do
    wait_for 10 set_ok 1 "before:$k" "v$k" || fail "write before:$k"
done

# Cut node 3 off.
ip -n "$hub" link set "h${tag}3" down || fail "link down"

# The minority fails QUORUM writes with the clear error, in time.
start=$(date +%s%N)
out=$(cli 3 set minority x 2>&1)
took=$(( ($(date +%s%N) - start) / 1000000 ))
case "$out" in
    NOQUORUM*) ;;
    *) fail "minority write answered '$out', not NOQUORUM" ;;
esac
[ "$took" -lt 3000 ] || fail "minority write took $took ms"
echo "minority: '$out' in $took ms"
out=$(cli 3 get before:1 2>&1)
case "$out" in
    NOQUORUM*) ;;
    *) fail "minority read answered '$out', not NOQUORUM" ;;
esac

# The majority keeps serving.
for k in 1 2 3 4 5 6 7 8 9 10; do
    n=$(( k % 2 + 1 ))
    wait_for 10 set_ok "$n" "during:$k" "d$k" || fail "majority write $k"
done
[ "$(cli 1 get during:3)" = d3 ] || fail "majority read through n1"
[ "$(cli 2 get before:2)" = v2 ] || fail "majority read through n2"

# Heal: node 3 converges (hints from the majority), and its QUORUM reads
# see the majority's writes.
ip -n "$hub" link set "h${tag}3" up || fail "link up"
wait_for 30 all_alive || fail "node 3 not alive again after the heal"
local_val() {
    [ "$(printf 'CONSISTENCY READ ONE\nGET %s\n' "$1" |
         cli 3 | tail -n 1)" = "$2" ]
}
for k in 1 2 3 4 5 6 7 8 9 10; do
    wait_for 20 local_val "during:$k" "d$k" ||
        fail "node 3 does not hold during:$k after the heal"
done
[ "$(cli 3 get during:7)" = d7 ] || fail "QUORUM read through n3"
for i in 1 2 3; do
    [ "$(cli "$i" dbsize)" -ge 15 ] || fail "dbsize through n$i"
done
echo "partition test passed"
exit 0
