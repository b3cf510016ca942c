"""Generation: one pipeline call for a job, or for a batch of jobs of the same model, size, steps,
sampler and LoRAs, each image with its own generator and seed (the job's seed plus its index, as
the server and the simulator number them); img2img from the job's `init_image`; progress after
each denoising step, and a cancel that takes effect at the next step."""
import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from .errors import Canceled, JobError
from .inputs import init_image
from .params import GenerationParams, parse
from .pipelines import Pipelines
from .png import encode
from .transfer import Server


@dataclass
class Assets:
    """Where a job's named inputs come from: LoRA files by key, and the server for image ids."""
    lora_path: Callable[[str], str] | None = None
    server: Server | None = None

    def path(self, key: str) -> str:
        if self.lora_path is None:
            raise JobError("lora_not_found", f"no LoRA {key!r} on this worker")
        return self.lora_path(key)


@dataclass
class Job:
    attempt_id: str
    params: GenerationParams
    canceled: threading.Event = field(default_factory=threading.Event)


def same_shape(a: GenerationParams, b: GenerationParams) -> bool:
    return (a.model, a.width, a.height, a.steps, a.sampler, a.guidance, a.clip_skip, a.loras) == (
        b.model, b.width, b.height, b.steps, b.sampler, b.guidance, b.clip_skip, b.loras) and not a.init_image and not b.init_image


def run_batch(pipelines: Pipelines, jobs: list[Job], progress: Callable[[Job, int, int], None] | None = None,
              assets: Assets | None = None) -> list[dict]:
    """Runs `jobs` (all of one shape) as one call; a result (the protocol's result body) per job."""
    assets = assets or Assets()
    first = jobs[0].params
    if len(jobs) > 1 and any(not same_shape(first, job.params) for job in jobs):
        raise JobError("bad_params", "a batch must share model, size, steps, sampler, guidance and LoRAs, and hold no img2img job")
    started = time.monotonic()
    pipelines.entry(first.model)  # model_not_found before any input is fetched
    extra = {}
    if first.init_image is not None:
        extra["image"] = init_image(first.init_image, assets.server, first.width, first.height)
        # diffusers runs int(steps × strength) steps: at least one.
        extra["strength"] = max(first.strength, 1.0 / first.steps)
    else:
        extra["width"], extra["height"] = first.width, first.height
    pipeline = pipelines.for_job(first.model, img2img=first.init_image is not None)
    try:
        pipelines.use_loras(first.model, first.loras, assets.path)
        loaded = time.monotonic()
        pipeline.scheduler = Pipelines.scheduler(pipeline, first.sampler)
        return _call(pipeline, jobs, first, extra, progress, started, loaded)
    finally:
        pipelines.loras_off(first.model)


def _call(pipeline, jobs: list[Job], first: GenerationParams, extra: dict, progress, started: float, loaded: float) -> list[dict]:
    try:
        return _denoise(pipeline, jobs, first, extra, progress, started, loaded)
    except torch.OutOfMemoryError:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return [{"status": "failed", "error": {"code": "out_of_memory", "message": "the GPU ran out of memory"}} for _ in jobs]


def _denoise(pipeline, jobs: list[Job], first: GenerationParams, extra: dict, progress, started: float, loaded: float) -> list[dict]:
    prompts, negatives, generators, owners = [], [], [], []
    for job in jobs:
        for k in range(job.params.num_images):
            seed = (job.params.seed + k) % 2**32  # as the server numbers them, and a result's seed allows
            prompts.append(job.params.prompt)
            negatives.append(job.params.negative_prompt)
            generators.append(torch.Generator(device="cpu").manual_seed(seed))
            owners.append((job, seed))

    def on_step(pipe, step, timestep, kwargs):
        if all(job.canceled.is_set() for job in jobs):
            raise Canceled()
        if progress:
            # Second-order samplers (heun) and img2img run another number of model steps than
            # `steps`: the report is scaled to the job's steps.
            total = max(1, getattr(pipe, "num_timesteps", first.steps) or first.steps)
            done = max(1, min(first.steps, round((step + 1) * first.steps / total)))
            for job in jobs:
                progress(job, done, first.steps)
        return kwargs

    try:
        output = pipeline(
            prompt=prompts, negative_prompt=negatives if any(negatives) else None, num_inference_steps=first.steps,
            guidance_scale=first.guidance, generator=generators, clip_skip=first.clip_skip, callback_on_step_end=on_step, **extra)
    except Canceled:
        return [{"status": "canceled"} for _ in jobs]
    inferred = time.monotonic()
    images: dict[str, list[dict]] = {job.attempt_id: [] for job in jobs}
    for image, (job, seed) in zip(output.images, owners):
        images[job.attempt_id].append({
            "png_base64": base64.b64encode(encode(image, job.params, seed)).decode("ascii"), "seed": seed,
            "width": image.width, "height": image.height})
    encoded = time.monotonic()
    timings = {"queue_ms": 0, "load_ms": int((loaded - started) * 1000), "infer_ms": int((inferred - loaded) * 1000),
               "encode_ms": int((encoded - inferred) * 1000)}
    return [
        {"status": "canceled"} if job.canceled.is_set() else {"status": "succeeded", "images": images[job.attempt_id], "timings": timings}
        for job in jobs
    ]


def run(pipelines: Pipelines, attempt_id: str, raw_params, progress=None, canceled: threading.Event | None = None,
        assets: Assets | None = None) -> dict:
    """One job from its raw params; never raises for a bad job: the result says `failed`."""
    try:
        job = Job(attempt_id=attempt_id, params=parse(raw_params), canceled=canceled or threading.Event())
        return run_batch(pipelines, [job], progress, assets)[0]
    except JobError as error:
        return {"status": "failed", "error": {"code": error.code, "message": error.message[:2000]}}
    except Exception as error:  # the worker keeps serving whatever one job does
        return {"status": "failed", "error": {"code": "internal", "message": f"{type(error).__name__}: {error}"[:2000]}}
