"""Images a job hands in (an img2img `init_image`, a dataset image), decoded with bounds: at most
64 megapixels (Pillow's bomb check, as an error), PNG or JPEG, converted to RGB."""
import base64
import binascii
import io
import re

from PIL import Image

from .errors import JobError
from .transfer import Server

MAX_PIXELS = 64 << 20
MAX_DATA_URL = 12 << 20
MAX_IMAGE_BYTES = 64 << 20
IMAGE_ID = re.compile(r"img_[0-9a-hjkmnp-tv-z]{26}")
DATA_URL = re.compile(r"data:image/(png|jpeg);base64,")


def decode(data: bytes, what: str) -> Image.Image:
    """PNG or JPEG bytes as an RGB image; `bad_params` for anything else."""
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise JobError("bad_params", f"{what} is not a PNG or JPEG")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise JobError("bad_params", f"{what} is over {MAX_PIXELS} pixels")
            return image.convert("RGB")
    except JobError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as error:
        raise JobError("bad_params", f"{what} does not decode: {error}"[:2000]) from None


def init_image(ref: str, server: Server | None, width: int, height: int) -> Image.Image:
    """A job's `init_image` (a data: URL, or an image id fetched from the server) at the job's size."""
    match = DATA_URL.match(ref)
    if match:
        if len(ref) > MAX_DATA_URL:
            raise JobError("bad_params", "init_image is over 12 MiB")
        try:
            data = base64.b64decode(ref[match.end():], validate=True)
        except (binascii.Error, ValueError):
            raise JobError("bad_params", "init_image is not base64") from None
    elif IMAGE_ID.fullmatch(ref):
        if server is None:
            raise JobError("bad_params", "this worker has no server to fetch init_image from")
        data = server.fetch(f"{server.url}/internal/v1/images/{ref}", MAX_IMAGE_BYTES, what=f"image {ref}")
    else:
        raise JobError("bad_params", "init_image must be a data:image/png or data:image/jpeg URL, or an image id")
    image = decode(data, "init_image")
    return image if image.size == (width, height) else image.resize((width, height), Image.Resampling.LANCZOS)
