"""Reads a finished generation-bench database and prints one JSON line of figures.

Scheduler overhead per task is end to end, minus worker time, minus waiting for a free worker,
measured on each worker's own timeline (the simulator reports when it accepted a job, how long
the job queued on it, its load, inference and encoding times, and when it sent the result):

  ready          = max(created, when the worker finished its previous job's GPU work)
  dispatch delay = GPU start - ready        (the GPU was free and the task existed, but it did not run)
  result delay   = committed - GPU end - encoding   (the image was done, but the task was not yet succeeded)
  overhead       = dispatch delay + result delay

A job sent ahead (the server keeps one job queued on each busy worker) costs nothing while the
GPU is still busy with the one before it. The server-clock figure of earlier runs (idle gap
between a worker's tasks + claim → commit − worker time) counted that hidden send as overhead;
it is printed too, for comparison. Tasks are split by phase: started while the client was still
submitting (the bench client, the server and 8 simulators share the CPU) and after.
"""
import json
import sqlite3
import sys
import time

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
done = [(w, c, s, f, json.loads(t or "{}")) for w, c, s, f, t, status in rows if status == "succeeded"]
submit_end = max((r[1] for r in rows), default=0)

busy, switches = 0, 0
figures = {name: {"all": [], "during": [], "after": []} for name in ("overhead", "server_clock", "dispatch", "result")}


def add(name, phase, value):
    figures[name]["all"].append(value)
    figures[name][phase].append(value)


by_worker = {}
for worker, created, started, finished, t in done:
    work = t.get("load_ms", 0) + t.get("infer_ms", 0)
    busy += work
    switches += 1 if t.get("load_ms", 0) > 0 else 0
    by_worker.setdefault(worker, []).append((created, started, finished, t, work))

for jobs in by_worker.values():
    # Server clock: in claim order; the gap is the time the worker had nothing from the server.
    jobs.sort(key=lambda j: j[1])
    previous_finish = None
    for created, started, finished, t, work in jobs:
        gap = max(0, started - previous_finish) if previous_finish is not None else 0
        phase = "during" if started <= submit_end else "after"
        add("server_clock", phase, gap + max(0, (finished - started) - work - t.get("queue_ms", 0) - t.get("encode_ms", 0)))
        previous_finish = finished
    # Worker timeline: in the order the GPU ran them.
    timed = [j for j in jobs if j[3].get("accepted_at_ms") and j[3].get("reported_at_ms")]
    timed.sort(key=lambda j: j[3]["accepted_at_ms"] + j[3].get("queue_ms", 0))
    gpu_free = None
    for created, started, finished, t, work in timed:
        gpu_start = t["accepted_at_ms"] + t.get("queue_ms", 0)
        gpu_end = gpu_start + work
        ready = max(created, gpu_free) if gpu_free is not None else created
        dispatch = max(0, gpu_start - ready)
        result = max(0, finished - gpu_end - t.get("encode_ms", 0))
        phase = "during" if started <= submit_end else "after"
        add("dispatch", phase, dispatch)
        add("result", phase, result)
        add("overhead", phase, dispatch + result)
        gpu_free = gpu_end


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else None


summary = {name: {phase: [len(xs), pct(xs, 0.5), pct(xs, 0.99)] for phase, xs in split.items()} for name, split in figures.items()}
wall = max(r[3] for r in done) - min(r[2] for r in done) if done else 1
print(json.dumps({
    "succeeded": len(done), "unfinished": left, "failed": sum(1 for r in rows if r[5] == "failed"),
    "utilization": busy / (workers * wall), "model_switches": switches, "wall_s": wall / 1000, **summary,
}))
