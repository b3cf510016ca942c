"""Crops for a dataset: `center`, or `subject`, which keeps the window of the asked shape holding the
most saliency. Saliency is the spectral residual (Hou and Zhang, 2007): what stands out from an
image's smooth log spectrum is what the eye goes to; it needs no model and no download."""
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, uniform_filter

from .errors import JobError

SALIENCY_SIDE = 64


def saliency(image: Image.Image) -> np.ndarray:
    """A map of `image` (scaled to 64 px on its long side), summing to 1."""
    scale = SALIENCY_SIDE / max(image.size)
    small = image.convert("L").resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR)
    gray = np.asarray(small, dtype=np.float64) / 255.0
    spectrum = np.fft.fft2(gray)
    log_amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amplitude - uniform_filter(log_amplitude, size=3, mode="nearest")
    smap = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    smap = gaussian_filter(smap, sigma=2.5)
    total = smap.sum()
    return smap / total if total > 0 and np.isfinite(total) else np.full_like(smap, 1.0 / smap.size)


def window(image: Image.Image, width: int, height: int, mode: str) -> tuple[int, int, int, int]:
    """The largest box of the asked aspect ratio inside `image`: centered, or where saliency is densest."""
    aspect = width / height
    box_w, box_h = (image.width, round(image.width / aspect)) if image.width / image.height <= aspect else (round(image.height * aspect), image.height)
    box_w, box_h = min(box_w, image.width), min(box_h, image.height)
    if mode == "center":
        left, top = (image.width - box_w) // 2, (image.height - box_h) // 2
        return left, top, left + box_w, top + box_h
    smap = saliency(image)
    sy, sx = smap.shape[0] / image.height, smap.shape[1] / image.width
    win_w, win_h = max(1, round(box_w * sx)), max(1, round(box_h * sy))
    integral = np.pad(smap.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[win_h:, win_w:] - integral[:-win_h, win_w:] - integral[win_h:, :-win_w] + integral[:-win_h, :-win_w])
    # Ties (a flat map) go to the window nearest the center.
    ys, xs = np.mgrid[0:sums.shape[0], 0:sums.shape[1]]
    distance = (ys - (sums.shape[0] - 1) / 2) ** 2 + (xs - (sums.shape[1] - 1) / 2) ** 2
    best = np.lexsort((distance.ravel(), -np.round(sums.ravel(), 9)))[0]
    y, x = divmod(int(best), sums.shape[1])
    left = min(image.width - box_w, round(x / sx))
    top = min(image.height - box_h, round(y / sy))
    return left, top, left + box_w, top + box_h


def crop(image: Image.Image, width: int, height: int, mode: str) -> Image.Image:
    if mode not in ("center", "subject"):
        raise JobError("bad_params", "mode must be center or subject")
    if not (8 <= width <= 4096 and 8 <= height <= 4096):
        raise JobError("bad_params", "width and height must be from 8 to 4096")
    return image.crop(window(image, width, height, mode)).resize((width, height), Image.Resampling.LANCZOS)
