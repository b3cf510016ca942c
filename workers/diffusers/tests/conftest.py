import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from muse_diffusers.config import WorkerConfig  # noqa: E402
from muse_diffusers.pipelines import Pipelines  # noqa: E402

from tiny import build, build_captioner, build_sdxl  # noqa: E402


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return build(str(tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="session")
def pipelines(model_dir):
    config = WorkerConfig.from_dict({"models": {"tiny-sd": {"path": model_dir}, "gone": {"path": model_dir + "-missing"},
                                                "tiny-sdxl": {"path": build_sdxl(os.path.dirname(model_dir)), "base": "sdxl"}}})
    return Pipelines(config)


@pytest.fixture(scope="session")
def captioner_dir(tmp_path_factory):
    return build_captioner(str(tmp_path_factory.mktemp("captioner")))
