"""Generation: one pipeline call for a job, or for a batch of jobs of the same model, size, steps
and sampler, each image with its own generator and seed (the job's seed plus its index, as the
server and the simulator number them); progress after each denoising step, and a cancel that
takes effect at the next step."""
import base64
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from .errors import Canceled, JobError
from .params import GenerationParams, parse
from .pipelines import Pipelines
from .png import encode


@dataclass
class Job:
    attempt_id: str
    params: GenerationParams
    canceled: threading.Event = field(default_factory=threading.Event)


def same_shape(a: GenerationParams, b: GenerationParams) -> bool:
    return (a.model, a.width, a.height, a.steps, a.sampler, a.guidance, a.clip_skip) == (
        b.model, b.width, b.height, b.steps, b.sampler, b.guidance, b.clip_skip)


def run_batch(pipelines: Pipelines, jobs: list[Job], progress: Callable[[Job, int, int], None] | None = None) -> list[dict]:
    """Runs `jobs` (all of one shape) as one call; a result (the protocol's result body) per job."""
    first = jobs[0].params
    if any(not same_shape(first, job.params) for job in jobs):
        raise JobError("bad_params", "a batch must share model, size, steps, sampler and guidance")
    started = time.monotonic()
    pipeline = pipelines.get(first.model)
    loaded = time.monotonic()
    pipeline.scheduler = Pipelines.scheduler(pipeline, first.sampler)
    prompts, negatives, generators, owners = [], [], [], []
    for job in jobs:
        for k in range(job.params.num_images):
            prompts.append(job.params.prompt)
            negatives.append(job.params.negative_prompt)
            generators.append(torch.Generator(device="cpu").manual_seed(job.params.seed + k))
            owners.append((job, job.params.seed + k))

    def on_step(pipe, step, timestep, kwargs):
        if all(job.canceled.is_set() for job in jobs):
            raise Canceled()
        if progress:
            for job in jobs:
                progress(job, step + 1, first.steps)
        return kwargs

    try:
        output = pipeline(
            prompt=prompts, negative_prompt=negatives if any(negatives) else None, width=first.width, height=first.height,
            num_inference_steps=first.steps, guidance_scale=first.guidance, generator=generators, clip_skip=first.clip_skip,
            callback_on_step_end=on_step)
    except Canceled:
        return [{"status": "canceled"} for _ in jobs]
    except torch.OutOfMemoryError:
        return [{"status": "failed", "error": {"code": "out_of_memory", "message": "the GPU ran out of memory"}} for _ in jobs]
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


def run(pipelines: Pipelines, attempt_id: str, raw_params, progress=None, canceled: threading.Event | None = None) -> dict:
    """One job from its raw params; never raises for a bad job: the result says `failed`."""
    try:
        job = Job(attempt_id=attempt_id, params=parse(raw_params), canceled=canceled or threading.Event())
        return run_batch(pipelines, [job], progress)[0]
    except JobError as error:
        return {"status": "failed", "error": {"code": error.code, "message": error.message[:2000]}}
    except Exception as error:  # the worker keeps serving whatever one job does
        return {"status": "failed", "error": {"code": "internal", "message": f"{type(error).__name__}: {error}"[:2000]}}
