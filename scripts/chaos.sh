#!/usr/bin/env bash
# Chaos run on the embedded default: a client submits steadily while the server and the
# simulated workers are killed with kill -9 and restarted, one every KILL_EVERY seconds
# (default 4), for SECONDS (default 30). Then everything runs until the queue is empty, and:
# every task the client saw accepted (202), and every task in the database, must have
# succeeded with exactly its num_images images. Prints accepted, refused while down, kills,
# and the longest time an orphaned attempt waited before it was queued again (from the moment
# its worker or the server was killed). Uses the debug build (TEST_BIN_DIR, or builds it).
#   scripts/chaos.sh [SECONDS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"
ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" curl python3

seconds="${1:-30}"
kill_every="${KILL_EVERY:-4}"
workers="${WORKERS:-3}"
bin="${TEST_BIN_DIR:-}"
if [ -z "$bin" ]; then
  ensure_swift
  swift build --product muse-cloud >&2
  swift build --product muse-worker-sim >&2
  bin="$(swift build --show-bin-path)"
fi

work="$(mktemp -d /tmp/muse-chaos.XXXXXX)"
port="$(free_port)"
worker_ports=()
for i in $(seq 0 $((workers - 1))); do worker_ports+=("$(free_port)"); done
server_pid=""
worker_pids=()
client_pid=""
cleanup() {
  [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  for pid in "${worker_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start_server() {
  # Many kills in a short run: a task may be orphaned several times and must still finish.
  MUSE_WORKER_MAX_ATTEMPTS=20 MUSE_LOG_ACCESS=false "$bin/muse-cloud" serve --port "$port" --data-dir "$work/data" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "muse-cloud did not start" >&2
  exit 1
}
start_worker() {
  local i=$1
  "$bin/muse-worker-sim" --port "${worker_ports[$i]}" --server "http://127.0.0.1:$port" --token-file "$work/data/worker-token" \
    --latency-ms 100 --model-load-ms 200 --models sd15-base --worker-id "chaos-$i" >>"$work/worker-$i.log" 2>&1 &
  worker_pids[$i]=$!
}
now_ms() { date +%s%3N; }

start_server
key="$("$bin/muse-cloud" keys create --tenant chaos --data-dir "$work/data" | tail -n 1)"
for i in $(seq 0 $((workers - 1))); do start_worker "$i"; done

# The client: a submit every 50 ms; 202s are kept, anything else (refused, reset, 5xx) counted.
python3 - "$port" "$key" "$work/accepted" "$work/refused" "$seconds" <<'PY' &
import json, random, sys, time, urllib.request
port, key, accepted_path, refused_path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
accepted, refused, end = open(accepted_path, "w"), 0, time.time() + seconds
while time.time() < end:
    n = random.choice([1, 2])
    body = json.dumps({"model": "sd15-base", "prompt": "chaos", "steps": 2, "width": 256, "height": 256, "num_images": n}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/generations", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status == 202:
                accepted.write(f"{json.load(response)['id']} {n}\n")
                accepted.flush()
            else:
                refused += 1
    except Exception:
        refused += 1
    time.sleep(0.05)
open(refused_path, "w").write(str(refused))
PY
client_pid=$!

# The chaos: every KILL_EVERY seconds, kill -9 the server or one worker, and restart it a second later.
kills=0
: >"$work/kills"
end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
  sleep "$kill_every"
  victim=$(( RANDOM % (workers + 1) ))
  now_ms >>"$work/kills"
  if [ "$victim" -eq "$workers" ]; then
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    sleep 1
    start_server
  else
    kill -9 "${worker_pids[$victim]}" 2>/dev/null || true
    wait "${worker_pids[$victim]}" 2>/dev/null || true
    sleep 1
    start_worker "$victim"
  fi
  kills=$((kills + 1))
done
wait "$client_pid" || true
client_pid=""

# Everything up: the queue must drain, and every task end as asked.
python3 - "$port" "$key" "$work/accepted" "$work/refused" "$work/data/muse.sqlite" "$work/kills" "$kills" <<'PY'
import json, sqlite3, sys, time, urllib.request
port, key, accepted_path, refused_path, database, kills_path, kills = sys.argv[1:8]
accepted = [line.split() for line in open(accepted_path) if line.strip()]
refused = int(open(refused_path).read() or 0)
kill_times = sorted(int(line) for line in open(kills_path) if line.strip())

def task(id):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/generations/{id}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)

deadline = time.time() + 180
pending = {id: int(n) for id, n in accepted}
bad = []
while pending and time.time() < deadline:
    for id, n in list(pending.items()):
        t = task(id)
        if t["status"] in ("succeeded", "failed", "canceled"):
            if t["status"] != "succeeded" or len(t["images"]) != n:
                bad.append((id, t["status"], len(t["images"]), n, t.get("error")))
            del pending[id]
    if pending:
        time.sleep(0.5)

db = sqlite3.connect(database)
# Tasks the client never heard of (the server died before answering) must finish too.
unfinished = db.execute("SELECT count(*) FROM tasks WHERE status NOT IN ('succeeded')").fetchone()[0]
mismatched = db.execute(
    "SELECT count(*) FROM tasks WHERE status = 'succeeded' AND json_array_length(images) != json_extract(params, '$.num_images')"
).fetchone()[0]
total = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
# An attempt orphaned by a kill: from the kill to the event that queued its task again.
longest, requeues = 0, 0
previous = {}
for task_id, state, at in db.execute("SELECT task_id, state, created_at FROM task_events ORDER BY seq"):
    status = json.loads(state)["status"]
    if status == "queued" and previous.get(task_id) in ("dispatched", "running"):
        requeues += 1
        before = [k for k in kill_times if k <= at]
        if before:
            longest = max(longest, at - before[-1])
    previous[task_id] = status

print(f"chaos: {len(accepted)} accepted, {refused} refused while down, {kills} kills (kill -9), {total} tasks in the database")
print(f"chaos: {requeues} orphaned attempts queued again; the longest waited {longest / 1000:.1f} s after its kill")
print(f"chaos: {len(pending)} accepted tasks still unfinished after the drain, {len(bad)} ended otherwise than succeeded with num_images images, "
      f"{unfinished} tasks in the database not succeeded, {mismatched} with the wrong number of images")
for line in bad[:10]:
    print("  ", line)
sys.exit(1 if pending or bad or unfinished or mismatched else 0)
PY
