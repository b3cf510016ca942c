#!/usr/bin/env bash
# Runs schemathesis (PyPI) against muse-cloud and then muse-internal: every default check and every
# phase, the stateful one included, from the OpenAPI document each serves — once with a caller's
# credential (an API key; a development SSO token), once with the worker token for the worker
# protocol's routes. Exits non-zero on any failure. Uses the debug build (TEST_BIN_DIR, or builds it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages python3 python3-venv curl
venv="$MUSE_ROOT/.build-tools/schemathesis"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==4.32.5"
fi

bin="${TEST_BIN_DIR:-}"
if [ -z "$bin" ]; then
  ensure_swift
  swift build --product muse-cloud >&2
  swift build --product muse-internal >&2
  bin="$(swift build --show-bin-path)"
fi

work="$(mktemp -d /tmp/muse-fuzz.XXXXXX)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

status=0
# Runs schemathesis against one binary, with its caller's credential and then the worker token.
fuzz() {
  local binary=$1 data="$work/$1" port credential
  port="$(free_port)"
  MUSE_LOG_ACCESS=false "$bin/$binary" serve --port "$port" --data-dir "$data" >"$work/$binary.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  if [ "$binary" = muse-internal ]; then
    # A development SSO token (the embedded default's key), admin of a team so team keys can be made.
    credential="$("$bin/muse-internal" dev-token --user fuzz --admin-team fuzz-team --data-dir "$data")"
  else
    credential="$("$bin/muse-cloud" keys create --tenant fuzz --data-dir "$data" | tail -n 1)"
  fi
  echo "== schemathesis against $binary" >&2
  "$venv/bin/st" --config-file "$MUSE_ROOT/scripts/schemathesis.toml" run "http://127.0.0.1:$port/v1/openapi.yaml" \
    --url "http://127.0.0.1:$port" -H "Authorization: Bearer $credential" --seed "${FUZZ_SEED:-1}" \
    --max-examples "${FUZZ_EXAMPLES:-25}" --no-color || status=$?
  # The worker protocol's routes, with the worker token.
  "$venv/bin/st" --config-file "$MUSE_ROOT/scripts/schemathesis.toml" run "http://127.0.0.1:$port/v1/openapi.yaml" \
    --url "http://127.0.0.1:$port" -H "Authorization: Bearer $(cat "$data/worker-token")" --include-path-regex '^/internal/' \
    --seed "${FUZZ_SEED:-1}" --max-examples "${FUZZ_EXAMPLES:-25}" --no-color || status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
  if grep -q "unhandled error" "$work/$binary.log"; then
    echo "$binary logged an internal error during the run:" >&2
    grep "unhandled error" "$work/$binary.log" | head -20 >&2
    status=1
  fi
}

fuzz muse-cloud
fuzz muse-internal
exit $status
