"""Captions for a dataset from a BLIP captioning model in a local folder (config `[captioner]
path`), loaded on the first `tag` job and kept; the trigger word leads each caption."""
import threading

import torch

from .errors import JobError

MAX_CAPTION = 2000


class Captioner:
    def __init__(self, path: str | None, device: str = "cpu"):
        self.path = path
        self.device = device
        self._model = None
        self._processor = None
        self._lock = threading.Lock()

    def _load(self):
        if self.path is None:
            raise JobError("captioner_not_configured", "this worker has no captioning model (config [captioner] path)")
        from transformers import BlipForConditionalGeneration, BlipProcessor
        with self._lock:
            if self._model is None:
                try:
                    self._processor = BlipProcessor.from_pretrained(self.path, local_files_only=True)
                    self._model = BlipForConditionalGeneration.from_pretrained(self.path, local_files_only=True).to(self.device).eval()
                except OSError as error:
                    raise JobError("captioner_not_found", f"the captioning model does not load: {error}"[:2000]) from None
        return self._processor, self._model

    def caption(self, image, trigger_word: str) -> str:
        processor, model = self._load()
        inputs = processor(images=image, return_tensors="pt").to(self.device)
        with torch.no_grad():
            ids = model.generate(**inputs, max_new_tokens=30)
        text = " ".join(processor.decode(ids[0], skip_special_tokens=True).split())
        return ", ".join(part for part in (trigger_word.strip(), text) if part)[:MAX_CAPTION]
