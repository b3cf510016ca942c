"""The dataset and training jobs (`crop`, `tag`, `train`): each runs on a training slot's thread,
fetches the images it names from the server, and ends in a result body; a bad job is a `failed`
result, never an exception out of the worker."""
import io
import threading
from dataclasses import dataclass
from typing import Callable

import torch

from . import train as training
from .crop import crop
from .errors import Canceled, JobError
from .inputs import IMAGE_ID, MAX_IMAGE_BYTES, decode
from .params import integer
from .pipelines import Pipelines
from .tag import Captioner
from .transfer import Server

DATASET_KINDS = ("crop", "tag", "train")

# (step, total steps, loss or None): a progress report.
Report = Callable[[int, int, float | None], None]


@dataclass
class DatasetWork:
    """What a dataset job runs with."""
    pipelines: Pipelines
    server: Server
    captioner: Captioner


def _images(job: dict) -> list[dict]:
    images = job.get("images")
    if not isinstance(images, list):
        raise JobError("bad_params", "images must be a list")
    for i, image in enumerate(images):
        if not isinstance(image, dict) or not isinstance(image.get("url"), str) or not IMAGE_ID.fullmatch(str(image.get("id", ""))):
            raise JobError("bad_params", f"images[{i}] needs an id (img_…) and a url")
    return images


def run_crop(work: DatasetWork, job: dict, report: Report, canceled: threading.Event) -> dict:
    params = job.get("params") if isinstance(job.get("params"), dict) else {}
    width, height, mode = integer(params, "width", None, 8, 4096, "params."), integer(params, "height", None, 8, 4096, "params."), params.get("mode", "center")
    callback = job["callback_url"]
    images = _images(job)
    for i, image in enumerate(images):
        if canceled.is_set():
            return {"status": "canceled"}
        data = work.server.fetch(image["url"], MAX_IMAGE_BYTES, allowed=[callback], what=f"image {image['id']}")
        out = io.BytesIO()
        crop(decode(data, f"image {image['id']}"), width, height, str(mode)).save(out, format="PNG")
        status = work.server.put(f"{callback}/images/{image['id']}", out.getvalue(), "image/png", allowed=[callback])
        if status == 404:
            return {"status": "canceled"}  # the server no longer wants this attempt
        if status != 200:
            raise JobError("upload_failed", f"the server answered {status} to the crop of {image['id']}")
        report(i + 1, len(images), None)
    return {"status": "succeeded", "metrics": {"images": len(images)}}


def run_tag(work: DatasetWork, job: dict, report: Report, canceled: threading.Event) -> dict:
    params = job.get("params") if isinstance(job.get("params"), dict) else {}
    trigger = params.get("trigger_word") or ""
    if not isinstance(trigger, str):
        raise JobError("bad_params", "params.trigger_word must be a string")
    images = _images(job)
    captions = []
    for i, image in enumerate(images):
        if canceled.is_set():
            return {"status": "canceled"}
        data = work.server.fetch(image["url"], MAX_IMAGE_BYTES, allowed=[job["callback_url"]], what=f"image {image['id']}")
        captions.append({"image_id": image["id"], "caption": work.captioner.caption(decode(data, f"image {image['id']}"), trigger)})
        report(i + 1, len(images), None)
    return {"status": "succeeded", "captions": captions}


def run_train(work: DatasetWork, job: dict, report: Report, canceled: threading.Event) -> dict:
    return training.Trainer(work.pipelines, work.server, job, training.parse(job.get("params")), report, canceled).run()


RUNNERS = {"crop": run_crop, "tag": run_tag, "train": run_train}


def run(work: DatasetWork, job: dict, report: Report, canceled: threading.Event) -> dict:
    """One dataset job to its result body, whatever it holds."""
    try:
        return RUNNERS[job["kind"]](work, job, report, canceled)
    except Canceled:
        return {"status": "canceled"}
    except JobError as error:
        return {"status": "failed", "error": {"code": error.code, "message": error.message[:2000]}}
    except torch.OutOfMemoryError:
        work.pipelines.free()
        return {"status": "failed", "error": {"code": "out_of_memory", "message": "the GPU ran out of memory"}}
    except Exception as error:  # the worker keeps serving whatever one job does
        return {"status": "failed", "error": {"code": "internal", "message": f"{type(error).__name__}: {error}"[:2000]}}
