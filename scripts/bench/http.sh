#!/usr/bin/env bash
# HTTP benchmark: muse-cloud's GET /healthz against a minimal Hummingbird 2 server answering the
# same JSON on the same route, both release builds, measured one after the other in one run by
# wrk with one thread at 16, 64 and 256 connections. Prints requests/s, p50 and p99 for both and
# the ratio. DURATION (seconds per point, default 10) and CONNECTIONS can be set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" wrk curl python3
ensure_swift

duration="${DURATION:-10}"
connections="${CONNECTIONS:-16 64 256}"

echo "building release binaries…" >&2
swift build -c release --product muse-cloud >&2
muse_bin="$(swift build -c release --show-bin-path)/muse-cloud"
hb_dir="$MUSE_ROOT/scripts/bench/hummingbird-baseline"
swift build -c release --package-path "$hb_dir" >&2
hb_bin="$(swift build -c release --package-path "$hb_dir" --show-bin-path)/HummingbirdBaseline"

pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true; }
trap cleanup EXIT

wait_ready() {
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server on $1 did not come up" >&2; exit 1
}

# Prints "rps p50_ms p99_ms" for one wrk run.
measure() {
  local port=$1 conns=$2
  wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$port/healthz" >/dev/null # warm-up
  wrk -t1 -c"$conns" -d"${duration}s" --latency "http://127.0.0.1:$port/healthz" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    m = re.search(r"^\s*" + label + r"%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors: sys.exit("non-2xx responses: " + errors.group(1))
print("%.0f %.3f %.3f" % (rps, ms("50"), ms("99")))'
}

declare -A results
run_server() {
  local name=$1; shift
  local port; port="$(free_port)"
  "$@" "$port" >/dev/null 2>&1 &
  pid=$!
  wait_ready "$port"
  for c in $connections; do results["$name,$c"]="$(measure "$port" "$c")"; done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

muse() { "$muse_bin" serve --host 127.0.0.1 --port "$1"; }
hummingbird() { "$hb_bin" "$1"; }
run_server muse muse
run_server hb hummingbird

echo
echo "GET /healthz, wrk -t1, ${duration}s per point, $(nproc) cores ($(date -u +%Y-%m-%dT%H:%MZ))"
printf '%-6s | %-28s | %-28s | %s\n' "conns" "muse-cloud rps  p50 ms  p99 ms" "hummingbird rps  p50 ms  p99 ms" "rps ratio"
for c in $connections; do
  read -r m_rps m_p50 m_p99 <<<"${results[muse,$c]}"
  read -r h_rps h_p50 h_p99 <<<"${results[hb,$c]}"
  ratio="$(python3 -c "print(f'{$m_rps / $h_rps:.2f}')")"
  printf '%-6s | %10s %7s %7s    | %10s %7s %7s     | %sx\n' "$c" "$m_rps" "$m_p50" "$m_p99" "$h_rps" "$h_p50" "$h_p99" "$ratio"
done
