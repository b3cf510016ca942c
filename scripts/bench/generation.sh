#!/usr/bin/env bash
# Generation pipeline benchmark on the embedded default: N tasks (TASKS, default 5000) from a
# concurrent client (CONCURRENCY, default 32) against K simulated workers (WORKERS, default 8;
# LATENCY_MS per image, default 50; MODEL_LOAD_MS per switch, default 2000), models drawn from a
# Zipf distribution over 6 models. Runs twice on the same input: with model affinity, and with a
# first-come-any-free-worker baseline (scheduling.model_affinity=false). Prints durable submit
# throughput and latency, scheduler overhead per task (defined in generation-analysis.py), worker
# utilization and model switches.
# On a filesystem like this VM's (ext4 without a journal), a run started within a couple of minutes
# of deleting thousands of files (the previous run's exit) is slower: each new image file's inode
# is found past every recently deleted one. Leave a few minutes between runs.
# KEEP_DB=PREFIX keeps each pass's database and final /metrics as PREFIX.{true,false}.{sqlite,metrics}.
# BASELINE=0 skips the baseline pass (it takes ~15 min at 5,000 tasks: most of its tasks switch models).
# BIN_DIR=DIR runs release binaries built elsewhere instead of building this tree's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" curl python3
ensure_swift

tasks="${TASKS:-5000}"
concurrency="${CONCURRENCY:-32}"
workers="${WORKERS:-8}"
latency="${LATENCY_MS:-50}"
load="${MODEL_LOAD_MS:-2000}"
models=(sd15-base sd15-anime sdxl-base sd15-photo sdxl-illustration sdxl-product)

# BIN_DIR=DIR uses release binaries built elsewhere (another commit, for a before/after figure).
if [ -n "${BIN_DIR:-}" ]; then
  bin="$BIN_DIR"
else
  echo "building release binaries…" >&2
  for product in muse-cloud muse-worker-sim muse-bench; do swift build -c release --product "$product" >&2; done
  bin="$(swift build -c release --show-bin-path)"
fi

pids=()
works=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for dir in "${works[@]}"; do rm -rf "$dir"; done
  true
}
trap cleanup EXIT

# Runs one pass; prints the client's JSON line, then the analysis' JSON line.
run_pass() {
  local affinity=$1
  local work; work="$(mktemp -d /tmp/muse-bench.XXXXXX)"
  works+=("$work")
  local port; port="$(free_port)"
  MUSE_SCHEDULING_MODEL_AFFINITY="$affinity" MUSE_LOG_ACCESS=false MUSE_LOG_LEVEL=warning \
    "$bin/muse-cloud" serve --port "$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  local key; key="$("$bin/muse-cloud" keys create --tenant bench --data-dir "$work/data" | tail -n 1)"
  for i in $(seq 0 $((workers - 1))); do
    "$bin/muse-worker-sim" --port "$(free_port)" --server "http://127.0.0.1:$port" --token-file "$work/data/worker-token" \
      --latency-ms "$latency" --model-load-ms "$load" --models "${models[$((i % ${#models[@]}))]}" --worker-id "w-$i" \
      >"$work/worker-$i.log" 2>&1 &
    pids+=($!)
  done
  sleep 2
  "$bin/muse-bench" --port "$port" --key "$key" --tasks "$tasks" --concurrency "$concurrency"
  python3 "$MUSE_ROOT/scripts/bench/generation-analysis.py" "$work/data/muse.sqlite" "$workers"
  if [ -n "${KEEP_DB:-}" ]; then curl -sf "http://127.0.0.1:$port/metrics" >"$KEEP_DB.$affinity.metrics" || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  if [ -n "${KEEP_DB:-}" ]; then
    python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' "$work/data/muse.sqlite" "$KEEP_DB.$affinity.sqlite"
  fi
  # The work directory goes at exit: deleting thousands of images between passes would slow the
  # next pass's file creation (ext4 without a journal skips recently deleted inodes one by one).
}

# Passes run in this shell (not a subshell), so the exit trap knows their processes and directories.
results="$(mktemp -d /tmp/muse-bench-results.XXXXXX)"
works+=("$results")
run_pass true >"$results/affinity"
mapfile -t affinity <"$results/affinity"
if [ "${BASELINE:-1}" = 1 ]; then
  run_pass false >"$results/baseline"
  mapfile -t baseline <"$results/baseline"
else
  baseline=('null' 'null')
fi
python3 - "${affinity[0]}" "${affinity[1]}" "${baseline[0]}" "${baseline[1]}" "$tasks" "$workers" "$latency" "$load" <<'PY'
import json, sys
client, run, base_client, base = (json.loads(a) for a in sys.argv[1:5])
base = base or {"model_switches": 0, "utilization": 0, "wall_s": 0}
base_client = base_client or {"tasks_per_s": 0}
tasks, workers, latency, load = sys.argv[5:9]
print(f"\ngeneration pipeline: {tasks} tasks, {workers} simulated workers, {latency} ms/image, {load} ms/model switch, Zipf over 6 models")
print(f"durable submit: {client['tasks_per_s']:.0f} tasks/s, p50 {client['p50_ms']:.2f} ms, p99 {client['p99_ms']:.2f} ms ({client['errors']} errors)")
def line(name):
    n, p50, p99 = run[name]["all"]
    d, a = run[name]["during"], run[name]["after"]
    return f"p50 {p50} ms, p99 {p99} ms (while the client was still submitting: {d[0]} tasks, p50 {d[1]} ms, p99 {d[2]} ms; after: {a[0]} tasks, p50 {a[1]} ms, p99 {a[2]} ms)"
print(f"scheduler overhead per task (end to end minus worker time minus waiting for a free worker, on each worker's timeline): {line('overhead')}")
print(f"  dispatch delay (GPU free and task queued, not running): {line('dispatch')}")
print(f"  result delay (image done on the worker, task not yet succeeded): {line('result')}")
print(f"  server-clock figure of earlier runs (counts a job sent ahead as overhead while its GPU is still busy): {line('server_clock')}")
print(f"worker utilization at saturation: {run['utilization'] * 100:.1f}% over {run['wall_s']:.1f} s ({run['succeeded']} succeeded, {run['failed']} failed, {run['unfinished']} unfinished)")
if base['wall_s']:
    ratio = run['model_switches'] / base['model_switches'] if base['model_switches'] else float('nan')
    print(f"model switches: {run['model_switches']} with affinity vs {base['model_switches']} first-come-any-worker ({ratio * 100:.1f}%)")
    print(f"baseline run: utilization {base['utilization'] * 100:.1f}%, wall {base['wall_s']:.1f} s, submit {base_client['tasks_per_s']:.0f} tasks/s")
else:
    print(f"model switches: {run['model_switches']} with affinity (baseline pass skipped: BASELINE=0)")
PY
