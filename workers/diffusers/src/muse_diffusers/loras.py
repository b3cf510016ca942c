"""LoRA files by catalogue key: the worker's own (config `[loras]`), else the server's trained LoRA
(`GET /internal/v1/loras/{key}`), fetched once and kept in a cache folder. Files are read with
safetensors only (no pickle), so a hostile file is refused, never run."""
import os

from .config import WorkerConfig
from .errors import JobError
from .params import LORA_KEY
from .transfer import Server


class LoraFiles:
    def __init__(self, config: WorkerConfig, server: Server | None, cache_dir: str, max_bytes: int = 512 << 20,
                 max_cached: int = 64):
        self.config = config
        self.server = server
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes
        self.max_cached = max_cached

    def path(self, key: str) -> str:
        """A local `.safetensors` for `key`; `lora_not_found` when neither the config nor the server has it."""
        if not LORA_KEY.fullmatch(key):
            raise JobError("bad_params", f"{key[:140]!r} is not a model key")
        own = self.config.loras.get(key)
        if own is not None:
            if not os.path.isfile(own):
                raise JobError("lora_not_found", f"the file of LoRA {key!r} is not on this worker")
            return own
        cached = os.path.join(self.cache_dir, key + ".safetensors")
        if os.path.isfile(cached):
            os.utime(cached)  # most recently used: the last to be evicted
            return cached
        if self.server is None:
            raise JobError("lora_not_found", f"no LoRA {key!r} on this worker")
        os.makedirs(self.cache_dir, exist_ok=True)
        try:
            self.server.fetch_to(f"{self.server.url}/internal/v1/loras/{key}", cached, self.max_bytes, what=f"LoRA {key!r}")
        except JobError as error:
            raise JobError("lora_not_found" if error.code == "not_found" else error.code, error.message) from None
        self._evict()
        return cached

    def _evict(self):
        files = [os.path.join(self.cache_dir, name) for name in os.listdir(self.cache_dir) if name.endswith(".safetensors")]
        files.sort(key=lambda path: os.stat(path).st_mtime)
        for path in files[:max(0, len(files) - self.max_cached)]:
            os.remove(path)
