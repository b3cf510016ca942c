"""LoRA training with peft: adapters on the UNet's attention projections (and, with
`train_text_encoder`, on the text encoders), trained on the job's dataset with the noise-prediction
loss. Each step draws its batch, noise and timesteps from a generator seeded by the form's seed and
the step number, so a run resumed from a checkpoint takes the same steps as one that never stopped.
Checkpoints are safetensors (never pickle): the adapter weights and AdamW's moments, with the step
in the metadata. The artifact is a diffusers-format LoRA that `Pipelines.use_loras` loads."""
import hashlib
import json
import math
import os
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Callable

import diffusers
import safetensors.torch
import torch
import torch.nn.functional as F
from peft import LoraConfig, inject_adapter_in_model
from peft.utils import get_peft_model_state_dict

from .errors import Canceled, JobError
from .inputs import MAX_IMAGE_BYTES, decode
from .params import integer
from .pipelines import Pipelines
from .transfer import Server

CHECKPOINT_FORMAT = "muse-lora-checkpoint/1"
UNET_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
MAX_CHECKPOINT_BYTES = 1 << 30


@dataclass(frozen=True)
class TrainParams:
    base_model: str
    base: str
    output_name: str
    steps: int
    learning_rate: float
    rank: int
    alpha: int
    resolution: int
    batch_size: int
    lr_scheduler: str
    train_text_encoder: bool
    seed: int
    checkpoint_every: int


def parse(raw) -> TrainParams:
    if not isinstance(raw, dict) or not isinstance(raw.get("params", {}), dict):
        raise JobError("bad_params", "params must be an object with a params object")
    form = raw.get("params", {})
    base_model, base = raw.get("base_model"), raw.get("base", "sd15")
    if not isinstance(base_model, str) or not base_model:
        raise JobError("bad_params", "base_model is required")
    if base not in ("sd15", "sdxl"):
        raise JobError("bad_params", "base must be sd15 or sdxl")
    rate = form.get("learning_rate", 1e-4)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise JobError("bad_params", "params.learning_rate must be a number above 0, at most 1")
    scheduler = form.get("lr_scheduler", "constant")
    if scheduler not in ("constant", "cosine", "linear"):
        raise JobError("bad_params", "params.lr_scheduler must be constant, cosine or linear")
    text = form.get("train_text_encoder", False)
    if not isinstance(text, bool):
        raise JobError("bad_params", "params.train_text_encoder must be true or false")
    resolution = integer(form, "resolution", 1024 if base == "sdxl" else 512, 64, 2048, prefix="params.")
    if resolution % 8:
        raise JobError("bad_params", "params.resolution must be a multiple of 8")
    rank = integer(form, "rank", 16, 1, 256, prefix="params.")
    return TrainParams(
        base_model=base_model, base=base, output_name=str(raw.get("output_name", ""))[:200], steps=integer(form, "steps", 1500, 1, 1_000_000, prefix="params."),
        learning_rate=float(rate), rank=rank, alpha=integer(form, "alpha", rank, 1, 1024, prefix="params."), resolution=resolution,
        batch_size=integer(form, "batch_size", 1, 1, 64, prefix="params."), lr_scheduler=scheduler, train_text_encoder=text,
        seed=integer(form, "seed", 42, 0, 2**32 - 1, prefix="params."), checkpoint_every=integer(form, "checkpoint_every", 250, 1, 1_000_000, prefix="params."))


def lr_factor(schedule: str, step: int, steps: int) -> float:
    if schedule == "linear":
        return 1.0 - step / steps
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * step / steps))
    return 1.0


def square(image, resolution: int) -> torch.Tensor:
    """The image's centered square scaled to `resolution`, in [-1, 1]. Cropped first: scaling a
    1×8192 sliver by its short side would make a picture of gigabytes."""
    from PIL import Image
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((resolution, resolution), Image.Resampling.LANCZOS)
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(resolution, resolution, 3)
    return pixels.permute(2, 0, 1).float() / 127.5 - 1.0


def metadata(data: bytes) -> dict:
    """The `__metadata__` of a safetensors file, read with bounds (the header says its length)."""
    if len(data) < 8:
        raise JobError("bad_checkpoint", "the checkpoint is not a safetensors file")
    (length,) = struct.unpack("<Q", data[:8])
    if length > min(len(data) - 8, 100 << 20):
        raise JobError("bad_checkpoint", "the checkpoint's header is out of bounds")
    try:
        header = json.loads(data[8:8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JobError("bad_checkpoint", "the checkpoint's header is not JSON") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else {}


class Trainer:
    """One training job on its own copy of the base model (never the pipelines that serve generation)."""

    def __init__(self, pipelines: Pipelines, server: Server, job: dict, params: TrainParams,
                 report: Callable[[int, int, float | None], None], canceled: threading.Event):
        self.pipelines = pipelines
        self.server = server
        self.job = job
        self.params = params
        self.report = report
        self.canceled = canceled
        self.callback = job["callback_url"]
        self.device = pipelines.device

    # -- setup -----------------------------------------------------------------------------------

    def _dataset(self, vae) -> tuple[torch.Tensor, list[str]]:
        """Each image fetched, squared and encoded as it comes (only latents are kept: a thousand
        images at 1024 px would be 12 GB of pixels), and its caption (else the trigger word)."""
        images = self.job.get("images")
        if not isinstance(images, list) or not images:
            raise JobError("bad_params", "a training needs images")
        latents, captions = [], []
        trigger = self.job.get("params", {}).get("trigger_word") or ""
        # The VAE encodes in float32: half precision overflows in SDXL's.
        vae_dtype = vae.dtype
        vae.to(torch.float32)
        try:
            for i, image in enumerate(images):
                if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                    raise JobError("bad_params", f"images[{i}] needs a url")
                if self.canceled.is_set():
                    raise Canceled()
                data = self.server.fetch(image["url"], MAX_IMAGE_BYTES, allowed=[self.callback], what=f"images[{i}]")
                pixels = square(decode(data, f"images[{i}]"), self.params.resolution).unsqueeze(0).to(self.device)
                generator = torch.Generator(device="cpu").manual_seed(self.params.seed + i) if self.device == "cpu" else None
                with torch.no_grad():
                    latents.append(vae.encode(pixels).latent_dist.sample(generator) * vae.config.scaling_factor)
                caption = image.get("caption")
                captions.append(caption if isinstance(caption, str) and caption.strip() else str(trigger))
        finally:
            vae.to(vae_dtype)
        return torch.cat(latents), captions

    def _adapters(self, pipeline) -> dict[str, torch.nn.Parameter]:
        p = self.params
        pipeline.unet.add_adapter(LoraConfig(r=p.rank, lora_alpha=p.alpha, init_lora_weights="gaussian", target_modules=UNET_TARGETS))
        modules = {"unet": pipeline.unet}
        if p.train_text_encoder:
            for name in ("text_encoder", "text_encoder_2"):
                encoder = getattr(pipeline, name, None)
                if encoder is not None:
                    # peft directly: transformers' own add_adapter asks for a newer peft than is pinned.
                    inject_adapter_in_model(LoraConfig(r=p.rank, lora_alpha=p.alpha, init_lora_weights="gaussian", target_modules=TEXT_TARGETS),
                                            encoder)
                    modules[name] = encoder
        trainable = {}
        for prefix, module in modules.items():
            for name, parameter in module.named_parameters():
                if parameter.requires_grad:
                    parameter.data = parameter.data.float()  # adapters train in float32 on a half-precision base
                    trainable[f"{prefix}.{name}"] = parameter
        return trainable

    def _encode(self, pipeline, ids: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.params.base == "sdxl":
            first = pipeline.text_encoder(ids[0].to(self.device), output_hidden_states=True)
            second = pipeline.text_encoder_2(ids[1].to(self.device), output_hidden_states=True)
            return torch.cat([first.hidden_states[-2], second.hidden_states[-2]], dim=-1), second[0]
        return pipeline.text_encoder(ids[0].to(self.device))[0], None

    @staticmethod
    def _tokens(pipeline, captions: list[str]) -> list[torch.Tensor]:
        tokenizers = [t for t in (pipeline.tokenizer, getattr(pipeline, "tokenizer_2", None)) if t is not None]
        return [t(captions, padding="max_length", max_length=t.model_max_length, truncation=True, return_tensors="pt").input_ids
                for t in tokenizers]

    # -- checkpoints ------------------------------------------------------------------------------

    def _checkpoint(self, step: int, trainable: dict, optimizer) -> bytes:
        tensors = {f"param.{name}": parameter.detach().cpu().contiguous() for name, parameter in trainable.items()}
        adam_steps = 0
        for i, parameter in enumerate(trainable.values()):
            state = optimizer.state.get(parameter)
            if state:
                tensors[f"adam.{i}.exp_avg"] = state["exp_avg"].detach().cpu().contiguous()
                tensors[f"adam.{i}.exp_avg_sq"] = state["exp_avg_sq"].detach().cpu().contiguous()
                adam_steps = int(state["step"])
        p = self.params
        return safetensors.torch.save(tensors, metadata={
            "format": CHECKPOINT_FORMAT, "step": str(step), "adam_steps": str(adam_steps), "base": p.base,
            "rank": str(p.rank), "alpha": str(p.alpha), "train_text_encoder": str(p.train_text_encoder)})

    def _resume(self, trainable: dict, optimizer) -> int:
        resume = self.job.get("resume")
        if not resume:
            return 0
        if not isinstance(resume, dict) or not isinstance(resume.get("url"), str):
            raise JobError("bad_params", "resume needs a url")
        data = self.server.fetch(resume["url"], MAX_CHECKPOINT_BYTES, allowed=[self.callback], what="the checkpoint")
        meta = metadata(data)
        p = self.params
        expected = {"format": CHECKPOINT_FORMAT, "base": p.base, "rank": str(p.rank), "alpha": str(p.alpha),
                    "train_text_encoder": str(p.train_text_encoder)}
        numbers = [str(meta.get("step", "")), str(meta.get("adam_steps", "0"))]
        if any(meta.get(k) != v for k, v in expected.items()) or not all(n.isascii() and n.isdigit() and len(n) < 10 for n in numbers):
            raise JobError("bad_checkpoint", "the checkpoint is not one of this training's")
        step = int(meta["step"])
        try:
            tensors = safetensors.torch.load(data)
        except Exception as error:
            raise JobError("bad_checkpoint", f"the checkpoint does not load: {error}"[:2000]) from None
        if not 0 <= step <= p.steps or {k for k in tensors if k.startswith("param.")} != {f"param.{n}" for n in trainable}:
            raise JobError("bad_checkpoint", "the checkpoint's adapters are not this training's")
        state = {}
        for i, (name, parameter) in enumerate(trainable.items()):
            saved = tensors[f"param.{name}"]
            if saved.shape != parameter.shape:
                raise JobError("bad_checkpoint", f"{name} has another shape in the checkpoint")
            parameter.data.copy_(saved.to(parameter.device, parameter.dtype))
            moments = (tensors.get(f"adam.{i}.exp_avg"), tensors.get(f"adam.{i}.exp_avg_sq"))
            if all(m is not None and m.shape == parameter.shape for m in moments):
                state[i] = {"step": torch.tensor(float(meta.get("adam_steps", step))), "exp_avg": moments[0].to(parameter.device),
                            "exp_avg_sq": moments[1].to(parameter.device)}
        if state:
            saved = optimizer.state_dict()
            optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
        return step

    # -- the run ----------------------------------------------------------------------------------

    def run(self) -> dict:
        p = self.params
        started = time.monotonic()
        # The frozen base in bfloat16 where the GPU has it (float32's range: no loss scaling needed),
        # else in the serving dtype, with loss scaling when that is float16.
        dtype = self.pipelines.dtype
        if self.device.startswith("cuda") and dtype == torch.float16 and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
        pipeline = self.pipelines.load(self.pipelines.entry(p.base_model), dtype=dtype)
        try:
            return self._run(pipeline, started)
        finally:
            del pipeline
            self.pipelines.free()

    def _run(self, pipeline, started: float) -> dict:
        p = self.params
        for component in pipeline.components.values():
            if isinstance(component, torch.nn.Module):
                component.requires_grad_(False)
        latents, captions = self._dataset(pipeline.vae)
        noise_scheduler = diffusers.DDPMScheduler.from_config(pipeline.scheduler.config)
        tokens = self._tokens(pipeline, captions)
        trainable = self._adapters(pipeline)
        fixed_text = None
        if not p.train_text_encoder:
            with torch.no_grad():
                # In slices of 32 captions: a thousand at once through SDXL's encoders is a spike.
                parts = [self._encode(pipeline, [t[i:i + 32] for t in tokens]) for i in range(0, len(captions), 32)]
                fixed_text = (torch.cat([e for e, _ in parts]), torch.cat([q for _, q in parts]) if parts[0][1] is not None else None)
        optimizer = torch.optim.AdamW(list(trainable.values()), lr=p.learning_rate)
        scaler = torch.amp.GradScaler("cuda", enabled=pipeline.unet.dtype == torch.float16)
        step = resumed = self._resume(trainable, optimizer)
        pipeline.unet.train()
        report_every = max(1, p.steps // 200)
        loss_value = None
        first_step = reported = time.monotonic()
        unet_dtype = pipeline.unet.dtype
        for step in range(step, p.steps):
            if self.canceled.is_set():
                return {"status": "canceled"}
            generator = torch.Generator(device="cpu").manual_seed(p.seed * 1_000_003 + step)
            index = torch.randint(len(latents), (p.batch_size,), generator=generator)
            clean = latents[index.to(latents.device)].float()
            noise = torch.randn(clean.shape, generator=generator).to(self.device)
            timesteps = torch.randint(noise_scheduler.config.num_train_timesteps, (p.batch_size,), generator=generator).to(self.device)
            noisy = noise_scheduler.add_noise(clean, noise, timesteps)
            if fixed_text is not None:
                text, pooled = fixed_text[0][index], (fixed_text[1][index] if fixed_text[1] is not None else None)
            else:
                text, pooled = self._encode(pipeline, [t[index] for t in tokens])
            extra = {}
            if p.base == "sdxl":
                size = torch.tensor([[p.resolution, p.resolution, 0, 0, p.resolution, p.resolution]] * p.batch_size, device=self.device)
                extra["added_cond_kwargs"] = {"text_embeds": pooled.to(unet_dtype), "time_ids": size.to(unet_dtype)}
            prediction = pipeline.unet(noisy.to(unet_dtype), timesteps, text.to(unet_dtype), **extra).sample
            if noise_scheduler.config.prediction_type == "v_prediction":
                target = noise_scheduler.get_velocity(clean, noise, timesteps)
            else:
                target = noise
            loss = F.mse_loss(prediction.float(), target.float())
            if not torch.isfinite(loss):
                raise JobError("diverged", f"the loss is {loss.item()} at step {step + 1}: try a lower learning rate")
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(list(trainable.values()), 1.0)
            for group in optimizer.param_groups:
                group["lr"] = p.learning_rate * lr_factor(p.lr_scheduler, step, p.steps)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            loss_value = float(loss.item())
            done = step + 1
            # At most ~200 reports a training, and one at least every 2 s while steps are slow.
            if done % report_every == 0 or done == p.steps or time.monotonic() - reported >= 2.0:
                self.report(done, p.steps, loss_value)
                reported = time.monotonic()
            if done % p.checkpoint_every == 0 and done < p.steps:
                status = self.server.put(f"{self.callback}/checkpoint?step={done}", self._checkpoint(done, trainable, optimizer),
                                         "application/octet-stream", allowed=[self.callback])
                # 404: the server no longer wants this attempt. Another failure loses only this checkpoint.
                if status == 404:
                    return {"status": "canceled"}
        trained = time.monotonic()
        artifact = self._artifact(pipeline)
        upload = f"{self.callback}/artifact"
        status = self.server.put(upload, artifact, "application/octet-stream", allowed=[self.callback])
        if status == 404:
            return {"status": "canceled"}
        if status != 200:
            raise JobError("upload_failed", f"the server answered {status} to the LoRA")
        steps_run = max(1, p.steps - resumed)
        return {"status": "succeeded",
                "artifact": {"sha256": hashlib.sha256(artifact).hexdigest(), "size": len(artifact), "upload": upload},
                "metrics": {"final_loss": loss_value, "steps": p.steps, "seconds": round(trained - started, 3),
                            "seconds_per_step": round((trained - first_step) / steps_run, 4)}}

    def _artifact(self, pipeline) -> bytes:
        layers = {"unet_lora_layers": diffusers.utils.convert_state_dict_to_diffusers(get_peft_model_state_dict(pipeline.unet))}
        if self.params.train_text_encoder:
            layers["text_encoder_lora_layers"] = diffusers.utils.convert_state_dict_to_diffusers(get_peft_model_state_dict(pipeline.text_encoder))
            if self.params.base == "sdxl":
                layers["text_encoder_2_lora_layers"] = diffusers.utils.convert_state_dict_to_diffusers(
                    get_peft_model_state_dict(pipeline.text_encoder_2))
        cls = diffusers.StableDiffusionXLPipeline if self.params.base == "sdxl" else diffusers.StableDiffusionPipeline
        with tempfile.TemporaryDirectory() as folder:
            cls.save_lora_weights(folder, safe_serialization=True, **layers)
            with open(os.path.join(folder, "pytorch_lora_weights.safetensors"), "rb") as f:
                return f.read()
