#!/usr/bin/env bash
# HTTP benchmark: muse-cloud's GET /healthz against a minimal Hummingbird 2 server answering the
# same JSON on the same route, both release builds, both started in one run and loaded one at a
# time by wrk with one thread at 16, 64 and 256 connections. The two are measured in alternating
# rounds (ROUNDS, default 3, of DURATION seconds, default 10) so that a slow stretch of this shared
# machine hits both alike; each figure is the median round's. Prints requests/s, p50 and p99 for
# both and the ratio. CONNECTIONS can be set too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" wrk curl python3
ensure_swift

duration="${DURATION:-10}"
connections="${CONNECTIONS:-16 64 256}"
rounds="${ROUNDS:-3}"

echo "building release binaries…" >&2
swift build -c release --product muse-cloud >&2
muse_bin="$(swift build -c release --show-bin-path)/muse-cloud"
hb_dir="$MUSE_ROOT/scripts/bench/hummingbird-baseline"
swift build -c release --package-path "$hb_dir" >&2
hb_bin="$(swift build -c release --package-path "$hb_dir" --show-bin-path)/HummingbirdBaseline"

wait_ready() {
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server on $1 did not come up" >&2; exit 1
}

# Prints "rps p50_ms p99_ms" for one wrk run.
measure() {
  local port=$1 conns=$2
  wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port/healthz" >/dev/null # warm-up
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

start_server() {
  local port=$1; shift
  "$@" "$port" >/dev/null 2>&1 &
  pids+=($!)
  wait_ready "$port"
}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; true; }
trap cleanup EXIT

muse_port="$(free_port)"
hb_port="$(free_port)"
start_server "$muse_port" "$muse_bin" serve --host 127.0.0.1 --port
start_server "$hb_port" "$hb_bin"

# The median round (by requests/s) of several "rps p50 p99" lines.
median() { sort -n -k1,1 | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'; }

declare -A results
for c in $connections; do
  muse_rounds=""
  hb_rounds=""
  for _ in $(seq 1 "$rounds"); do
    muse_rounds+="$(measure "$muse_port" "$c")"$'\n'
    hb_rounds+="$(measure "$hb_port" "$c")"$'\n'
  done
  results["muse,$c"]="$(printf '%s' "$muse_rounds" | median)"
  results["hb,$c"]="$(printf '%s' "$hb_rounds" | median)"
done

echo
echo "GET /healthz, wrk -t1, median of $rounds alternating rounds of ${duration}s, $(nproc) cores ($(date -u +%Y-%m-%dT%H:%MZ))"
printf '%-6s | %-28s | %-28s | %s\n' "conns" "muse-cloud rps  p50 ms  p99 ms" "hummingbird rps  p50 ms  p99 ms" "rps ratio"
for c in $connections; do
  read -r m_rps m_p50 m_p99 <<<"${results[muse,$c]}"
  read -r h_rps h_p50 h_p99 <<<"${results[hb,$c]}"
  ratio="$(python3 -c "print(f'{$m_rps / $h_rps:.2f}')")"
  printf '%-6s | %10s %7s %7s    | %10s %7s %7s     | %sx\n' "$c" "$m_rps" "$m_p50" "$m_p99" "$h_rps" "$h_p50" "$h_p99" "$ratio"
done
