#!/bin/bash
# tests/integration/test_redis_py.sh - redis-py's RedisCluster against a
# three-node ringkv cluster: it reads CLUSTER SLOTS, routes each key to
# the primary of its slot, and writes and reads keys there. Starts three
# $RINGKV_BIN nodes on free loopback ports with temporary data dirs and
# kills them by PID on exit.
# Exit status: 0 pass, 1 fail, 77 skipped (python3 or python3-redis
# missing).

set -u

PYTHON=/usr/bin/python3

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if ! [ -x "$PYTHON" ] || ! "$PYTHON" -c 'import redis.cluster' 2>/dev/null
then
    echo "SKIP: $PYTHON with redis-py (python3-redis) is not installed" >&2
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-redispy-XXXXXX") || fail "mktemp"
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Is something listening on 127.0.0.1:$1?
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Three ports P, each with P and P + 10000 unused, all distinct.
ports=()
for _ in $(seq 600); do
    p=$((10240 + RANDOM % 12000))
    dup=0
    for q in "${ports[@]}"; do
        if [ "$q" = "$p" ] || [ $((q + 10000)) = "$p" ] ||
           [ "$q" = $((p + 10000)) ]; then
            dup=1
        fi
    done
    if [ "$dup" = 0 ] && ! port_in_use "$p" &&
       ! port_in_use $((p + 10000)); then
        ports+=("$p")
    fi
    [ "${#ports[@]}" = 3 ] && break
done
[ "${#ports[@]}" = 3 ] || fail "no free ports"

seeds="127.0.0.1:$((ports[0] + 10000)),127.0.0.1:$((ports[1] + 10000))"
seeds="$seeds,127.0.0.1:$((ports[2] + 10000))"
for i in 0 1 2; do
    mkdir -p "$tmp/d$i"
    "$RINGKV_BIN" --bind 127.0.0.1 --port "${ports[$i]}" \
        --cluster-port $((ports[i] + 10000)) --node-id "py$i" \
        --seeds "$seeds" --replicas 3 --gossip-interval-ms 100 \
        --threads 1 --data-dir "$tmp/d$i" >"$tmp/server$i.log" 2>&1 &
    pids+=($!)
done

timeout 60 "$PYTHON" - "${ports[@]}" <<'EOF'
import sys
import time

import redis
from redis.cluster import RedisCluster

ports = [int(p) for p in sys.argv[1:]]

# Wait until every node's CLUSTER SLOTS names all three nodes.
deadline = time.time() + 20
while True:
    try:
        ok = True
        for p in ports:
            r = redis.Redis(host='127.0.0.1', port=p)
            slots = r.execute_command('CLUSTER SLOTS')
            r.close()
            seen = {n[1] for rng in slots for n in rng[2:]}
            ok = ok and seen == set(ports) and len(slots[0]) == 5
        if ok:
            break
    except redis.exceptions.ConnectionError:
        pass
    if time.time() > deadline:
        sys.exit('CLUSTER SLOTS did not converge within 20 s')
    time.sleep(0.1)

rc = RedisCluster(host='127.0.0.1', port=ports[0])
if len(rc.get_nodes()) != 3:
    sys.exit('RedisCluster sees %d nodes' % len(rc.get_nodes()))
for i in range(200):
    key = 'key:%d' % i
    if not rc.set(key, str(i)):
        sys.exit('SET %s failed' % key)
    got = rc.get(key)
    if got != str(i).encode():
        sys.exit('GET %s returned %r' % (key, got))
# The write went to the primary of the key's slot.
slot = rc.keyslot('key:7')
node = rc.get_node_from_key('key:7')
if node.port not in ports:
    sys.exit('key:7 (slot %d) routed to unknown port %d' % (slot, node.port))
rc.close()
print('redis-py: 200 keys written and read through RedisCluster')
EOF
rc=$?
if [ "$rc" != 0 ]; then
    for i in 0 1 2; do
        tail -n 20 "$tmp/server$i.log" >&2
    done
    fail "redis-py check exited $rc"
fi
exit 0
