"""A generation job's parameters (the server's resolved params, docs/API.md), checked before any
GPU work: a bad value is a `bad_params` failure, never an exception out of the worker."""
import re
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
    # (catalogue key, weight) per LoRA, in the job's order.
    loras: tuple[tuple[str, float], ...] = ()
    # img2img: a data: URL or an img_… id, and how far from it the result may go (0–1).
    init_image: str | None = None
    strength: float = 0.75


LORA_KEY = re.compile(r"[a-z0-9_-][a-z0-9._-]{0,127}")
MAX_LORAS = 5


def integer(raw: dict, key: str, default, low: int, high: int, prefix: str = "") -> int:
    """`raw[key]` (or `default`) as an integer from `low` to `high`; `bad_params` naming `prefix + key` otherwise."""
    value = raw.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise JobError("bad_params", f"{prefix}{key} must be an integer from {low} to {high}")
    return value


def _unicode(text: str) -> bool:
    """False for a lone surrogate (JSON can carry one), which no tokenizer takes."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def parse(raw) -> GenerationParams:
    if not isinstance(raw, dict):
        raise JobError("bad_params", "params must be an object")
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        raise JobError("bad_params", "model is required")
    prompt = raw.get("prompt", "")
    negative = raw.get("negative_prompt") or ""
    if not isinstance(prompt, str) or not isinstance(negative, str) or not (_unicode(prompt) and _unicode(negative)):
        raise JobError("bad_params", "prompt and negative_prompt must be strings of Unicode scalars")
    width = integer(raw, "width", 512, 8, 4096)
    height = integer(raw, "height", 512, 8, 4096)
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
        clip_skip = integer(raw, "clip_skip", None, 1, 12)
    loras = _loras(raw.get("loras"))
    init_image = raw.get("init_image")
    if init_image is not None and (not isinstance(init_image, str) or not init_image):
        raise JobError("bad_params", "init_image must be a data: URL or an image id")
    strength = raw.get("strength", 0.75)
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1:
        raise JobError("bad_params", "strength must be a number from 0 to 1")
    return GenerationParams(
        model=model, prompt=prompt, negative_prompt=negative, width=width, height=height,
        steps=integer(raw, "steps", 30, 1, 150), guidance=float(guidance), sampler=sampler,
        seed=integer(raw, "seed", 0, 0, 2**32 - 1), num_images=integer(raw, "num_images", 1, 1, 8), clip_skip=clip_skip,
        loras=loras, init_image=init_image, strength=float(strength))


def _loras(raw) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_LORAS:
        raise JobError("bad_params", f"loras must be a list of at most {MAX_LORAS}")
    loras = []
    for i, entry in enumerate(raw):
        key = entry.get("key") if isinstance(entry, dict) else None
        weight = entry.get("weight", 1.0) if isinstance(entry, dict) else None
        if not isinstance(key, str) or not LORA_KEY.fullmatch(key):
            raise JobError("bad_params", f"loras[{i}].key is not a model key")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not -2 <= weight <= 2:
            raise JobError("bad_params", f"loras[{i}].weight must be a number from -2 to 2")
        if key in (k for k, _ in loras):
            raise JobError("bad_params", f"loras[{i}].key is listed twice")
        loras.append((key, float(weight)))
    return tuple(loras)
