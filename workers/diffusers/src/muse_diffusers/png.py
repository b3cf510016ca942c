"""PNG bytes with the generation parameters in a `parameters` tEXt chunk, the way AUTOMATIC1111
writes them (and ComfyUI and most tools read them)."""
import io

from PIL import Image, PngImagePlugin

from .params import GenerationParams


def parameters_text(params: GenerationParams, seed: int) -> str:
    lines = [params.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(
        f"Steps: {params.steps}, Sampler: {params.sampler}, CFG scale: {params.guidance:g}, Seed: {seed}, "
        f"Size: {params.width}x{params.height}, Model: {params.model}"
        + (f", Denoising strength: {params.strength:g}" if params.init_image else "")
        + (", Lora weights: \"" + ", ".join(f"{key}: {weight:g}" for key, weight in params.loras) + "\"" if params.loras else ""))
    return "\n".join(lines)


def encode(image: Image.Image, params: GenerationParams, seed: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    # tEXt is Latin-1: other characters would not survive, so the text goes as iTXt (UTF-8) then.
    text = parameters_text(params, seed)
    try:
        text.encode("latin-1")
        info.add_text("parameters", text)
    except UnicodeEncodeError:
        info.add_itxt("parameters", text)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
