"""Blocking HTTP to the Muse server from a job's thread: fetch what a job names (dataset images, a
checkpoint, a LoRA, an init image) and upload what it makes (crops, checkpoints, the LoRA). The
worker token goes only to the server's own origins, and every read is bounded before it is read."""
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from .errors import JobError

CHUNK = 1 << 20


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: followed, it would carry the worker token to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxies from the environment either (as aiohttp's session, which posts the results).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise JobError("bad_params", f"not an http(s) URL: {url[:200]!r}")
    return parts.scheme, parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)


class Server:
    """The Muse server as a job's thread talks to it: its token, and the origins it answers on
    (the URL the worker registered with, and each job's callback origin)."""

    def __init__(self, url: str, token: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _check(self, url: str, allowed: list[str]):
        if origin(url) not in {origin(a) for a in [self.url, *allowed]}:
            raise JobError("bad_params", f"{url[:200]!r} is not on the Muse server")

    def _request(self, method: str, url: str, body=None, content_type: str | None = None, length: int | None = None):
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        if length is not None:
            request.add_header("Content-Length", str(length))
        return _OPENER.open(request, timeout=self.timeout)

    def fetch(self, url: str, max_bytes: int, allowed: list[str] = (), what: str = "a file") -> bytes:
        """The body of a GET; `JobError` when it is missing, too large or the server is unreachable."""
        self._check(url, list(allowed))
        try:
            with self._request("GET", url) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and int(declared) > max_bytes:
                    raise JobError("input_too_large", f"{what} is over {max_bytes} bytes")
                data = bytearray()
                while chunk := response.read(CHUNK):
                    data += chunk
                    if len(data) > max_bytes:
                        raise JobError("input_too_large", f"{what} is over {max_bytes} bytes")
                return bytes(data)
        except urllib.error.HTTPError as error:
            code = "not_found" if error.code == 404 else "fetch_failed"
            raise JobError(code, f"the server answered {error.code} for {what}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise JobError("fetch_failed", f"could not fetch {what}: {error}") from None

    def fetch_to(self, url: str, path: str, max_bytes: int, allowed: list[str] = (), what: str = "a file"):
        """A GET written to `path` (through a temporary file, renamed once whole)."""
        data = self.fetch(url, max_bytes, allowed, what)
        partial = f"{path}.part-{os.getpid()}-{time.monotonic_ns()}"
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, path)

    def put(self, url: str, data: bytes, content_type: str, allowed: list[str] = (), tries: int = 5) -> int | None:
        """A PUT, tried again while the server is busy (503, honoring a short Retry-After) or
        unreachable; the final status, or None when it never answered."""
        self._check(url, list(allowed))
        status = None
        for attempt in range(tries):
            try:
                with self._request("PUT", url, data, content_type, len(data)) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                status = error.code
                if error.code != 503:
                    return status
                retry = error.headers.get("Retry-After", "1")
                time.sleep(min(5.0, float(retry)) if retry.isdigit() else 1.0)
            except (urllib.error.URLError, OSError):
                time.sleep(0.5 * (attempt + 1))
        return status
