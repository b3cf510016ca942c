"""The worker side of the worker protocol (docs/WORKER-PROTOCOL.md) over aiohttp: jobs in
(`POST /v1/jobs`, single or batch; 429 when full), status for the server's polling fallback,
cancel, health; registration and heartbeats out; progress and results called back. One runner
thread takes generation units (a job or a batch) one at a time; each training slot's thread takes
a crop, tag or training job."""
import asyncio
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from . import dataset_jobs
from .busy import BusyMeter
from .dataset_jobs import DATASET_KINDS, DatasetWork
from .errors import JobError
from .generate import Assets, Job, run_batch
from .params import parse
from .pipelines import Pipelines

log = logging.getLogger("muse_diffusers")
GENERATION_KINDS = ("txt2img", "img2img")


@dataclass
class Tracked:
    """A job the worker holds: what `GET /v1/jobs/{id}` answers."""
    job: Job | None
    callback_url: str
    kind: str = "txt2img"
    dataset: dict | None = None  # a crop, tag or training job, as sent
    status: str = "queued"
    progress: float = 0.0
    result: dict | None = None
    canceled: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None


class Worker:
    def __init__(self, pipelines: Pipelines, token: str, server_url: str, worker_id: str, public_url: str, slots: int = 1,
                 max_batch: int = 1, heartbeat_seconds: float = 2.0, keep_finished_seconds: float = 600.0,
                 assets: Assets | None = None, work: DatasetWork | None = None, train_slots: int = 1):
        self.pipelines = pipelines
        self.assets = assets or Assets()
        # Crop, tag and training jobs: None when this worker runs generation only.
        self.work = work
        self.train_slots = train_slots
        self.abilities = list(GENERATION_KINDS)
        if work is not None:
            self.abilities += ["crop", "train"] + (["tag"] if work.captioner.path else [])
        self.token = token
        self.server_url = server_url.rstrip("/")
        self.worker_id = worker_id
        self.public_url = public_url
        self.slots = slots
        self.max_batch = max_batch
        self.heartbeat_seconds = heartbeat_seconds
        # A finished job (its PNGs included) is kept this long for the server's polling, then dropped.
        self.keep_finished_seconds = keep_finished_seconds
        self.jobs: dict[str, Tracked] = {}
        self.units: queue.Queue = queue.Queue()
        self.train_units: queue.Queue = queue.Queue()
        self.busy = BusyMeter()
        self.draining = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.session: aiohttp.ClientSession | None = None
        self._runner = threading.Thread(target=self._run_units, name="gpu", daemon=True)
        self._trainers = [threading.Thread(target=self._run_dataset_jobs, name=f"train-{i}", daemon=True) for i in range(train_slots)]
        self._tasks: list[asyncio.Task] = []
        # Results on their way to the server: a drain waits for them before leaving.
        self._reports: set = set()
        self._reports_lock = threading.Lock()  # added to by the GPU thread, emptied on the loop

    # -- the server's calls -------------------------------------------------------------------

    def app(self) -> web.Application:
        # A job may carry an init_image data: URL of up to 8 MiB (docs/API.md), a batch up to 64 jobs.
        app = web.Application(middlewares=[self._check_token], client_max_size=32 << 20)
        app.router.add_post("/v1/jobs", self._submit)
        app.router.add_get("/v1/jobs/{id}", self._status)
        app.router.add_post("/v1/jobs/{id}/cancel", self._cancel)
        app.router.add_get("/v1/health", self._health)
        return app

    @web.middleware
    async def _check_token(self, request, handler):
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {self.token}".encode()):
            return web.json_response({"error": "worker token required"}, status=401)
        return await handler(request)

    def _forget_old(self):
        cutoff = time.monotonic() - self.keep_finished_seconds
        for attempt in [a for a, t in self.jobs.items() if t.finished_at is not None and t.finished_at < cutoff]:
            del self.jobs[attempt]

    def _in_flight(self, kinds=None) -> int:
        return sum(1 for t in self.jobs.values() if t.status in ("queued", "running") and (kinds is None or t.kind in kinds))

    async def _submit(self, request):
        if self.draining:
            # 429: the server gives the jobs to another worker without spending an attempt.
            return web.json_response({"error": "draining"}, status=429, headers={"Retry-After": "1"})
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "not JSON"}, status=400)
        raw = body.get("jobs") if isinstance(body, dict) and "jobs" in body else [body]
        if not isinstance(raw, list) or not raw or len(raw) > self.max_batch:
            return web.json_response({"error": f"one job, or a batch of at most {self.max_batch}"}, status=400)
        unit = []
        for entry in raw:
            if not isinstance(entry, dict) or not isinstance(entry.get("attempt_id"), str) or not isinstance(entry.get("callback_url"), str):
                return web.json_response({"error": "each job needs attempt_id and callback_url"}, status=400)
            if entry.get("kind") not in self.abilities:
                return web.json_response({"error": f"this worker runs {', '.join(self.abilities)}"}, status=400)
            unit.append(entry)
        dataset = unit[0]["kind"] in DATASET_KINDS
        if dataset and len(unit) > 1 or any((e["kind"] in DATASET_KINDS) != dataset for e in unit):
            return web.json_response({"error": "crop, tag and training jobs come one at a time"}, status=400)
        if dataset and self._in_flight(DATASET_KINDS) >= self.train_slots * 2:
            return web.json_response({"error": "full"}, status=429, headers={"Retry-After": "1"})
        if not dataset and self._in_flight(GENERATION_KINDS) + len(unit) > self.slots * 2 * self.max_batch:
            return web.json_response({"error": "full"}, status=429, headers={"Retry-After": "1"})
        tracked = []
        for entry in unit:
            attempt = entry["attempt_id"]
            if attempt in self.jobs:
                continue  # a push repeated: the job is held already
            item = Tracked(job=None, callback_url=entry["callback_url"], kind=entry["kind"])
            if dataset:
                item.dataset = entry
                self.jobs[attempt] = item
                tracked.append(item)
                continue
            try:
                params = entry.get("params")
                if entry["kind"] == "img2img" and not (isinstance(params, dict) and params.get("init_image")):
                    raise JobError("bad_params", "an img2img job needs init_image")
                item.job = Job(attempt, parse(params), item.canceled)
            except JobError as error:
                item.status, item.result = "failed", {"status": "failed", "error": {"code": error.code, "message": error.message}}
            self.jobs[attempt] = item
            tracked.append(item)
        for item in tracked:
            if item.result is not None:
                item.finished_at = time.monotonic()
                self._spawn(self._report(item))
        runnable = [item for item in tracked if item.result is None]
        if runnable:
            (self.train_units if dataset else self.units).put(runnable)
        return web.json_response({"accepted": len(tracked)}, status=202)

    async def _status(self, request):
        item = self.jobs.get(request.match_info["id"])
        if item is None:
            return web.json_response({"error": "unknown job"}, status=404)
        return web.json_response({"status": item.status, "progress": item.progress, "result": item.result})

    async def _cancel(self, request):
        item = self.jobs.get(request.match_info["id"])
        if item is not None and item.status in ("queued", "running"):
            item.canceled.set()
        return web.json_response({"canceled": item is not None})

    async def _health(self, request):
        return web.json_response({"ok": True, "models_loaded": self.pipelines.loaded(), "busy": self.busy.ratio()})

    # -- the GPU thread ------------------------------------------------------------------------

    def _run_units(self):
        while True:
            unit = self.units.get()
            if unit is None:
                return
            live = [item for item in unit if not item.canceled.is_set()]
            for item in unit:
                if item.canceled.is_set():
                    self._finish(item, {"status": "canceled"})
            if not live:
                continue
            for item in live:
                item.status = "running"
            self.busy.start()
            try:
                results = run_batch(self.pipelines, [item.job for item in live], progress=self._progress, assets=self.assets)
            except JobError as error:
                results = [{"status": "failed", "error": {"code": error.code, "message": error.message}} for _ in live]
            except Exception as error:  # the worker keeps serving whatever one job does
                log.exception("job failed")
                results = [{"status": "failed", "error": {"code": "internal", "message": f"{type(error).__name__}: {error}"[:2000]}}
                           for _ in live]
            finally:
                self.busy.stop()
            for item, result in zip(live, results):
                self._finish(item, result)

    def _run_dataset_jobs(self):
        while True:
            unit = self.train_units.get()
            if unit is None:
                return
            item = unit[0]
            if item.canceled.is_set():
                self._finish(item, {"status": "canceled"})
                continue
            item.status = "running"
            self.busy.start()
            try:
                result = dataset_jobs.run(self.work, item.dataset, lambda step, total, loss: self._report_progress(item, step, total, loss),
                                          item.canceled)
            finally:
                self.busy.stop()
            if result["status"] == "failed":
                log.warning("%s job %s failed: %s", item.kind, item.dataset["attempt_id"], result["error"])
            self._finish(item, result)

    def _progress(self, job: Job, step: int, total: int):
        item = self.jobs.get(job.attempt_id)
        if item is not None:
            self._report_progress(item, step, total, None)

    def _report_progress(self, item: Tracked, step: int, total: int, loss: float | None):
        item.progress = step / max(1, total)
        body = {"progress": min(1.0, item.progress), "step": step, "total_steps": total}
        if loss is not None:
            body["loss"] = loss
        asyncio.run_coroutine_threadsafe(self._post(item.callback_url + "/progress", body, tries=1), self.loop)

    def _finish(self, item: Tracked, result: dict):
        item.status, item.result, item.finished_at = result["status"], result, time.monotonic()
        future = asyncio.run_coroutine_threadsafe(self._report(item), self.loop)
        with self._reports_lock:
            self._reports.add(future)
        future.add_done_callback(self._report_done)

    def _report_done(self, future):
        with self._reports_lock:
            self._reports.discard(future)

    # -- calls to the server -------------------------------------------------------------------

    def _spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def _report(self, item: Tracked):
        status = await self._post(item.callback_url + "/result", item.result, tries=5)
        if status in (400, 413) and (item.result.get("error") or {}).get("code") != "result_rejected":
            # The server refused what the job made (too large, out of its bounds): without a result
            # it takes, the task would wait out its lease and run again only to be refused again.
            log.warning("the server refused the result of %s (%s): reporting it failed", item.callback_url, status)
            item.result = {"status": "failed", "error": {"code": "result_rejected", "message": f"the server answered {status} to the result"}}
            item.status = "failed"
            status = await self._post(item.callback_url + "/result", item.result, tries=5)
        if status == 200 and item.result.get("images"):
            # Taken: the PNGs need not stay in memory for a poll that will not come.
            item.result = {**item.result, "images": []}
        elif status != 200:
            log.warning("the result of %s was not taken (%s)", item.callback_url, status)

    async def _post(self, url: str, body: dict, tries: int) -> int | None:
        for attempt in range(tries):
            try:
                # No redirects: a body and the token go only where the server said.
                async with self.session.post(url, json=body, headers=self._auth(), allow_redirects=False) as response:
                    if response.status < 500:
                        return response.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2 * (attempt + 1))
        return None

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def _registration(self) -> dict:
        return {"worker_id": self.worker_id, "url": self.public_url, "abilities": self.abilities, "slots": self.slots,
                "max_batch": self.max_batch, "train_slots": self.train_slots, "models_loaded": self.pipelines.loaded(), "version": "muse-diffusers 0.1.0"}

    async def _heartbeats(self):
        # Also while draining: a worker that stopped beating would be taken for lost, and the jobs
        # it is finishing queued again elsewhere.
        registered = False
        while True:
            try:
                if not registered:
                    async with self.session.post(self.server_url + "/internal/v1/workers", json=self._registration(),
                                                 headers=self._auth(), allow_redirects=False) as response:
                        registered = response.status == 200
                else:
                    self._forget_old()
                    running = [a for a, t in self.jobs.items() if t.status in ("queued", "running")][:4096]
                    beat = {"busy": round(self.busy.ratio(), 3), "running": running, "models_loaded": self.pipelines.loaded(),
                            "queue": self.units.qsize() + self.train_units.qsize()}
                    async with self.session.post(f"{self.server_url}/internal/v1/workers/{self.worker_id}/heartbeat", json=beat,
                                                 headers=self._auth(), allow_redirects=False) as response:
                        registered = response.status != 404  # unknown: register again at once
                        if not registered:
                            continue
            except (aiohttp.ClientError, asyncio.TimeoutError):
                registered = False
            await asyncio.sleep(self.heartbeat_seconds)

    async def start(self):
        self.loop = asyncio.get_running_loop()
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._runner.start()
        for thread in self._trainers:
            thread.start()
        self._spawn(self._heartbeats())

    async def drain(self, timeout: float = 600):
        """As on SIGTERM: take no more jobs, finish those held, leave the server's list."""
        self.draining = True
        waited = 0.0
        while self._in_flight() and waited < timeout:
            await asyncio.sleep(0.1)
            waited += 0.1
        self.units.put(None)
        for _ in self._trainers:
            self.train_units.put(None)
        with self._reports_lock:
            pending = list(self._reports)
        await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        try:
            async with self.session.delete(f"{self.server_url}/internal/v1/workers/{self.worker_id}", headers=self._auth()):
                pass
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        await self.session.close()
