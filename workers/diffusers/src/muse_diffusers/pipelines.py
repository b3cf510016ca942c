"""Loaded pipelines by model key, least recently used first out: loading one costs seconds, so
the worker keeps as many as its budget allows and reports them as `models_loaded`."""
import os
import threading
from collections import OrderedDict

import diffusers
import torch

from .config import ModelEntry, WorkerConfig
from .errors import JobError
from .params import SAMPLERS


class Pipelines:
    def __init__(self, config: WorkerConfig, device: str = "cpu", capacity: int = 2, dtype=torch.float32):
        self.config = config
        self.device = device
        self.capacity = capacity
        self.dtype = dtype
        self._loaded: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._loaded)

    def get(self, key: str):
        """The pipeline of `key`, loaded if need be; `model_not_found` when config has no such key
        or its files are missing."""
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        entry = self.config.models.get(key)
        if entry is None:
            raise JobError("model_not_found", f"no model {key!r} in this worker's config")
        pipeline = self._load(entry)
        with self._lock:
            self._loaded[key] = pipeline
            while len(self._loaded) > self.capacity:
                self._loaded.popitem(last=False)
        return pipeline

    def _load(self, entry: ModelEntry):
        cls = diffusers.StableDiffusionXLPipeline if entry.base == "sdxl" else diffusers.StableDiffusionPipeline
        if not os.path.exists(entry.path):
            raise JobError("model_not_found", f"the files of model {entry.key!r} are not on this worker")
        if entry.path.endswith(".safetensors"):
            pipeline = cls.from_single_file(entry.path, torch_dtype=self.dtype, local_files_only=True)
        else:
            pipeline = cls.from_pretrained(entry.path, torch_dtype=self.dtype, local_files_only=True)
        pipeline.set_progress_bar_config(disable=True)
        return pipeline.to(self.device)

    @staticmethod
    def scheduler(pipeline, sampler: str):
        name, options = SAMPLERS[sampler]
        return getattr(diffusers, name).from_config(pipeline.scheduler.config, **options)
