#!/usr/bin/env python3
"""A webhook receiver for the tests, and an independent check of Standard Webhooks signatures.

serve PORT LOG MODE [FAIL_FIRST]: answers POSTs; MODE is ok (503 for the first FAIL_FIRST
requests, then 200), gone (410), or hang (never answers). Each request is appended to LOG as
a JSON line: {"headers": {...}, "body": base64, "status": code}.
verify SECRET LOG: checks every logged request's webhook-signature with Python's hmac and
prints "verified N of M".
"""
import base64, hashlib, hmac, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port, log, mode, fail_first, host="127.0.0.1"):
    lock = threading.Lock()
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                seen[0] += 1
                n = seen[0]
            if mode == "hang":
                status = 0
            elif mode == "gone":
                status = 410
            else:
                status = 503 if n <= fail_first else 200
            with lock, open(log, "a") as f:
                f.write(json.dumps({"headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": base64.b64encode(body).decode(), "status": status}) + "\n")
            if status == 0:
                time.sleep(3600)
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer((host, port), Handler).serve_forever()


def verify(secret, log):
    key = base64.b64decode(secret[len("whsec_"):])
    lines = [json.loads(l) for l in open(log)]
    good = 0
    for entry in lines:
        h = entry["headers"]
        body = base64.b64decode(entry["body"])
        signed = f'{h["webhook-id"]}.{h["webhook-timestamp"]}.'.encode() + body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, s) for s in h["webhook-signature"].split(" ")):
            good += 1
    print(f"verified {good} of {len(lines)}")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0,
              sys.argv[6] if len(sys.argv) > 6 else "127.0.0.1")
    else:
        verify(sys.argv[2], sys.argv[3])
