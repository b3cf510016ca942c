"""Loaded pipelines by model key, least recently used first out: loading one costs seconds, so
the worker keeps as many as its memory budget allows and reports them as `models_loaded`. Each
keeps its LoRA adapters loaded (again least recently used first out); a job turns on the ones it
names with its weights, and they are off again for the next job."""
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import diffusers
import torch

from .config import ModelEntry, WorkerConfig
from .errors import JobError
from .params import SAMPLERS


def adapter_name(key: str) -> str:
    """A peft adapter name for a LoRA key (keys may hold dots, which module names may not)."""
    return "lora_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def module_bytes(pipeline) -> int:
    seen, total = set(), 0
    for component in pipeline.components.values():
        if isinstance(component, torch.nn.Module):
            for tensor in [*component.parameters(), *component.buffers()]:
                if id(tensor) not in seen:
                    seen.add(id(tensor))
                    total += tensor.numel() * tensor.element_size()
    return total


@dataclass
class Loaded:
    pipeline: object
    entry: ModelEntry
    bytes: int
    img2img: object | None = None
    adapters: OrderedDict = field(default_factory=OrderedDict)  # LoRA key → adapter name


class Pipelines:
    def __init__(self, config: WorkerConfig, device: str = "cpu", capacity: int = 2, dtype=torch.float32,
                 memory_budget: int | None = None, max_adapters: int = 8):
        self.config = config
        self.device = device
        self.capacity = capacity
        self.dtype = dtype
        # Bytes of weights the loaded pipelines may hold together; the least recently used go first
        # (one always stays, whatever its size).
        self.memory_budget = memory_budget
        self.max_adapters = max_adapters
        self._loaded: OrderedDict[str, Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._loaded)

    def entry(self, key: str) -> ModelEntry:
        entry = self.config.models.get(key)
        if entry is None:
            raise JobError("model_not_found", f"no model {key!r} in this worker's config")
        return entry

    def get(self, key: str):
        return self._get(key).pipeline

    def _get(self, key: str) -> Loaded:
        """The pipeline of `key`, loaded if need be; `model_not_found` when config has no such key
        or its files are missing."""
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        entry = self.entry(key)
        try:
            pipeline = self.load(entry)
        except torch.OutOfMemoryError:
            self.free()
            raise JobError("out_of_memory", f"model {key!r} does not fit in the GPU's memory") from None
        loaded = Loaded(pipeline=pipeline, entry=entry, bytes=module_bytes(pipeline))
        with self._lock:
            self._loaded[key] = loaded
            while len(self._loaded) > 1 and (len(self._loaded) > self.capacity or self._over_budget()):
                self._loaded.popitem(last=False)
        self.free()
        return loaded

    def free(self):
        """Gives the allocator's cached blocks back after an eviction or an out-of-memory error."""
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    def _over_budget(self) -> bool:
        return self.memory_budget is not None and sum(l.bytes for l in self._loaded.values()) > self.memory_budget

    def load(self, entry: ModelEntry, dtype=None):
        """A fresh pipeline from disk (also for training, which must not share the served weights)."""
        dtype = dtype or self.dtype
        cls = diffusers.StableDiffusionXLPipeline if entry.base == "sdxl" else diffusers.StableDiffusionPipeline
        if not os.path.exists(entry.path):
            raise JobError("model_not_found", f"the files of model {entry.key!r} are not on this worker")
        if entry.path.endswith(".safetensors"):
            pipeline = cls.from_single_file(entry.path, torch_dtype=dtype, local_files_only=True)
        else:
            pipeline = cls.from_pretrained(entry.path, torch_dtype=dtype, local_files_only=True)
        pipeline.set_progress_bar_config(disable=True)
        return pipeline.to(self.device)

    def for_job(self, key: str, img2img: bool):
        """The text-to-image pipeline of `key`, or its image-to-image twin (same weights)."""
        loaded = self._get(key)
        if not img2img:
            return loaded.pipeline
        if loaded.img2img is None:
            loaded.img2img = diffusers.AutoPipelineForImage2Image.from_pipe(loaded.pipeline)
            loaded.img2img.set_progress_bar_config(disable=True)
        return loaded.img2img

    def use_loras(self, key: str, loras: tuple[tuple[str, float], ...], path_of):
        """Turns on exactly `loras` (key, weight) on model `key`'s pipeline; `path_of(key)` gives a
        LoRA's file the first time. `bad_lora` when a file does not fit the model."""
        loaded = self._get(key)
        pipeline = loaded.pipeline
        if not loras:
            if loaded.adapters:
                pipeline.disable_lora()
            return
        for lora_key, _ in loras:
            if lora_key in loaded.adapters:
                loaded.adapters.move_to_end(lora_key)
                continue
            name = adapter_name(lora_key)
            try:
                pipeline.load_lora_weights(path_of(lora_key), adapter_name=name)
            except JobError:
                raise
            except torch.OutOfMemoryError:
                self._forget_adapter(pipeline, name)
                self.free()
                raise JobError("out_of_memory", f"LoRA {lora_key!r} does not fit in the GPU's memory") from None
            except Exception as error:  # a file that is not a LoRA of this base
                self._forget_adapter(pipeline, name)
                raise JobError("bad_lora", f"LoRA {lora_key!r} does not load on {key!r}: {type(error).__name__}: {error}"[:2000]) from None
            loaded.adapters[lora_key] = name
        wanted = {k for k, _ in loras}
        for old in [k for k in loaded.adapters if k not in wanted][:max(0, len(loaded.adapters) - self.max_adapters)]:
            self._forget_adapter(pipeline, loaded.adapters.pop(old))
        pipeline.enable_lora()
        pipeline.set_adapters([loaded.adapters[k] for k, _ in loras], adapter_weights=[w for _, w in loras])

    def loras_off(self, key: str):
        """After a job: its LoRAs stay loaded for the next one that names them, but apply to no other."""
        with self._lock:
            loaded = self._loaded.get(key)
        if loaded is not None and loaded.adapters:
            loaded.pipeline.disable_lora()

    @staticmethod
    def _forget_adapter(pipeline, name: str):
        try:
            pipeline.delete_adapters(name)
        except Exception:  # never loaded far enough to be listed
            pass

    @staticmethod
    def scheduler(pipeline, sampler: str):
        name, options = SAMPLERS[sampler]
        return getattr(diffusers, name).from_config(pipeline.scheduler.config, **options)
