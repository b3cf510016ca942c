"""A generation job's parameters (the server's resolved params, docs/API.md), checked before any
GPU work: a bad value is a `bad_params` failure, never an exception out of the worker."""
from dataclasses import dataclass

from .errors import JobError

# Muse's sampler names → diffusers scheduler classes (and their options).
SAMPLERS = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "lms": ("LMSDiscreteScheduler", {}),
}


@dataclass(frozen=True)
class GenerationParams:
    model: str
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    sampler: str
    seed: int
    num_images: int
    clip_skip: int | None


def _int(raw: dict, key: str, default, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise JobError("bad_params", f"{key} must be an integer from {low} to {high}")
    return value


def parse(raw) -> GenerationParams:
    if not isinstance(raw, dict):
        raise JobError("bad_params", "params must be an object")
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        raise JobError("bad_params", "model is required")
    prompt = raw.get("prompt", "")
    negative = raw.get("negative_prompt") or ""
    if not isinstance(prompt, str) or not isinstance(negative, str):
        raise JobError("bad_params", "prompt and negative_prompt must be strings")
    width = _int(raw, "width", 512, 8, 4096)
    height = _int(raw, "height", 512, 8, 4096)
    if width % 8 or height % 8:
        raise JobError("bad_params", "width and height must be multiples of 8")
    guidance = raw.get("guidance_scale", 7.0)
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not 0 <= guidance <= 30:
        raise JobError("bad_params", "guidance_scale must be a number from 0 to 30")
    sampler = raw.get("sampler", "euler_a")
    if sampler not in SAMPLERS:
        raise JobError("bad_params", f"sampler must be one of {', '.join(sorted(SAMPLERS))}")
    clip_skip = raw.get("clip_skip")
    if clip_skip is not None:
        clip_skip = _int(raw, "clip_skip", None, 1, 12)
    return GenerationParams(
        model=model, prompt=prompt, negative_prompt=negative, width=width, height=height,
        steps=_int(raw, "steps", 30, 1, 150), guidance=float(guidance), sampler=sampler,
        seed=_int(raw, "seed", 0, 0, 2**32 - 1), num_images=_int(raw, "num_images", 1, 1, 8), clip_skip=clip_skip)
