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
    # LoRA key → a local .safetensors; other keys are fetched from the server.
    loras: dict[str, str] = field(default_factory=dict)
    # A captioning model (a BLIP folder) for `tag` jobs; None: the worker does not tag.
    captioner: str | None = None

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
        loras = {}
        for key, entry in (raw.get("loras") or {}).items():
            path = entry.get("path") if isinstance(entry, dict) else entry
            if not isinstance(path, str):
                raise ValueError(f"loras.{key}: needs a path")
            loras[key] = os.path.join(relative_to, path)
        captioner = (raw.get("captioner") or {}).get("path")
        if captioner is not None and not isinstance(captioner, str):
            raise ValueError("captioner.path: a folder")
        return WorkerConfig(models=models, loras=loras,
                            captioner=os.path.join(relative_to, captioner) if captioner else None)
