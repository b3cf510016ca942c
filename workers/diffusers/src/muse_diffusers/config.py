"""Where each model key's weights are: a diffusers folder or a single .safetensors file on local
disk. Read from a TOML file; nothing is fetched from a hub (HF_HUB_OFFLINE=1)."""
import os
import tomllib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelEntry:
    key: str
    path: str
    base: str  # "sd15" or "sdxl": picks the pipeline class


@dataclass(frozen=True)
class WorkerConfig:
    models: dict[str, ModelEntry] = field(default_factory=dict)

    @staticmethod
    def load(path: str) -> "WorkerConfig":
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        return WorkerConfig.from_dict(raw, relative_to=os.path.dirname(os.path.abspath(path)))

    @staticmethod
    def from_dict(raw: dict, relative_to: str = ".") -> "WorkerConfig":
        models = {}
        for key, entry in (raw.get("models") or {}).items():
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise ValueError(f"models.{key}: needs a path")
            base = entry.get("base", "sd15")
            if base not in ("sd15", "sdxl"):
                raise ValueError(f"models.{key}.base: sd15 or sdxl, not {base!r}")
            models[key] = ModelEntry(key=key, path=os.path.join(relative_to, entry["path"]), base=base)
        return WorkerConfig(models=models)
