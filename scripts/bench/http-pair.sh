#!/usr/bin/env bash
# Before/after HTTP figure for two release binaries (e.g. muse-cloud built from an earlier commit,
# or muse-cloud against muse-internal for the cost of SSO against API keys): usage
# `http-pair.sh BEFORE_BIN AFTER_BIN`. A muse-internal binary is called with a development SSO
# token (`dev-token`, an EdDSA JWT), any other with an API key (`keys create`). Both serve at once on the embedded default;
# wrk -t1 -c64 loads GET /healthz (public) and GET /v1/generations/{id} (API key checked on the
# head, a SQLite read) on each in alternating rounds (ROUNDS, default 7, of DURATION seconds,
# default 8), so a slow stretch of this shared machine hits both alike. Per round it prints
# requests/s and the server's CPU microseconds per request (from /proc); at the end the medians
# and the median of the per-round after/before ratios, the figure to quote.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$MUSE_ROOT"

[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN (muse-cloud or muse-internal release binaries)" >&2; exit 2; }
before="$(realpath "$1")"
after="$(realpath "$2")"
rounds="${ROUNDS:-7}"
duration="${DURATION:-8}"
ensure_apt_packages wrk curl python3

pids=()
dirs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# Starts a binary; sets port, key, task id and pid in the variables named by the prefix.
start() {
  local prefix=$1 bin=$2 dir port key id
  dir="$(mktemp -d /tmp/muse-http-pair.XXXXXX)"
  dirs+=("$dir")
  port="$(free_port)"
  MUSE_LOG_ACCESS=false MUSE_LOG_LEVEL=warning "$bin" serve --host 127.0.0.1 --port "$port" --data-dir "$dir" >/dev/null 2>&1 &
  pids+=($!)
  printf -v "${prefix}_pid" '%s' "$!"
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  if [ "$(basename "$bin")" = muse-internal ]; then
    key="$("$bin" dev-token --user bench --team bench-team --data-dir "$dir")"
  else
    key="$("$bin" keys create --tenant bench --data-dir "$dir" | tail -n 1)"
  fi
  id="$(curl -sf -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"model":"sd15-base","prompt":"bench","width":256,"height":256}' "http://127.0.0.1:$port/v1/generations" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
  printf -v "${prefix}_port" '%s' "$port"
  printf -v "${prefix}_key" '%s' "$key"
  printf -v "${prefix}_id" '%s' "$id"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# One wrk run; prints "rps cpu_us_per_request".
measure() {
  local pid=$1 url=$2 before_ticks after_ticks out
  shift 2
  before_ticks="$(cpu_ticks "$pid")"
  out="$(wrk -t1 -c64 -d"${duration}s" "$@" "$url")"
  after_ticks="$(cpu_ticks "$pid")"
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $url" >&2; exit 1; fi
  python3 -c '
import re, sys
out, ticks, hz = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
n = int(re.search(r"(\d+) requests in", out).group(1))
print("%.0f %.2f" % (rps, ticks / hz * 1e6 / n))' "$out" "$((after_ticks - before_ticks))" "$(getconf CLK_TCK)"
}

start b "$before"
start a "$after"
results="$(mktemp)"
dirs+=("$results")
for round in $(seq 1 "$rounds"); do
  for which in b a; do
    pid_var="${which}_pid" port_var="${which}_port" key_var="${which}_key" id_var="${which}_id"
    health="$(measure "${!pid_var}" "http://127.0.0.1:${!port_var}/healthz")"
    task="$(measure "${!pid_var}" "http://127.0.0.1:${!port_var}/v1/generations/${!id_var}" -H "Authorization: Bearer ${!key_var}")"
    echo "$round $which $health $task" | tee -a "$results"
  done
done

python3 - "$results" "$rounds" "$duration" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, which, *figures = line.split()
    rows[(r, which)] = [float(f) for f in figures]
rounds = sorted({r for r, _ in rows})
names = ["GET /healthz requests/s", "GET /healthz server CPU us/request", "GET /v1/generations/{id} requests/s", "GET /v1/generations/{id} server CPU us/request"]
print(f"\nwrk -t1 -c64, {sys.argv[2]} alternating rounds of {sys.argv[3]} s; medians, and the median of the per-round after/before ratios")
for i, name in enumerate(names):
    before = [rows[(r, "b")][i] for r in rounds]
    after = [rows[(r, "a")][i] for r in rounds]
    ratios = [a / b for a, b in zip(after, before)]
    print(f"{name:48} before {statistics.median(before):9.1f}  after {statistics.median(after):9.1f}  ratio {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")
EOF
