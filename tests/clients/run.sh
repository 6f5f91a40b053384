#!/bin/bash
# tests/clients/run.sh CLIENT - run one client-library smoke test against a
# freshly started ringkv-server ($RINGKV_BIN) on a free loopback port.
#
#   CLIENT: redis-py | ioredis | node-redis | node-redis-v4
#
# Starts two servers: one with default settings, one with --requirepass
# (for the AUTH checks); both are killed by PID on exit.
#
# Environment:
#   RINGKV_BIN                 the server binary (set by meson)
#   RINGKV_TEST_PYTHON         python for redis-py (default /usr/bin/python3:
#                              Debian's python3-redis is installed for it)
#   RINGKV_TEST_NODE           node (default: node on PATH)
#   RINGKV_TEST_REDIS_SERVER   start this redis-server binary instead of
#                              ringkv (to check the tests against Redis)
#   RINGKV_TEST_REDIS_PORT     use an already running server on this port
#                              instead of starting one; the AUTH checks then
#                              need RINGKV_TEST_REDIS_AUTH_PORT and
#                              RINGKV_TEST_REDIS_PASSWORD (else skipped)
#
# Node dependencies (package.json / package-lock.json here) are installed
# with `npm ci` into tests/clients/node_modules when missing or stale.
#
# Exit status: 0 pass, 1 fail, 77 skipped (interpreter, client library or
# npm registry not available).

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
client=${1:-}
password="rk-client-test-pw"

# shellcheck source=lib.sh
. "$here/lib.sh"

# Are node_modules present with the versions package.json pins?
node_deps_current() {
    "$node" -e '
        const dir = process.argv[1];
        const want = require(dir + "/package.json").dependencies;
        for (const [name, spec] of Object.entries(want)) {
            const ver = spec.replace(/^npm:.*@/, "");   // an alias
            const got = require(dir + "/node_modules/" + name +
                                "/package.json").version;
            if (got !== ver) process.exit(1);
        }' "$here" 2>/dev/null
}

ensure_node_deps() {
    if node_deps_current; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || rk_skip "npm is not installed"
    echo "installing node dependencies: npm ci in $here" >&2
    if ! (cd "$here" && timeout 150 npm ci --no-audit --no-fund \
            >"$rk_tmp/npm.log" 2>&1); then
        tail -n 30 "$rk_tmp/npm.log" >&2
        rk_skip "npm ci failed (no registry access?)"
    fi
    node_deps_current || rk_skip "node_modules still missing after npm ci"
}

case "$client" in
redis-py)
    python=${RINGKV_TEST_PYTHON:-/usr/bin/python3}
    [ -x "$python" ] || rk_skip "$python is not installed"
    "$python" -c 'import redis' 2>/dev/null ||
        rk_skip "python module redis (Debian python3-redis) is missing"
    cmd=("$python" "$here/test_redis_py.py")
    ;;
ioredis | node-redis | node-redis-v4)
    node=${RINGKV_TEST_NODE:-$(command -v node)}
    if [ -z "$node" ] || [ ! -x "$node" ]; then
        rk_skip "node is not installed"
    fi
    ensure_node_deps
    case "$client" in
    ioredis) cmd=("$node" "$here/test_ioredis.js") ;;
    node-redis) cmd=("$node" "$here/test_node_redis.js" redis) ;;
    node-redis-v4) cmd=("$node" "$here/test_node_redis.js" redis-v4) ;;
    esac
    ;;
*)
    echo "usage: $0 redis-py|ioredis|node-redis|node-redis-v4" >&2
    exit 2
    ;;
esac

if [ -n "${RINGKV_TEST_REDIS_PORT:-}" ]; then
    echo "running against the external server on port" \
        "$RINGKV_TEST_REDIS_PORT" >&2
    export RINGKV_TEST_PORT=$RINGKV_TEST_REDIS_PORT
    export RINGKV_TEST_AUTH_PORT=${RINGKV_TEST_REDIS_AUTH_PORT:-}
    export RINGKV_TEST_PASSWORD=${RINGKV_TEST_REDIS_PASSWORD:-}
else
    if [ -z "${RINGKV_TEST_REDIS_SERVER:-}" ]; then
        [ -n "${RINGKV_BIN:-}" ] || rk_fail "RINGKV_BIN is not set"
        [ -x "$RINGKV_BIN" ] || rk_fail "RINGKV_BIN=$RINGKV_BIN is missing"
    else
        echo "running against $RINGKV_TEST_REDIS_SERVER" >&2
    fi
    rk_start plain
    rk_start auth --requirepass "$password"
    # shellcheck disable=SC2154  # set by rk_start
    export RINGKV_TEST_PORT=$rk_port_plain
    # shellcheck disable=SC2154
    export RINGKV_TEST_AUTH_PORT=$rk_port_auth
    export RINGKV_TEST_PASSWORD=$password
fi

echo "== $client: ${cmd[*]} (port $RINGKV_TEST_PORT," \
    "auth port ${RINGKV_TEST_AUTH_PORT:-none})" >&2
timeout 120 "${cmd[@]}"
rc=$?
case "$rc" in
0 | 77) ;;
124)
    echo "FAIL: $client test timed out after 120 s" >&2
    rk_show_logs
    rc=1
    ;;
*)
    rk_show_logs
    rc=1
    ;;
esac
rk_stop_all
if rk_sanitizer_reports; then
    echo "FAIL: the server reported sanitizer errors" >&2
    rc=1
fi
exit "$rc"
