"""Crop, tag and training jobs through the worker protocol, against the stand-in server: a LoRA
trained for a few steps changes the output and loads back by key, a resumed training ends where an
uninterrupted one does, and bad input is a `failed` result."""
import asyncio
import hashlib
import io

import aiohttp
import numpy as np
import pytest
import safetensors.torch
import torch
from PIL import Image

from muse_stage import dataset_job, job, stage, until

IDS = [f"img_{'0' * 25}{c}" for c in "123"]
FORM = {"steps": 4, "learning_rate": 0.01, "rank": 4, "alpha": 4, "resolution": 64, "checkpoint_every": 2, "seed": 7}


def picture(color, size=(96, 64), spot=None) -> bytes:
    image = Image.new("RGB", size, color)
    if spot:
        image.paste((255, 255, 255), spot)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def dataset(s, count=2):
    for i, image_id in enumerate(IDS[:count]):
        s.muse.files[image_id] = picture((40 * i + 60, 30, 200 - 50 * i))
    return [{"id": image_id, "url": f"http://127.0.0.1:{s.muse_port}/files/{image_id}", "content_type": "image/png",
             "width": 96, "height": 64, "caption": f"sks thing {i}"} for i, image_id in enumerate(IDS[:count])]


def train_job(s, attempt, form=None, resume=None):
    params = {"base_model": "tiny-sd", "base": "sd15", "output_name": "Thing", "trigger_word": "sks thing", "params": form or FORM}
    return dataset_job(attempt, s.muse_port, "train", params, dataset(s), resume)


async def submit(client, s, body, wait=True):
    async with client.post(s.base + "/v1/jobs", json=body, headers=s.auth) as r:
        assert r.status == 202, await r.text()
    if wait:
        assert await until(lambda: body["attempt_id"] in s.muse.results, seconds=240)
        return s.muse.results[body["attempt_id"]]


def lora_tensors(data: bytes) -> dict:
    return safetensors.torch.load(data)


def test_a_lora_trained_for_a_few_steps_changes_the_output_loads_back_and_a_resumed_run_ends_the_same(pipelines, tmp_path):
    async def scenario():
        async with stage(pipelines, "wt", training=True, assets=True, lora_cache=str(tmp_path / "loras")) as s:
            assert set(s.worker.abilities) == {"txt2img", "img2img", "crop", "train"}, "no captioner, no tag"
            async with aiohttp.ClientSession() as client:
                result = await submit(client, s, train_job(s, "att_t1"))
                assert result["status"] == "succeeded", result
                artifact = s.muse.uploads[("att_t1", "artifact")]
                assert result["artifact"] == {"sha256": hashlib.sha256(artifact).hexdigest(), "size": len(artifact),
                                              "upload": f"http://127.0.0.1:{s.muse_port}/internal/v1/job-attempts/att_t1/artifact"}
                reports = [p for a, p in s.muse.progress if a == "att_t1"]
                assert [p["step"] for p in reports] == [1, 2, 3, 4] and all(p["total_steps"] == 4 and p["loss"] > 0 for p in reports)
                assert ("att_t1", "checkpoint 2") in s.muse.uploads and ("att_t1", "checkpoint 4") not in s.muse.uploads
                keys = list(lora_tensors(artifact)); assert keys and all(k.startswith("unet.") for k in keys), keys[:4]

                # The LoRA, fetched from the server by its key, changes the image; the next job without it is as before.
                s.muse.loras["thing-00000001"] = artifact
                plain = await submit(client, s, job("att_g1", s.muse_port, seed=3))
                with_lora = await submit(client, s, job("att_g2", s.muse_port, seed=3, loras=[{"key": "thing-00000001", "weight": 1.0}]))
                after = await submit(client, s, job("att_g3", s.muse_port, seed=3))
                assert with_lora["status"] == "succeeded", with_lora
                assert with_lora["images"][0]["png_base64"] != plain["images"][0]["png_base64"]
                assert after["images"][0]["png_base64"] == plain["images"][0]["png_base64"], "a LoRA applies to its job only"
                missing = await submit(client, s, job("att_g4", s.muse_port, loras=[{"key": "no-such-lora", "weight": 1.0}]))
                assert missing["error"]["code"] == "lora_not_found"
                s.muse.loras["junk"] = b"not a safetensors file"
                junk = await submit(client, s, job("att_g5", s.muse_port, loras=[{"key": "junk", "weight": 1.0}]))
                assert junk["error"]["code"] == "bad_lora"

                # Resumed from its step-2 checkpoint on another attempt, the training ends with the same LoRA.
                s.muse.files["ckpt"] = s.muse.uploads[("att_t1", "checkpoint 2")]
                resumed = await submit(client, s, train_job(s, "att_t2", resume={"step": 2, "url": f"http://127.0.0.1:{s.muse_port}/files/ckpt"}))
                assert resumed["status"] == "succeeded", resumed
                assert [p["step"] for a, p in s.muse.progress if a == "att_t2"] == [3, 4]
                first, second = lora_tensors(artifact), lora_tensors(s.muse.uploads[("att_t2", "artifact")])
                assert first.keys() == second.keys()
                assert all(torch.allclose(first[k], second[k], atol=1e-6) for k in first)

                # A checkpoint of another training, or not a checkpoint at all, fails the job.
                s.muse.files["junk"] = b"\x10\x00\x00\x00\x00\x00\x00\x00{}"
                bad = await submit(client, s, train_job(s, "att_t3", resume={"step": 2, "url": f"http://127.0.0.1:{s.muse_port}/files/junk"}))
                assert bad["status"] == "failed" and bad["error"]["code"] == "bad_checkpoint"
                other = await submit(client, s, train_job(s, "att_t4", form={**FORM, "rank": 8},
                                                          resume={"step": 2, "url": f"http://127.0.0.1:{s.muse_port}/files/ckpt"}))
                assert other["error"]["code"] == "bad_checkpoint"
                # The right adapters with junk in the metadata: refused as well, before any of it is used.
                from muse_diffusers.train import metadata
                meta = {**metadata(s.muse.files["ckpt"]), "adam_steps": "nan"}
                s.muse.files["nan"] = safetensors.torch.save(safetensors.torch.load(s.muse.files["ckpt"]), metadata=meta)
                nan = await submit(client, s, train_job(s, "att_t5", resume={"step": 2, "url": f"http://127.0.0.1:{s.muse_port}/files/nan"}))
                assert nan["status"] == "failed" and nan["error"]["code"] == "bad_checkpoint", nan

    asyncio.run(scenario())


def test_bad_training_jobs_are_failed_results_and_the_token_stays_on_the_server(pipelines):
    async def scenario():
        async with stage(pipelines, "wb", training=True) as s:
            async with aiohttp.ClientSession() as client:
                for attempt, form in [("att_b1", {**FORM, "rank": 0}), ("att_b2", {**FORM, "learning_rate": "fast"}),
                                      ("att_b3", {**FORM, "lr_scheduler": "wild"})]:
                    assert (await submit(client, s, train_job(s, attempt, form=form)))["error"]["code"] == "bad_params"
                unknown = train_job(s, "att_b4")
                unknown["params"]["base_model"] = "nope"
                assert (await submit(client, s, unknown))["error"]["code"] == "model_not_found"
                # An image URL off the server would carry the worker token elsewhere: refused.
                elsewhere = train_job(s, "att_b5")
                elsewhere["images"][0]["url"] = "http://127.0.0.2:9/steal"
                assert (await submit(client, s, elsewhere))["error"]["code"] == "bad_params"
                missing = train_job(s, "att_b6")
                missing["images"][0]["url"] = f"http://127.0.0.1:{s.muse_port}/files/none"
                assert (await submit(client, s, missing))["error"]["code"] == "not_found"
                s.muse.files["bomb"] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
                broken = train_job(s, "att_b7")
                broken["images"][0]["url"] = f"http://127.0.0.1:{s.muse_port}/files/bomb"
                assert (await submit(client, s, broken))["error"]["code"] == "bad_params"
                # One training slot: one running, one waiting, then 429.
                statuses = []
                for attempt in ("att_c1", "att_c2", "att_c3"):
                    async with client.post(s.base + "/v1/jobs", json=train_job(s, attempt, form={**FORM, "steps": 100000}), headers=s.auth) as r:
                        statuses.append(r.status)
                assert statuses == [202, 202, 429]
                assert await until(lambda: any(a == "att_c1" for a, _ in s.muse.progress))
                for attempt in ("att_c1", "att_c2"):
                    async with client.post(s.base + f"/v1/jobs/{attempt}/cancel", json={}, headers=s.auth) as r:
                        assert r.status == 200
                assert await until(lambda: {"att_c1", "att_c2"} <= set(s.muse.results))
                assert s.muse.results["att_c1"] == {"status": "canceled"} and s.muse.results["att_c2"] == {"status": "canceled"}

    asyncio.run(scenario())


def test_crops_are_uploaded_at_the_asked_size_and_subject_mode_keeps_the_bright_spot(pipelines):
    async def scenario():
        async with stage(pipelines, "wc", training=True) as s:
            s.muse.files[IDS[0]] = picture((20, 20, 20), size=(300, 100), spot=(230, 30, 270, 70))
            images = [{"id": IDS[0], "url": f"http://127.0.0.1:{s.muse_port}/files/{IDS[0]}", "content_type": "image/png",
                       "width": 300, "height": 100, "caption": ""}]
            async with aiohttp.ClientSession() as client:
                for attempt, mode in (("att_k1", "center"), ("att_k2", "subject")):
                    body = dataset_job(attempt, s.muse_port, "crop", {"width": 64, "height": 64, "mode": mode}, images)
                    assert (await submit(client, s, body))["status"] == "succeeded"
                center = Image.open(io.BytesIO(s.muse.uploads[("att_k1", f"images/{IDS[0]}")]))
                subject = Image.open(io.BytesIO(s.muse.uploads[("att_k2", f"images/{IDS[0]}")]))
                assert center.size == subject.size == (64, 64)
                assert np.asarray(center).max() < 100, "the middle of the picture is dark"
                assert np.asarray(subject).max() > 200, "the subject crop holds the bright spot"
                body = dataset_job("att_k3", s.muse_port, "crop", {"width": 64, "height": 64, "mode": "diagonal"}, images)
                assert (await submit(client, s, body))["error"]["code"] == "bad_params"
                # A crop the server no longer wants (404 on upload) stops the job.
                s.muse.refuse_uploads = True
                body = dataset_job("att_k4", s.muse_port, "crop", {"width": 64, "height": 64, "mode": "center"}, images)
                assert (await submit(client, s, body))["status"] == "canceled"

    asyncio.run(scenario())


def test_tag_jobs_caption_each_image_after_the_trigger_word(pipelines, captioner_dir):
    async def scenario():
        async with stage(pipelines, "wg", training=True, captioner=captioner_dir) as s:
            assert "tag" in s.worker.abilities
            async with aiohttp.ClientSession() as client:
                body = dataset_job("att_tag", s.muse_port, "tag", {"trigger_word": "sks thing"}, dataset(s, 3))
                result = await submit(client, s, body)
                assert result["status"] == "succeeded", result
                assert [c["image_id"] for c in result["captions"]] == IDS
                assert all(c["caption"].startswith("sks thing, ") and len(c["caption"]) > len("sks thing, ") for c in result["captions"])
                assert [p["step"] for a, p in s.muse.progress if a == "att_tag"] == [1, 2, 3]

    asyncio.run(scenario())


@pytest.mark.parametrize("model,base", [("tiny-sd", "sd15"), ("tiny-sdxl", "sdxl")])
def test_a_lora_with_its_text_encoders_trains_and_applies_on_each_base(pipelines, tmp_path, model, base):
    async def scenario():
        async with stage(pipelines, "wx", training=True, assets=True, lora_cache=str(tmp_path / "loras")) as s:
            async with aiohttp.ClientSession() as client:
                body = train_job(s, "att_x1", form={**FORM, "steps": 2, "train_text_encoder": True, "lr_scheduler": "cosine"})
                body["params"].update(base_model=model, base=base)
                result = await submit(client, s, body)
                assert result["status"] == "succeeded", result
                keys = safetensors.torch.load(s.muse.uploads[("att_x1", "artifact")]).keys()
                assert any(k.startswith("text_encoder.") for k in keys) and any(k.startswith("unet.") for k in keys)
                assert (base == "sdxl") == any(k.startswith("text_encoder_2.") for k in keys)
                s.muse.loras["x-lora"] = s.muse.uploads[("att_x1", "artifact")]
                plain = await submit(client, s, job("att_x2", s.muse_port, model=model))
                styled = await submit(client, s, job("att_x3", s.muse_port, model=model, loras=[{"key": "x-lora", "weight": 0.8}]))
                assert styled["status"] == "succeeded", styled
                assert styled["images"][0]["png_base64"] != plain["images"][0]["png_base64"]

    asyncio.run(scenario())


def test_a_redirect_from_the_server_is_not_followed_with_the_token(pipelines):
    from aiohttp import web as aioweb

    async def scenario():
        async with stage(pipelines, "wr", training=True) as s:
            stolen = []

            async def elsewhere(request):
                stolen.append(request.headers.get("Authorization"))
                return aioweb.Response(body=picture((1, 2, 3)))

            thief = aioweb.Application()
            thief.router.add_get("/x", elsewhere)
            from muse_stage import serve
            runner, port = await serve(thief)
            try:
                async def redirect(request):
                    raise aioweb.HTTPFound(f"http://127.0.0.1:{port}/x")
                s.muse.redirect = redirect
                images = [{"id": IDS[0], "url": f"http://127.0.0.1:{s.muse_port}/redirect", "content_type": "image/png",
                           "width": 96, "height": 64, "caption": ""}]
                async with aiohttp.ClientSession() as client:
                    body = dataset_job("att_r1", s.muse_port, "crop", {"width": 64, "height": 64, "mode": "center"}, images)
                    result = await submit(client, s, body)
                assert result["status"] == "failed" and result["error"]["code"] == "fetch_failed", result
                assert stolen == []
            finally:
                await runner.cleanup()

    asyncio.run(scenario())


def test_a_sliver_of_an_image_trains_at_its_resolution_without_blowing_up():
    from muse_diffusers.train import square
    sliver = Image.new("RGB", (1, 8192), (200, 10, 10))
    assert square(sliver, 512).shape == (3, 512, 512)
