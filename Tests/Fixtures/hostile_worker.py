#!/usr/bin/env python3
"""A worker that speaks the protocol but lies when polled, for the polling-fallback tests.

hostile_worker.py PORT SERVER TOKEN_FILE LOG MODE: registers as `hostile-1` (txt2img, one slot,
sd15-base loaded), heart-beats every second without ever listing a job as running (so the server
polls soon), takes every job and never calls back. Each job and each cancel is appended to LOG as
a JSON line: {"registered": worker_id} once, then {"job": attempt_id} or {"cancel": attempt_id}. MODE decides what
GET /v1/jobs/{id} answers:
  contradict: "succeeded", carrying a *failed* result (the two must agree to be believed);
  running:    "running" at 0.5, whatever happened to the task.
"""
import json, sys, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, server, token_file, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
token = open(token_file).read().strip()
lock = threading.Lock()


def record(entry):
    with lock, open(log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def post(path, body):
    request = urllib.request.Request(
        server + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        # Said, so that a test that never sees the registration can tell why.
        print("POST %s: %r; listening on that port: %s" % (path, error, listeners(server)), file=sys.stderr, flush=True)
        return 0


def listeners(url):
    """The sockets the kernel lists as listening on the server's port (/proc/net/tcp, tcp6)."""
    wanted = "%04X" % int(url.rsplit(":", 1)[1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in open(table).read().splitlines()[1:]:
                fields = line.split()
                if fields[1].endswith(":" + wanted) and fields[3] == "0A":
                    found.append("%s %s inode %s" % (table[-4:], fields[1], fields[9]))
        except OSError:
            pass
    return found or "none"


def register():
    return post("/internal/v1/workers", {
        "worker_id": "hostile-1", "url": "http://127.0.0.1:%d" % port, "abilities": ["txt2img"],
        "slots": 1, "max_batch": 1, "models_loaded": ["sd15-base"]})


def heartbeat():
    while True:
        if post("/internal/v1/workers/hostile-1/heartbeat", {"busy": 0.5, "running": [], "models_loaded": ["sd15-base"], "queue": 0}) == 404:
            register()
        time.sleep(1)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        parts = self.path.strip("/").split("/")
        if parts == ["v1", "jobs"]:
            for job in body.get("jobs", [body]):
                record({"job": job["attempt_id"]})
            return self.answer(202, {"accepted": True})
        if len(parts) == 4 and parts[:2] == ["v1", "jobs"] and parts[3] == "cancel":
            record({"cancel": parts[2]})
            return self.answer(200, {"ok": True})
        self.answer(404, {})

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["v1", "jobs"]:
            return self.answer(404, {})
        if mode == "contradict":
            return self.answer(200, {"status": "succeeded", "progress": 1,
                                     "result": {"status": "failed", "error": {"code": "oom", "message": "out of memory"}}})
        self.answer(200, {"status": "running", "progress": 0.5, "result": None})


print("listening on %d, registering with %s" % (port, server), file=sys.stderr, flush=True)
listener = ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Thread(target=listener.serve_forever, daemon=True).start()
while True:
    status = register()
    if status == 200:
        break
    print("registration answered %s" % status, file=sys.stderr, flush=True)
    time.sleep(0.2)
record({"registered": "hostile-1"})
heartbeat()
