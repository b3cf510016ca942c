"""Job failures as the worker protocol names them (`error.code`, `a-z0-9_`)."""


class JobError(Exception):
    """A job that cannot run: its result is `failed` with this code, and the worker goes on."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Canceled(Exception):
    """The job was canceled: the pipeline stops at the next denoising step."""
