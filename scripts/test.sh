#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what is missing, checks the
# formatting (swift format lint --strict, .swift-format), starts PostgreSQL and Redis on loopback
# in a temporary directory, builds, runs `swift test`, then
# schemathesis against muse-cloud (scripts/api-fuzz.sh), a chaos run (scripts/chaos.sh), the
# fuzzers (scripts/fuzz.sh, 30 s a target) and the diffusers worker's pytest (scripts/test-worker.sh),
# and stops the services again even when the tests fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" "${MUSE_TEST_PACKAGES[@]}"
ensure_swift

# The tree is formatted as .swift-format says (`swift format format --in-place -r Sources Tests Package.swift`).
swift format lint --strict -r Sources Tests Package.swift

work="$(mktemp -d /tmp/muse-test.XXXXXX)"
chmod 755 "$work"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_postgres=()
[ "$(id -u)" -eq 0 ] && as_postgres=(runuser -u postgres --)

cleanup() {
  local status=$?
  [ -f "$work/pg/postmaster.pid" ] && "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

pg_port="$(free_port)"
mkdir -p "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pg" -U muse -A trust --no-sync >/dev/null
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
  -o "-h 127.0.0.1 -p $pg_port -k $work/pg -c fsync=off" start >/dev/null

redis_port="$(free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --dir "$work" --logfile "$work/redis.log"

export TEST_POSTGRES_URL="postgresql://muse@127.0.0.1:$pg_port/postgres"
export TEST_REDIS_HOST=127.0.0.1 TEST_REDIS_PORT="$redis_port"

swift build --build-tests
export TEST_BIN_DIR="$(swift build --show-bin-path)"
swift test --skip-build
# The OpenAPI document against the real server: schemathesis, every default check, stateful phase included.
bash scripts/api-fuzz.sh
# kill -9 of the server and the workers under steady submits: every accepted task must succeed.
bash scripts/chaos.sh "${CHAOS_SECONDS:-20}"
# libFuzzer with AddressSanitizer on the JSON decoder, the path parser and router, and worker results.
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
# The diffusers worker (workers/diffusers): pytest on CPU with tiny random models, then a
# generation through muse-cloud and the worker (SSE progress, the PNG read back).
bash scripts/test-worker.sh
bash scripts/worker-e2e.sh
