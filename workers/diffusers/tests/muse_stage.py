"""A stand-in for the Muse server that records what a worker sends (registration, heartbeats,
progress, results, uploads, leaving) and serves what jobs name (dataset images, checkpoints,
LoRAs, images), and a worker registered with it."""
import asyncio
from contextlib import asynccontextmanager
from types import SimpleNamespace

from aiohttp import web

from muse_diffusers.dataset_jobs import DatasetWork
from muse_diffusers.generate import Assets
from muse_diffusers.loras import LoraFiles
from muse_diffusers.server import Worker
from muse_diffusers.tag import Captioner
from muse_diffusers.transfer import Server

TOKEN = "mwt_test"


class FakeMuse:
    def __init__(self):
        self.registrations, self.heartbeats, self.progress, self.results, self.left = [], [], [], {}, []
        # What jobs name, served with the token: name → bytes (images, checkpoints), LoRA key → bytes.
        self.files, self.loras, self.images = {}, {}, {}
        # (attempt, what) → bytes, for PUT …/checkpoint?step=N ("checkpoint N"), …/artifact, …/images/{id}.
        self.uploads = {}
        self.refuse_uploads = False
        self.redirect = None  # a handler for GET /redirect, set by a test

    def app(self):
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/internal/v1/workers", self.register)
        app.router.add_post("/internal/v1/workers/{id}/heartbeat", self.heartbeat)
        app.router.add_delete("/internal/v1/workers/{id}", self.leave)
        app.router.add_post("/internal/v1/attempts/{id}/progress", self.on_progress)
        app.router.add_post("/internal/v1/attempts/{id}/result", lambda request: self.on_result(request))  # a test may swap it
        app.router.add_post("/internal/v1/job-attempts/{id}/progress", self.on_progress)
        app.router.add_post("/internal/v1/job-attempts/{id}/result", self.on_result)
        app.router.add_put("/internal/v1/job-attempts/{id}/checkpoint", self.on_upload)
        app.router.add_put("/internal/v1/job-attempts/{id}/artifact", self.on_upload)
        app.router.add_put("/internal/v1/job-attempts/{id}/images/{image}", self.on_upload)
        app.router.add_get("/files/{name}", self.serve(lambda r: self.files.get(r.match_info["name"])))
        app.router.add_get("/redirect", lambda request: self.redirect(request))
        app.router.add_get("/internal/v1/loras/{key}", self.serve(lambda r: self.loras.get(r.match_info["key"])))
        app.router.add_get("/internal/v1/images/{id}", self.serve(lambda r: self.images.get(r.match_info["id"])))
        return app

    def serve(self, lookup):
        async def handler(request):
            if not self.authorized(request):
                return web.json_response({"error": "token"}, status=401)
            data = lookup(request)
            return web.Response(body=data) if data is not None else web.json_response({"error": "no such thing"}, status=404)
        return handler

    async def on_upload(self, request):
        assert self.authorized(request)
        if self.refuse_uploads:
            return web.json_response({"error": "not current"}, status=404)
        what = request.path.rsplit("/", 2)
        name = "images/" + what[-1] if what[-2] == "images" else what[-1]
        if name == "checkpoint":
            name = f"checkpoint {request.query['step']}"
        self.uploads[(request.match_info["id"], name)] = await request.read()
        return web.json_response({"ok": True})

    def authorized(self, request):
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def register(self, request):
        assert self.authorized(request)
        self.registrations.append(await request.json())
        return web.json_response({"ok": True})

    async def heartbeat(self, request):
        assert self.authorized(request)
        self.heartbeats.append(await request.json())
        return web.json_response({"ok": True})

    async def leave(self, request):
        self.left.append(request.match_info["id"])
        return web.json_response({"ok": True})

    async def on_progress(self, request):
        self.progress.append((request.match_info["id"], await request.json()))
        return web.json_response({"ok": True})

    async def on_result(self, request):
        self.results[request.match_info["id"]] = await request.json()
        return web.json_response({"ok": True})


async def serve(app):
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


async def until(predicate, seconds=60):
    for _ in range(int(seconds * 20)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


@asynccontextmanager
async def stage(pipelines, worker_id, **options):
    """A stand-in server and a worker registered with it, both listening; drained and closed after."""
    muse = FakeMuse()
    muse_runner, muse_port = await serve(muse.app())
    url = f"http://127.0.0.1:{muse_port}"
    server = Server(url, TOKEN)
    if options.pop("assets", False):
        options["assets"] = Assets(lora_path=LoraFiles(pipelines.config, server, options.pop("lora_cache")).path, server=server)
    if options.pop("training", False):
        options["work"] = DatasetWork(pipelines, server, Captioner(options.pop("captioner", None)))
    worker = Worker(pipelines, TOKEN, url, worker_id, "http://127.0.0.1:1", **options)
    await worker.start()
    runner, port = await serve(worker.app())
    try:
        yield SimpleNamespace(muse=muse, muse_port=muse_port, worker=worker, base=f"http://127.0.0.1:{port}",
                              auth={"Authorization": f"Bearer {TOKEN}"})
    finally:
        if not worker.draining:
            await worker.drain()
        await runner.cleanup()
        await muse_runner.cleanup()


def dataset_job(attempt, muse_port, kind, params, images, resume=None):
    body = {"attempt_id": attempt, "kind": kind, "params": params, "images": images,
            "callback_url": f"http://127.0.0.1:{muse_port}/internal/v1/job-attempts/{attempt}", "deadline": "2030-01-01T00:00:00.000Z"}
    if resume:
        body["resume"] = resume
    return body


def job(attempt, muse_port, **params):
    values = {"model": "tiny-sd", "prompt": "a red fox", "width": 64, "height": 64, "steps": 3, "seed": 5}
    values.update(params)
    return {"attempt_id": attempt, "kind": "txt2img", "params": values,
            "callback_url": f"http://127.0.0.1:{muse_port}/internal/v1/attempts/{attempt}", "deadline": "2030-01-01T00:00:00.000Z"}


