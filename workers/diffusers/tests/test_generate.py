"""Generation on CPU with a tiny random model: what the worker returns for a job, read like the
worker protocol's result body."""
import base64
import io
import threading

import numpy as np
import pytest
from PIL import Image

from muse_diffusers.generate import Job, run, run_batch
from muse_diffusers.params import SAMPLERS, parse


def job(**overrides):
    params = {"model": "tiny-sd", "prompt": "a red fox", "width": 64, "height": 64, "steps": 3, "guidance_scale": 5.0,
              "sampler": "euler_a", "seed": 42, "num_images": 1}
    params.update(overrides)
    return params


def png(image):
    return base64.b64decode(image["png_base64"])


def test_a_job_gives_a_png_of_its_size_with_its_parameters_and_the_same_bytes_for_the_same_seed(pipelines):
    first = run(pipelines, "att_1", job(width=64, height=48))
    again = run(pipelines, "att_2", job(width=64, height=48))
    assert first["status"] == "succeeded", first
    [image] = first["images"]
    assert (image["width"], image["height"], image["seed"]) == (64, 48, 42)
    decoded = Image.open(io.BytesIO(png(image)))
    assert decoded.size == (64, 48)
    assert "Seed: 42" in decoded.text["parameters"] and decoded.text["parameters"].startswith("a red fox")
    assert png(image) == png(again["images"][0])
    assert png(image) != png(run(pipelines, "att_3", job(width=64, height=48, seed=43))["images"][0])
    assert set(first["timings"]) >= {"queue_ms", "load_ms", "infer_ms"}


def test_four_images_are_four_distinct_images_with_their_seeds(pipelines):
    result = run(pipelines, "att_4", job(num_images=4, seed=100))
    assert [image["seed"] for image in result["images"]] == [100, 101, 102, 103]
    assert len({png(image) for image in result["images"]}) == 4


def test_jobs_of_one_shape_run_as_one_call_each_with_its_own_images(pipelines):
    jobs = [Job("att_a", parse(job(seed=1))), Job("att_b", parse(job(seed=2, num_images=2, prompt="a blue owl")))]
    results = run_batch(pipelines, jobs)
    assert [len(r["images"]) for r in results] == [1, 2]
    alone = run(pipelines, "att_c", job(seed=2, prompt="a blue owl"))
    # The same seed and prompt give the same image in a batch as alone (but for the last bit of
    # rounding: a batched convolution may sum in another order).
    batched, single = (np.asarray(Image.open(io.BytesIO(png(r))), dtype=np.int16) for r in (results[1]["images"][0], alone["images"][0]))
    assert np.abs(batched - single).max() <= 2


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_name_runs(pipelines, sampler):
    assert run(pipelines, "att_s", job(sampler=sampler, steps=2))["status"] == "succeeded"


@pytest.mark.parametrize("params, field", [
    ("not an object", "params"), (job(width=65), "multiples of 8"), (job(steps=0), "steps"), (job(steps=True), "steps"),
    (job(sampler="warp"), "sampler"), (job(guidance_scale="high"), "guidance_scale"), (job(num_images=9), "num_images"),
    (job(seed=-1), "seed"), (job(model=None), "model"), (job(prompt=7), "prompt"),
])
def test_a_bad_request_is_a_failed_result_naming_it_never_a_crash(pipelines, params, field):
    result = run(pipelines, "att_bad", params)
    assert result["status"] == "failed" and result["error"]["code"] == "bad_params" and field in result["error"]["message"]


def test_a_model_missing_from_config_or_disk_is_model_not_found(pipelines):
    for key in ("nope", "gone"):
        result = run(pipelines, "att_m", job(model=key))
        assert result["status"] == "failed" and result["error"]["code"] == "model_not_found", result


def test_cancel_stops_within_one_step(pipelines):
    canceled = threading.Event()
    steps = []

    def progress(_, step, total):
        steps.append(step)
        canceled.set()

    result = run(pipelines, "att_x", job(steps=20), progress=progress, canceled=canceled)
    assert result == {"status": "canceled"}
    assert steps == [1], f"ran {steps} after the cancel"


def data_url(color, size=(80, 40)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_img2img_starts_from_its_init_image_at_the_jobs_size(pipelines):
    steps = []
    red = run(pipelines, "att_i1", job(init_image=data_url((255, 0, 0)), strength=0.5, steps=4),
              progress=lambda j, step, total: steps.append((step, total)))
    assert red["status"] == "succeeded", red
    [image] = red["images"]
    assert Image.open(io.BytesIO(png(image))).size == (64, 64), "the init image is scaled to the job's size"
    assert "Denoising strength: 0.5" in Image.open(io.BytesIO(png(image))).text["parameters"]
    assert steps[-1] == (4, 4) and all(total == 4 for _, total in steps)
    again = run(pipelines, "att_i2", job(init_image=data_url((255, 0, 0)), strength=0.5, steps=4))
    blue = run(pipelines, "att_i3", job(init_image=data_url((0, 0, 255)), strength=0.5, steps=4))
    assert png(again["images"][0]) == png(image) and png(blue["images"][0]) != png(image)
    # Even strength 0 runs a step; a broken init image is bad_params.
    assert run(pipelines, "att_i4", job(init_image=data_url((255, 0, 0)), strength=0.0))["status"] == "succeeded"
    for bad in ("data:image/png;base64,!!!", "data:image/png;base64," + base64.b64encode(b"GIF89a").decode(), "https://example.com/x.png",
                "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()):
        assert run(pipelines, "att_i5", job(init_image=bad))["error"]["code"] == "bad_params"
    # img2img never batches.
    with pytest.raises(Exception):
        run_batch(pipelines, [Job("a", parse(job(init_image=data_url((1, 2, 3))))), Job("b", parse(job(init_image=data_url((1, 2, 3)))))])


def test_an_sdxl_model_generates_and_clip_skip_changes_the_image(pipelines):
    base = run(pipelines, "att_x1", job(model="tiny-sdxl", width=64, height=64))
    assert base["status"] == "succeeded", base
    assert Image.open(io.BytesIO(png(base["images"][0]))).size == (64, 64)
    skipped = run(pipelines, "att_x2", job(model="tiny-sdxl", width=64, height=64, clip_skip=1))
    assert skipped["status"] == "succeeded" and png(skipped["images"][0]) != png(base["images"][0])
    assert "tiny-sdxl" in pipelines.loaded()


def test_lora_params_are_checked(pipelines):
    for loras in ([{"key": "../etc/passwd", "weight": 1}], [{"key": "a", "weight": 3}], [{"key": "a"}, {"key": "a"}],
                  [{"key": f"k{i}"} for i in range(6)], "fox"):
        assert run(pipelines, "att_l", job(loras=loras))["error"]["code"] == "bad_params"
