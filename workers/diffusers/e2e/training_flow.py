"""The dataset-to-LoRA path through a running Muse server and this worker (run by
scripts/worker-e2e.sh): a dataset of two pictures is cropped (subject mode) and tagged, a short
training follows on SSE, and its LoRA is used in a generation whose PNG names it.
Usage: training_flow.py BASE_URL API_KEY"""
import io
import json
import sys
import time
import urllib.request

from PIL import Image

base, key = sys.argv[1], sys.argv[2]


def call(method, path, body=None, content_type="application/json", timeout=60):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
        return json.loads(raw) if response.headers.get("Content-Type", "").startswith("application/json") else raw


def until_final(path, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = call("GET", path)
        if job["status"] in ("succeeded", "failed", "canceled"):
            return job
        time.sleep(0.2)
    raise SystemExit(f"{path} did not finish: {job}")


def picture(color, spot):
    image = Image.new("RGB", (160, 96), color)
    image.paste((250, 250, 250), spot)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


started = time.monotonic()
dataset = call("POST", "/v1/datasets", {"name": "e2e cat", "category": "object"})["id"]
for color, spot in (((200, 60, 40), (110, 20, 150, 60)), ((40, 80, 200), (10, 30, 50, 70))):
    call("POST", f"/v1/datasets/{dataset}/images", picture(color, spot), "image/png")

crop = until_final("/v1/jobs/" + call("POST", f"/v1/datasets/{dataset}/crop", {"width": 64, "height": 64, "mode": "subject"})["id"])
assert crop["status"] == "succeeded", crop
tag = until_final("/v1/jobs/" + call("POST", f"/v1/datasets/{dataset}/tag", {"trigger_word": "sks cat"})["id"])
assert tag["status"] == "succeeded", tag
images = call("GET", f"/v1/datasets/{dataset}")["images"]
assert all((i["width"], i["height"], i["version"]) == (64, 64, 2) for i in images), images
assert all(i["caption"].startswith("sks cat, ") for i in images), images

training = call("POST", "/v1/trainings", {
    "base_model": "sd15-base", "dataset": dataset, "output_name": "E2E Cat", "trigger_word": "sks cat",
    "params": {"steps": 20, "checkpoint_every": 10, "rank": 4, "alpha": 4, "resolution": 512, "learning_rate": 0.001}})
request = urllib.request.Request(f"{base}/v1/trainings/{training['id']}/events", headers={"Authorization": f"Bearer {key}"})
events = []
with urllib.request.urlopen(request, timeout=600) as stream:
    for line in stream:
        if line.startswith(b"data: "):
            events.append(json.loads(line[6:]))
final = events[-1]
assert final["status"] == "succeeded", (final, call("GET", f"/v1/trainings/{training['id']}"))
losses = [e["loss"] for e in events if e.get("loss") is not None]
assert losses and events[-1]["step"] == 20, events[-3:]
done = call("GET", f"/v1/trainings/{training['id']}")
assert done["checkpoint_step"] == 10, done
trained = time.monotonic()

params = call("GET", f"/v1/trainings/{training['id']}/generation-params")
generation = call("POST", "/v1/generations", {**params, "width": 256, "height": 256, "steps": 4, "seed": 11})
task = until_final(f"/v1/generations/{generation['id']}")
assert task["status"] == "succeeded", task
png = Image.open(io.BytesIO(call("GET", task["images"][0]["url"])))
lora = params["loras"][0]["key"]
assert lora in png.text["parameters"], png.text
print(f"worker e2e: crop, tag and a 20-step training ({len(losses)} losses on SSE, a checkpoint at step 10) took "
      f"{trained - started:.1f} s; its LoRA {lora} applied in a generation in {time.monotonic() - trained:.1f} s")
