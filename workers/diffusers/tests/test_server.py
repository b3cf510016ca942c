"""The worker over the worker protocol, against a stand-in for the Muse server that records what
the worker sends: registration, heartbeats, progress, results, leaving."""
import asyncio
import base64
import io

import aiohttp
from aiohttp import web
from PIL import Image

from muse_stage import job, stage, until

def test_a_job_is_taken_run_reported_and_polled_and_the_worker_leaves_when_drained(pipelines):
    async def scenario():
        async with stage(pipelines, "w1", heartbeat_seconds=0.1) as s:
            muse, muse_port, worker, base, auth = s.muse, s.muse_port, s.worker, s.base, s.auth
            async with aiohttp.ClientSession() as client:
                async with client.post(base + "/v1/jobs", json=job("att_1", muse_port)) as r:
                    assert r.status == 401, "no token, no job"
                async with client.post(base + "/v1/jobs", json=job("att_1", muse_port), headers=auth) as r:
                    assert r.status == 202
                assert await until(lambda: "att_1" in muse.results)
                result = muse.results["att_1"]
                assert result["status"] == "succeeded"
                [image] = result["images"]
                assert Image.open(io.BytesIO(base64.b64decode(image["png_base64"]))).size == (64, 64) and image["seed"] == 5
                assert [p["step"] for a, p in muse.progress if a == "att_1"] == [1, 2, 3]
                async with client.get(base + "/v1/jobs/att_1", headers=auth) as r:
                    polled = await r.json()
                    # The server took the result: the PNGs are not kept for a poll.
                    assert polled["status"] == "succeeded" and polled["result"]["images"] == []
                async with client.get(base + "/v1/jobs/att_unknown", headers=auth) as r:
                    assert r.status == 404
                assert muse.registrations[0]["abilities"] == ["txt2img", "img2img"], "no dataset work, no crop, tag or train"
                assert await until(lambda: any("tiny-sd" in h["models_loaded"] for h in muse.heartbeats))
                # A bad job is a failed result, and the worker goes on; another kind is refused.
                async with client.post(base + "/v1/jobs", json=job("att_2", muse_port, width=65), headers=auth) as r:
                    assert r.status == 202
                assert await until(lambda: "att_2" in muse.results)
                assert muse.results["att_2"]["error"]["code"] == "bad_params"
                async with client.post(base + "/v1/jobs", json={**job("att_3", muse_port), "kind": "train"}, headers=auth) as r:
                    assert r.status == 400
                async with client.post(base + "/v1/jobs", data=b"{not json", headers=auth) as r:
                    assert r.status == 400
                async with client.post(base + "/v1/jobs", json={**job("att_4", muse_port), "kind": "img2img", "params": "x"}, headers=auth) as r:
                    assert r.status == 202, "taken, and failed as a bad job"
                assert await until(lambda: "att_4" in muse.results)
                assert muse.results["att_4"]["error"]["code"] == "bad_params"
                # Finished jobs are dropped once past their keeping time, PNGs and all.
                worker.keep_finished_seconds = 0
                assert await until(lambda: not worker.jobs)
                async with client.get(base + "/v1/jobs/att_1", headers=auth) as r:
                    assert r.status == 404
            await worker.drain()
            assert muse.left == ["w1"]

    asyncio.run(scenario())


def test_a_draining_worker_finishes_its_job_beating_takes_no_new_one_then_leaves(pipelines):
    async def scenario():
        async with stage(pipelines, "w3", heartbeat_seconds=0.05) as s:
            muse, muse_port, worker, base, auth = s.muse, s.muse_port, s.worker, s.base, s.auth
            async with aiohttp.ClientSession() as client:
                async with client.post(base + "/v1/jobs", json=job("att_d", muse_port, steps=40), headers=auth) as r:
                    assert r.status == 202
                assert await until(lambda: any(a == "att_d" for a, _ in muse.progress))
                drained = asyncio.ensure_future(worker.drain())
                await asyncio.sleep(0.2)
                async with client.post(base + "/v1/jobs", json=job("att_e", muse_port), headers=auth) as r:
                    assert r.status == 429, "a draining worker takes no new job"
                beats = len(muse.heartbeats)
                await drained
                assert muse.results["att_d"]["status"] == "succeeded", "the job held is finished"
                assert len(muse.heartbeats) > beats, "it kept beating while it finished"
                assert muse.left == ["w3"]

    asyncio.run(scenario())


def test_a_full_worker_says_429_and_a_canceled_job_reports_canceled(pipelines):
    async def scenario():
        async with stage(pipelines, "w2", slots=1) as s:
            muse, muse_port, worker, base, auth = s.muse, s.muse_port, s.worker, s.base, s.auth
            async with aiohttp.ClientSession() as client:
                statuses = []
                for attempt in ("att_a", "att_b", "att_c"):
                    async with client.post(base + "/v1/jobs", json=job(attempt, muse_port, steps=150), headers=auth) as r:
                        statuses.append(r.status)
                assert statuses == [202, 202, 429], "one running and one waiting per slot"
                for attempt in ("att_a", "att_b"):
                    async with client.post(base + f"/v1/jobs/{attempt}/cancel", json={}, headers=auth) as r:
                        assert r.status == 200
                assert await until(lambda: {"att_a", "att_b"} <= set(muse.results))
                assert muse.results["att_a"] == {"status": "canceled"} and muse.results["att_b"] == {"status": "canceled"}
                assert len([p for a, p in muse.progress if a == "att_a"]) < 150

    asyncio.run(scenario())


def test_a_job_that_runs_out_of_gpu_memory_fails_with_out_of_memory_and_the_worker_goes_on(pipelines, monkeypatch):
    # No GPU here to exhaust: the denoising raises what CUDA's allocator raises, for one prompt.
    import torch
    from muse_diffusers import generate
    real = generate._denoise

    def denoise(pipeline, jobs, first, *rest):
        if first.prompt == "too big":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
        return real(pipeline, jobs, first, *rest)

    monkeypatch.setattr(generate, "_denoise", denoise)

    async def scenario():
        async with stage(pipelines, "wm") as s:
            async with aiohttp.ClientSession() as client:
                for attempt, prompt in (("att_m1", "too big"), ("att_m2", "a red fox")):
                    async with client.post(s.base + "/v1/jobs", json=job(attempt, s.muse_port, prompt=prompt), headers=s.auth) as r:
                        assert r.status == 202
                assert await until(lambda: {"att_m1", "att_m2"} <= set(s.muse.results))
                assert s.muse.results["att_m1"]["error"]["code"] == "out_of_memory"
                assert s.muse.results["att_m2"]["status"] == "succeeded", "the worker keeps serving"

    asyncio.run(scenario())


def test_an_img2img_job_with_an_8_mib_init_image_is_taken(pipelines):
    import numpy as np
    from PIL import Image as PILImage

    noise = PILImage.fromarray(np.random.default_rng(0).integers(0, 255, (1400, 1400, 3), dtype=np.uint8))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    assert len(url) > 6 << 20

    async def scenario():
        async with stage(pipelines, "wi") as s:
            body = {**job("att_big", s.muse_port, init_image=url, strength=0.5), "kind": "img2img"}
            async with aiohttp.ClientSession() as client:
                async with client.post(s.base + "/v1/jobs", json=body, headers=s.auth) as r:
                    assert r.status == 202
            assert await until(lambda: "att_big" in s.muse.results)
            assert s.muse.results["att_big"]["status"] == "succeeded", s.muse.results["att_big"]

    asyncio.run(scenario())


def test_a_result_the_server_refuses_is_reported_failed_and_seeds_wrap_at_2_32(pipelines):
    async def scenario():
        async with stage(pipelines, "wq") as s:
            refused = []

            async def on_result(request):
                body = await request.json()
                if body.get("status") == "succeeded" and request.match_info["id"] == "att_q1":
                    refused.append(body)
                    return web.json_response({"error": "images[0]: too large"}, status=413)
                s.muse.results[request.match_info["id"]] = body
                return web.json_response({"ok": True})

            s.muse.on_result = on_result
            async with aiohttp.ClientSession() as client:
                for attempt in ("att_q1", "att_q2"):
                    body = job(attempt, s.muse_port, seed=4294967295, num_images=2)
                    async with client.post(s.base + "/v1/jobs", json=body, headers=s.auth) as r:
                        assert r.status == 202
            assert await until(lambda: {"att_q1", "att_q2"} <= set(s.muse.results))
            assert refused and s.muse.results["att_q1"]["error"]["code"] == "result_rejected"
            assert [i["seed"] for i in s.muse.results["att_q2"]["images"]] == [4294967295, 0]

    asyncio.run(scenario())
