#!/bin/bash
# tests/integration/cluster_lib.sh - sourced by the shell tests that start
# a cluster with scripts/cluster.
#
# rk_cluster_base N prints a base port P with P .. P+N-1 and P+10000 ..
# P+10000+N-1 all free and below the ephemeral range (where an outgoing
# connection of any process on the host may hold a port that no listener
# shows), or fails. rk_cluster_pids prints the PIDs the nodes of
# $RINGKV_CLUSTER_DIR recorded, one per line.

rk_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

rk_cluster_base() {
    local n=$1 low=32768 span p q ok
    if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
        read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    fi
    span=$((low - 10000 - n - 10240))
    [ "$span" -gt 100 ] || return 1
    for _ in $(seq 200); do
        p=$((10240 + (RANDOM * 32768 + RANDOM) % span))
        ok=1
        for ((q = p; q < p + n; q++)); do
            if rk_port_in_use "$q" || rk_port_in_use $((q + 10000)); then
                ok=0
                break
            fi
        done
        if [ "$ok" = 1 ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

rk_cluster_pids() {
    local f pid
    for f in "$RINGKV_CLUSTER_DIR"/node*/pid; do
        [ -f "$f" ] || continue
        pid=$(tr -dc 0-9 <"$f")
        [ -n "$pid" ] && echo "$pid"
    done
}
