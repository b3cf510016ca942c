#!/usr/bin/env bash
# Generation pipeline benchmark on the embedded default: N tasks (TASKS, default 5000) from a
# concurrent client (CONCURRENCY, default 32) against K simulated workers (WORKERS, default 8;
# LATENCY_MS per image, default 50; MODEL_LOAD_MS per switch, default 2000), models drawn from a
# Zipf distribution over 6 models. Runs twice on the same input: with model affinity, and with a
# first-come-any-free-worker baseline (scheduling.model_affinity=false). Prints durable submit
# throughput and latency, scheduler overhead per task, worker utilization and model switches.
# KEEP_DB=PREFIX keeps each pass's database and final /metrics as PREFIX.{true,false}.{sqlite,metrics}.
# BASELINE=0 skips the baseline pass (it takes ~15 min at 5,000 tasks: most of its tasks switch models).
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

echo "building release binaries…" >&2
for product in muse-cloud muse-worker-sim muse-bench; do swift build -c release --product "$product" >&2; done
bin="$(swift build -c release --show-bin-path)"

pids=()
work=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$work" ] && rm -rf "$work"
  true
}
trap cleanup EXIT

# Runs one pass; prints the client's JSON line, then the analysis' JSON line.
run_pass() {
  local affinity=$1
  work="$(mktemp -d /tmp/muse-bench.XXXXXX)"
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
  python3 - "$work/data/muse.sqlite" "$workers" <<'PY'
import json, sqlite3, sys, time
db_path, workers = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 900
while True:
    db = sqlite3.connect(db_path)
    left = db.execute("SELECT count(*) FROM tasks WHERE status NOT IN ('succeeded','failed','canceled')").fetchone()[0]
    if left == 0 or time.time() > deadline:
        break
    db.close()
    time.sleep(0.5)
rows = db.execute("SELECT worker_id, created_at, started_at, finished_at, worker_timings, status FROM tasks").fetchall()
done = [r for r in rows if r[5] == "succeeded"]
busy, switches, overheads = 0, 0, []
by_worker = {}
for worker, created, started, finished, timings, _ in done:
    t = json.loads(timings or "{}")
    work = t.get("load_ms", 0) + t.get("infer_ms", 0)
    busy += work
    switches += 1 if t.get("load_ms", 0) > 0 else 0
    # Time queued on the worker behind its previous job is waiting for capacity, not overhead.
    # Encoding the PNGs is the worker's own work too (encode_ms), off its GPU.
    by_worker.setdefault(worker, []).append((started, finished, work + t.get("queue_ms", 0) + t.get("encode_ms", 0)))
# Split by phase: while the client is still submitting (the CPU is shared with it) and after;
# and, where the worker reports its clock (same machine), into push (claim → worker accepted)
# and callback (worker sent the result → server committed it).
submit_end = max((r[1] for r in rows), default=0)
during, after = [], []
push = {"during": [], "after": []}
callback = {"during": [], "after": []}
for worker, created, started, finished, timings, status in done:
    t = json.loads(timings or "{}")
    phase = "during" if started <= submit_end else "after"
    if t.get("accepted_at_ms"): push[phase].append(max(0, t["accepted_at_ms"] - started))
    if t.get("reported_at_ms"): callback[phase].append(max(0, finished - t["reported_at_ms"]))
for xs in list(push.values()) + list(callback.values()):
    xs.sort()
for jobs in by_worker.values():
    jobs.sort()
    previous_finish = None
    for started, finished, work in jobs:
        gap = max(0, started - previous_finish) if previous_finish is not None else 0
        overhead = gap + max(0, (finished - started) - work)
        overheads.append(overhead)
        (during if started <= submit_end else after).append(overhead)
        previous_finish = finished
for xs in (overheads, during, after):
    xs.sort()
def pct(p, xs=overheads):
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0
wall = max(r[3] for r in done) - min(r[2] for r in done) if done else 1
print(json.dumps({"succeeded": len(done), "unfinished": left, "failed": sum(1 for r in rows if r[5] == "failed"),
                  "overhead_p50_ms": pct(0.5), "overhead_p99_ms": pct(0.99), "utilization": busy / (workers * wall),
                  "during_submit": [len(during), pct(0.5, during), pct(0.99, during)], "after_submit": [len(after), pct(0.5, after), pct(0.99, after)],
                  "push_p99": [pct(0.99, push["during"]), pct(0.99, push["after"])], "callback_p99": [pct(0.99, callback["during"]), pct(0.99, callback["after"])],
                  "model_switches": switches, "wall_s": wall / 1000}))
PY
  if [ -n "${KEEP_DB:-}" ]; then curl -sf "http://127.0.0.1:$port/metrics" >"$KEEP_DB.$affinity.metrics" || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  if [ -n "${KEEP_DB:-}" ]; then
    python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' "$work/data/muse.sqlite" "$KEEP_DB.$affinity.sqlite"
  fi
  rm -rf "$work"
  work=""
}

mapfile -t affinity < <(run_pass true)
if [ "${BASELINE:-1}" = 1 ]; then
  mapfile -t baseline < <(run_pass false)
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
print(f"scheduler overhead per task (end to end minus worker time minus waiting for a free worker): p50 {run['overhead_p50_ms']} ms, p99 {run['overhead_p99_ms']} ms")
d, a = run['during_submit'], run['after_submit']
print(f"  while the client was still submitting: {d[0]} tasks, p50 {d[1]} ms, p99 {d[2]} ms; after: {a[0]} tasks, p50 {a[1]} ms, p99 {a[2]} ms")
print(f"  p99 push (claim → worker accepted): {run['push_p99'][0]} ms during, {run['push_p99'][1]} ms after; p99 callback (worker sent → committed): {run['callback_p99'][0]} ms during, {run['callback_p99'][1]} ms after")
print(f"worker utilization at saturation: {run['utilization'] * 100:.1f}% over {run['wall_s']:.1f} s ({run['succeeded']} succeeded, {run['failed']} failed, {run['unfinished']} unfinished)")
if base['wall_s']:
    ratio = run['model_switches'] / base['model_switches'] if base['model_switches'] else float('nan')
    print(f"model switches: {run['model_switches']} with affinity vs {base['model_switches']} first-come-any-worker ({ratio * 100:.1f}%)")
    print(f"baseline run: utilization {base['utilization'] * 100:.1f}%, wall {base['wall_s']:.1f} s, submit {base_client['tasks_per_s']:.0f} tasks/s")
else:
    print(f"model switches: {run['model_switches']} with affinity (baseline pass skipped: BASELINE=0)")
PY
