"""Training figures against a running muse server: prints one JSON line.

  python3 training-bench.py BIN_DIR WORK_DIR

Starts its own server (BIN_DIR/muse-cloud on the embedded default, WORK_DIR/data) and measures:

  first_step      submit of a training → its first step visible on GET /v1/trainings/{id}, with one
                  idle simulated worker (muse-worker-sim, 10 ms a step); median and p95 over 20.
  status_lag      a worker's progress report → visible in the API (GET) and on the SSE stream: this
                  script is the worker (it registers, takes the training job and reports 400 steps,
                  one every 10 ms), timing from just before each POST; p50/p99/max.
  upload          100 PNG bodies of 2 MB each into one dataset, one at a time and 4 at once: MB/s.
  upload_memory   40 PNG bodies of 19 MB each at once: the server's resident memory before, at its
                  highest while they arrive (sampled every 10 ms), and after (uploads are streamed
                  to disk, so it should not grow by the bodies' 760 MB). One tenant streams at most
                  server.max_streaming_bodies_per_caller (16) at once; the others get 503 and are
                  sent again a second later (busy_503 counts those answers).
  kill            the server killed (SIGKILL) at each stage, then started again on the same data:
                  what became of the work (final status, attempts, artifacts on disk) and how long
                  after the restart it took.
"""
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN, WORK = sys.argv[1], sys.argv[2]
DATA = os.path.join(WORK, "data")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


PORT = free_port()


def png(width, height, seed, level=6, fast=False):
    rnd = random.Random(seed)
    # fast: rows of os.urandom bytes (a 19 MB body in a blink; not reproducible, which no figure needs).
    row = (lambda: b"\x00" + os.urandom(width * 3)) if fast else (lambda: b"\x00" + bytes(rnd.getrandbits(8) for _ in range(width * 3)))
    raw = b"".join(row() for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b"")


class Server:
    def __init__(self):
        self.process = None

    def start(self):
        log = open(os.path.join(WORK, "server.log"), "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUSE_")}
        self.process = subprocess.Popen(
            [os.path.join(BIN, "muse-cloud"), "serve", "--port", str(PORT), "--data-dir", DATA], stdout=log, stderr=log, env=env)
        for _ in range(200):
            try:
                if call("GET", "/healthz", key=None)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("the server did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def call(method, path, body=None, key="", headers=None, raw=None, timeout=30):
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=h)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    try:
        return response.status, json.loads(payload or b"null")
    except ValueError:
        return response.status, payload


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None


def ms(seconds):
    return round(seconds * 1000, 1)


def key_for(tenant):
    out = subprocess.run([os.path.join(BIN, "muse-cloud"), "keys", "create", "--tenant", tenant, "--data-dir", DATA],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def dataset(key, images=2, size=(64, 64)):
    _, ds = call("POST", "/v1/datasets", {"name": "bench", "category": "object"}, key)
    for i in range(images):
        call("POST", f"/v1/datasets/{ds['id']}/images", key=key, raw=png(*size, seed=i), headers={"Content-Type": "image/png"})
    return ds["id"]


def wait_for(predicate, seconds=120, every=0.005):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def training(key, ds, steps, every=100):
    body = {"base_model": "sd15-base", "dataset": ds, "output_name": "bench", "trigger_word": "sks",
            "params": {"steps": steps, "checkpoint_every": every, "rank": 4}}
    status, job = call("POST", "/v1/trainings", body, key)
    assert status == 202, job
    return job["id"]


def simulator(worker_id, step_ms):
    token_file = os.path.join(DATA, "worker-token")
    log = open(os.path.join(WORK, f"{worker_id}.log"), "ab")
    return subprocess.Popen(
        [os.path.join(BIN, "muse-worker-sim"), "--port", str(free_port()), "--server", f"http://127.0.0.1:{PORT}", "--token-file", token_file,
         "--worker-id", worker_id, "--abilities", "txt2img,img2img,crop,tag,train", "--train-step-ms", str(step_ms), "--latency-ms", "10",
         "--model-load-ms", "10"], stdout=log, stderr=log)


def first_step(key):
    sim = simulator("bench-sim", 10)
    ds = dataset(key)
    # Warm: the worker registered and one training ran.
    tid = training(key, ds, 20)
    wait_for(lambda: call("GET", f"/v1/trainings/{tid}", key=key)[1]["status"] == "succeeded")
    times = []
    for _ in range(20):
        started = time.monotonic()
        tid = training(key, ds, 20)
        if wait_for(lambda: (call("GET", f"/v1/trainings/{tid}", key=key)[1].get("step") or 0) >= 1, every=0.002):
            times.append(time.monotonic() - started)
        wait_for(lambda: call("GET", f"/v1/trainings/{tid}", key=key)[1]["status"] in ("succeeded", "failed"))
    sim.send_signal(signal.SIGKILL)
    sim.wait()
    return {"runs": len(times), "median_ms": ms(percentile(times, 50)), "p95_ms": ms(percentile(times, 95))}


class FakeWorker:
    """A worker that takes one training job and reports steps itself, timing each report."""

    def __init__(self, token):
        self.token = token
        self.job = None
        self.stopped = False
        self.got = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                if self.path == "/v1/jobs" and body.get("kind") == "train" and outer.job is None:
                    outer.job = body
                    outer.got.set()
                    self.send_response(202)
                else:
                    self.send_response(429)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                self.send_response(200 if self.path.startswith("/v1/jobs/") else 404)
                data = json.dumps({"status": "running", "progress": 0.5}).encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.port = free_port()
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def post(self, path, body):
        return call("POST", path, body, self.token)[0]

    def register(self):
        assert self.post("/internal/v1/workers", {"worker_id": "bench-fake", "url": f"http://127.0.0.1:{self.port}",
                                                  "abilities": ["train"], "slots": 1, "train_slots": 1}) == 200
        threading.Thread(target=self.beat, daemon=True).start()

    def beat(self):
        while not self.stopped:
            attempt = [self.job["attempt_id"]] if self.job else []
            try:
                self.post("/internal/v1/workers/bench-fake/heartbeat", {"busy": 0.5, "running": attempt, "models_loaded": [], "queue": 0})
            except OSError:
                pass
            time.sleep(1)


def status_lag(key):
    token = open(os.path.join(DATA, "worker-token")).read().strip()
    worker = FakeWorker(token)
    worker.register()
    ds = dataset(key)
    tid = training(key, ds, 400)
    assert worker.got.wait(30), "the fake worker never got the job"
    callback = worker.job["callback_url"].split(f":{PORT}", 1)[1]
    sent = {}
    seen_sse = {}

    def follow():
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        connection.request("GET", f"/v1/trainings/{tid}/events", headers={"Authorization": "Bearer " + key})
        response = connection.getresponse()
        for line in response:
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                if event.get("step") is not None and event["step"] not in seen_sse:
                    seen_sse[event["step"]] = time.monotonic()
                if event["status"] in ("succeeded", "failed", "canceled"):
                    return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    time.sleep(0.3)
    api_lag = []
    for step in range(1, 401):
        sent[step] = time.monotonic()
        worker.post(f"{callback}/progress", {"progress": step / 400, "step": step, "total_steps": 400, "loss": 0.3 - step / 4000})
        # Polled right away, as a client watching the training would see it.
        while (call("GET", f"/v1/trainings/{tid}", key=key)[1].get("step") or 0) < step:
            pass
        api_lag.append(time.monotonic() - sent[step])
        time.sleep(0.01)
    call("POST", f"/v1/trainings/{tid}/cancel", key=key)
    reader.join(10)
    sse_lag = [seen_sse[s] - sent[s] for s in sent if s in seen_sse]
    worker.stopped = True
    worker.http.shutdown()
    return {"reports": 400, "api_p50_ms": ms(percentile(api_lag, 50)), "api_p99_ms": ms(percentile(api_lag, 99)),
            "api_max_ms": ms(max(api_lag)), "sse_events": len(sse_lag), "sse_p50_ms": ms(percentile(sse_lag, 50)),
            "sse_p99_ms": ms(percentile(sse_lag, 99)), "sse_max_ms": ms(max(sse_lag)) if sse_lag else None}


def upload(key):
    images = [png(836, 836, seed=i, level=0) for i in range(100)]
    size = sum(map(len, images))
    results = {"images": 100, "mb_each": round(len(images[0]) / 1e6, 2)}
    for parallel in (1, 4):
        _, ds = call("POST", "/v1/datasets", {"name": "upload", "category": "object"}, key)
        queue = list(images)
        lock = threading.Lock()
        failures = []

        def run():
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                status, answer = call("POST", f"/v1/datasets/{ds['id']}/images", key=key, raw=body, headers={"Content-Type": "image/png"})
                if status != 201:
                    failures.append(answer)

        started = time.monotonic()
        threads = [threading.Thread(target=run) for _ in range(parallel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        results[f"x{parallel}_mb_per_s"] = round(size / 1e6 / elapsed, 1)
        results[f"x{parallel}_seconds"] = round(elapsed, 2)
        results[f"x{parallel}_failures"] = len(failures)
    return results


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def upload_memory(server, key):
    body = png(2500, 2500, seed=0, level=0, fast=True)
    _, ds = call("POST", "/v1/datasets", {"name": "memory", "category": "object"}, key)
    pid = server.process.pid
    before = rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.01)

    statuses = []
    busy = []

    def run():
        # Past the caller's share of streaming places (server.max_streaming_bodies_per_caller) the
        # answer is 503 with Retry-After: 1, and the upload is sent again, as a client would.
        while True:
            try:
                status = call("POST", f"/v1/datasets/{ds['id']}/images", key=key, raw=body, headers={"Content-Type": "image/png"})[0]
            except OSError:
                # The 503 is answered on the head and the connection closed while this client
                # (which does not wait for 100-continue) is still sending: the send fails.
                status = 503
            if status != 503:
                statuses.append(status)
                return
            busy.append(status)
            time.sleep(1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    threads = [threading.Thread(target=run) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    return {"uploads": 40, "mb_each": round(len(body) / 1e6, 1), "created": statuses.count(201), "busy_503": len(busy), "seconds": round(elapsed, 2),
            "rss_before_mb": round(before), "rss_peak_mb": round(peak[0]), "rss_after_mb": round(rss_mb(pid))}


def kill_stages(server, key):
    out = {}
    sim = simulator("bench-kill", 10)
    ds = dataset(key, images=3)
    artifacts = lambda: sorted(f for f in os.listdir(os.path.join(DATA, "training")) if f.startswith("lora-"))

    def restart_and_wait(path, done, seconds=120):
        server.kill()
        time.sleep(0.5)
        server.start()
        started = time.monotonic()
        final = wait_for(lambda: (lambda j: j if done(j) else None)(call("GET", path, key=key)[1]), seconds=seconds, every=0.05)
        return final, round(time.monotonic() - started, 2)

    # 1. During an upload: the server dies with a body half sent.
    big = png(836, 836, seed=99, level=0)
    connection = socket.create_connection(("127.0.0.1", PORT))
    head = (f"POST /v1/datasets/{ds}/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: image/png\r\nContent-Length: {len(big)}\r\n\r\n").encode()
    connection.sendall(head + big[: len(big) // 2])
    before = call("GET", f"/v1/datasets/{ds}", key=key)[1]["image_count"]
    files_before = len(os.listdir(os.path.join(DATA, "datasets")))
    final, took = restart_and_wait(f"/v1/datasets/{ds}", lambda d: d, seconds=10)
    connection.close()
    out["upload"] = {"images_before": before, "images_after": final["image_count"], "files_before": files_before,
                     "files_after": len(os.listdir(os.path.join(DATA, "datasets")))}

    # 2. A crop job out on the worker.
    _, crop = call("POST", f"/v1/datasets/{ds}/crop", {"width": 256, "height": 256}, key)
    wait_for(lambda: call("GET", f"/v1/jobs/{crop['id']}", key=key)[1]["status"] in ("dispatched", "running"), every=0.001)
    final, took = restart_and_wait(f"/v1/jobs/{crop['id']}", lambda j: j["status"] in ("succeeded", "failed", "canceled"))
    out["crop_running"] = {"status": final and final["status"], "attempts": final and final["attempts"], "after_restart_s": took}

    # 3. A training still queued (no worker free: a long one holds the only slot).
    blocker = training(key, ds, 20000, every=20000)
    wait_for(lambda: (call("GET", f"/v1/trainings/{blocker}", key=key)[1].get("step") or 0) > 0)
    queued = training(key, ds, 200)
    final, took = restart_and_wait(f"/v1/trainings/{queued}", lambda j: j["status"] == "queued", seconds=10)
    out["training_queued"] = {"status_after_restart": final and final["status"], "restart_s": took}
    call("POST", f"/v1/trainings/{blocker}/cancel", key=key)
    final = wait_for(lambda: (lambda j: j if j["status"] in ("succeeded", "failed") else None)(call("GET", f"/v1/trainings/{queued}", key=key)[1]))
    out["training_queued"]["then"] = final and final["status"]

    # 4. A training running, halfway (checkpoints every 100 steps).
    tid = training(key, ds, 600)
    wait_for(lambda: (call("GET", f"/v1/trainings/{tid}", key=key)[1].get("step") or 0) >= 300, every=0.01)
    final, took = restart_and_wait(f"/v1/trainings/{tid}", lambda j: j["status"] in ("succeeded", "failed", "canceled"))
    out["training_running"] = {"status": final and final["status"], "attempts": final and final["attempts"], "after_restart_s": took,
                               "artifacts": artifacts().count(f"lora-{tid}.safetensors")}

    # 5. The worker killed mid-training instead: the next worker resumes from the checkpoint.
    tid = training(key, ds, 600)
    wait_for(lambda: (call("GET", f"/v1/trainings/{tid}", key=key)[1].get("checkpoint_step") or 0) >= 200, every=0.01)
    sim.send_signal(signal.SIGKILL)
    sim.wait()
    started = time.monotonic()
    sim = simulator("bench-kill-2", 10)
    final = wait_for(lambda: (lambda j: j if j["status"] in ("succeeded", "failed") else None)(call("GET", f"/v1/trainings/{tid}", key=key)[1]))
    out["worker_killed"] = {"status": final and final["status"], "attempts": final and final["attempts"],
                            "last_checkpoint": final and final.get("checkpoint_step"), "until_done_s": round(time.monotonic() - started, 2)}
    sim.send_signal(signal.SIGKILL)
    return out


def main():
    os.makedirs(WORK, exist_ok=True)
    server = Server()
    server.start()
    key = key_for("bench")
    stages = os.environ.get("STAGES", "first_step,status_lag,upload,upload_memory,kill").split(",")
    run = {"first_step": lambda: first_step(key), "status_lag": lambda: status_lag(key), "upload": lambda: upload(key),
           "upload_memory": lambda: upload_memory(server, key), "kill": lambda: kill_stages(server, key)}
    figures = {stage: run[stage]() for stage in stages}
    server.process.terminate()
    print(json.dumps(figures))


main()
