"""The worker's GPU benchmark. It builds SD 1.5 and SDXL pipelines with random weights from the
real models' configs (`--size full`: the same kernels and memory as the real models; `--size
small`: tiny ones, for a CPU), saves them as diffusers folders, and prints:

- images/s at batch 1, 4 and 8 through the worker's own generation path (`run_batch`);
- seconds per model switch, with the pipeline LRU warm (both loaded) and cold (loaded from disk);
- with `--server-bin DIR`: the GPU's utilization (nvidia-smi, else the worker's Busy ratio) over a
  run of generations that muse-cloud's scheduler dispatches to this worker.

Usage: python bench.py [--size full|small] [--device cuda|cpu] [--steps 20] [--server-bin .build/release]
No download: every weight is random."""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))

import torch  # noqa: E402
from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline,  # noqa: E402
                       UNet2DConditionModel)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection  # noqa: E402

from muse_diffusers.config import WorkerConfig  # noqa: E402
from muse_diffusers.generate import Job, run_batch  # noqa: E402
from muse_diffusers.params import parse  # noqa: E402
from muse_diffusers.pipelines import Pipelines  # noqa: E402
from tiny import letters_tokenizer  # noqa: E402

# The released models' configs (runwayml SD 1.5, stabilityai SDXL base 1.0), and tiny stand-ins.
UNETS = {
    ("sd15", "full"): dict(block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, sample_size=64, cross_attention_dim=768,
                           attention_head_dim=8,
                           down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                           up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3),
    ("sdxl", "full"): dict(block_out_channels=(320, 640, 1280), layers_per_block=2, sample_size=128, cross_attention_dim=2048,
                           attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10), use_linear_projection=True,
                           addition_embed_type="text_time", addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
                           down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                           up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D")),
    ("sd15", "small"): dict(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, cross_attention_dim=32, attention_head_dim=8,
                            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")),
    ("sdxl", "small"): dict(block_out_channels=(32, 64), layers_per_block=1, sample_size=16, cross_attention_dim=64,
                            attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
                            addition_time_embed_dim=8, projection_class_embeddings_input_dim=80,
                            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")),
}
VAES = {"full": dict(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                     up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, sample_size=512),
        "small": dict(block_out_channels=(16, 32, 32, 32), down_block_types=("DownEncoderBlock2D",) * 4,
                      up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=16, sample_size=64)}
TEXT = {("clip-l", "full"): dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12, projection_dim=768),
        ("clip-g", "full"): dict(hidden_size=1280, intermediate_size=5120, num_attention_heads=20, num_hidden_layers=32, projection_dim=1280,
                                 hidden_act="gelu"),
        ("clip-l", "small"): dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, projection_dim=32),
        ("clip-g", "small"): dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, projection_dim=32)}
SIZES = {("sd15", "full"): 512, ("sdxl", "full"): 1024, ("sd15", "small"): 64, ("sdxl", "small"): 64}


def text_encoder(kind: str, size: str, projection: bool):
    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, vocab_size=49408, layer_norm_eps=1e-5, **TEXT[(kind, size)])
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


def build(base: str, size: str, folder: str) -> str:
    target = os.path.join(folder, f"{base}-{size}")
    if os.path.exists(os.path.join(target, "model_index.json")):
        return target
    torch.manual_seed(0)
    unet = UNet2DConditionModel(in_channels=4, out_channels=4, **UNETS[(base, size)])
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, **VAES[size])
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1)
    words = letters_tokenizer(os.path.join(folder, "_vocabulary"))
    if base == "sdxl":
        pipeline = StableDiffusionXLPipeline(unet=unet, vae=vae, text_encoder=text_encoder("clip-l", size, False),
                                             text_encoder_2=text_encoder("clip-g", size, True), tokenizer=words, tokenizer_2=words,
                                             scheduler=scheduler)
    else:
        pipeline = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder("clip-l", size, False), tokenizer=words,
                                           scheduler=scheduler, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipeline.save_pretrained(target, safe_serialization=True)
    return target


def sync(device: str):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def images_per_second(pipelines: Pipelines, model: str, side: int, steps: int, batch: int, device: str, repeats: int) -> float:
    def jobs():
        return [Job(f"att_{i}", parse({"model": model, "prompt": "a red fox in the snow", "width": side, "height": side,
                                         "steps": steps, "seed": i, "sampler": "euler"})) for i in range(batch)]
    run_batch(pipelines, jobs())  # warm: load, kernels, allocator
    timings = []
    for _ in range(repeats):
        sync(device)
        started = time.perf_counter()
        results = run_batch(pipelines, jobs())
        sync(device)
        timings.append(time.perf_counter() - started)
        assert all(r["status"] == "succeeded" for r in results), results[0]
    return batch / statistics.median(timings)


def switch_seconds(config: WorkerConfig, keys: list[str], device: str, dtype, capacity: int, rounds: int) -> float:
    pipelines = Pipelines(config, device=device, dtype=dtype, capacity=capacity)
    for key in keys:
        pipelines.get(key)
    timings = []
    for i in range(rounds):
        key = keys[i % len(keys)]
        sync(device)
        started = time.perf_counter()
        pipelines.get(key)
        sync(device)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def utilization_under_server(bin_dir: str, model_dir: str, base: str, side: int, steps: int, device: str, jobs: int, work: str) -> str:
    """muse-cloud and this worker on loopback; `jobs` generations submitted at once; utilization sampled."""
    data = os.path.join(work, "data")
    models = os.path.join(work, "bench.toml")
    with open(models, "w") as f:
        f.write(f'[models.bench]\npath = "{model_dir}"\nbase = "{base}"\n')
    created = subprocess.run([f"{bin_dir}/muse-cloud", "keys", "create", "--tenant", "bench", "--data-dir", data],
                             capture_output=True, text=True, check=True).stdout
    key = re.findall(r"mk_[0-9a-f]+", created)[-1]
    port, worker_port = free_port(), free_port()
    # The catalogue's sd15-base / sdxl-base keys are what the server schedules; the worker serves them from the bench folder.
    with open(models, "a") as f:
        f.write(f'[models.{base}-base]\npath = "{model_dir}"\nbase = "{base}"\n')
    server = subprocess.Popen([f"{bin_dir}/muse-cloud", "serve", "--port", str(port), "--data-dir", data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        worker = subprocess.Popen([sys.executable, "-m", "muse_diffusers", "--config", models, "--server", f"http://127.0.0.1:{port}",
                                   "--token-file", os.path.join(data, "worker-token"), "--port", str(worker_port), "--device", device,
                                   "--max-batch", "4", "--slots", "1", "--no-training"],
                                  cwd=os.path.dirname(os.path.abspath(__file__)), env={**os.environ, "PYTHONPATH": "src"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples, done = [], threading.Event()
        nvidia = device.startswith("cuda") and subprocess.run(["which", "nvidia-smi"], capture_output=True).returncode == 0

        def sample():
            while not done.is_set():
                try:
                    if nvidia:
                        out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-i", "0"],
                                             capture_output=True, text=True, timeout=5).stdout
                        samples.append(float(out.split()[0]))
                    else:
                        request = urllib.request.Request(f"http://127.0.0.1:{worker_port}/v1/health")
                        request.add_header("Authorization", "Bearer " + open(os.path.join(data, "worker-token")).read().strip())
                        samples.append(100 * json.load(urllib.request.urlopen(request, timeout=5))["busy"])
                except (OSError, ValueError, IndexError, KeyError):
                    pass
                time.sleep(0.5)

        body = json.dumps({"model": f"{base}-base", "prompt": "a red fox", "width": side, "height": side, "steps": steps}).encode()
        ids = []
        for _ in range(jobs):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/generations", data=body, method="POST")
            request.add_header("Authorization", f"Bearer {key}")
            request.add_header("Content-Type", "application/json")
            ids.append(json.load(urllib.request.urlopen(request, timeout=10))["id"])
        started = time.perf_counter()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        pending = set(ids)
        while pending and time.perf_counter() - started < 1800:
            for task in list(pending):
                request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/generations/{task}")
                request.add_header("Authorization", f"Bearer {key}")
                if json.load(urllib.request.urlopen(request, timeout=10))["status"] in ("succeeded", "failed", "canceled"):
                    pending.discard(task)
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        done.set()
        # The first samples cover the worker's model load: utilization is read once it runs jobs.
        busy = samples[len(samples) // 10:] or [0.0]
        source = "nvidia-smi" if nvidia else "the worker's Busy ratio"
        return (f"{jobs - len(pending)}/{jobs} generations through muse-cloud in {elapsed:.1f} s ({(jobs - len(pending)) / elapsed:.2f}/s); "
                f"utilization mean {statistics.mean(busy):.0f}% ({source}, {len(samples)} samples)")
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["full", "small"], default="full" if torch.cuda.is_available() else "small")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bases", default="sd15,sdxl")
    parser.add_argument("--batches", default="1,4,8")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", default=os.path.join(tempfile.gettempdir(), "muse-diffusers-bench"))
    parser.add_argument("--server-bin", help="a folder with muse-cloud: also measure utilization under the server's scheduler")
    parser.add_argument("--server-jobs", type=int, default=32)
    args = parser.parse_args()
    dtype = torch.float16 if args.device.startswith("cuda") else torch.float32
    print(f"device {args.device} ({torch.cuda.get_device_name(0) if args.device.startswith('cuda') else 'CPU'}), size {args.size}, "
          f"{args.steps} steps, {dtype}", flush=True)
    bases = args.bases.split(",")
    folders = {}
    for base in bases:
        started = time.perf_counter()
        folders[base] = build(base, args.size, args.folder)
        print(f"{base}: built in {time.perf_counter() - started:.1f} s at {folders[base]}", flush=True)
    config = WorkerConfig.from_dict({"models": {base: {"path": folders[base], "base": base} for base in bases}})
    for base in bases:
        pipelines = Pipelines(config, device=args.device, dtype=dtype, capacity=1)
        side = SIZES[(base, args.size)]
        for batch in (int(b) for b in args.batches.split(",")):
            rate = images_per_second(pipelines, base, side, args.steps, batch, args.device, args.repeats)
            print(f"{base} {side}x{side}, batch {batch}: {rate:.3f} images/s", flush=True)
        del pipelines
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    if len(bases) > 1:
        warm = switch_seconds(config, bases, args.device, dtype, capacity=len(bases), rounds=6)
        cold = switch_seconds(config, bases, args.device, dtype, capacity=1, rounds=4)
        print(f"model switch: {warm:.4f} s with the LRU warm, {cold:.2f} s cold (from disk)", flush=True)
    if args.server_bin:
        base = bases[0]
        with tempfile.TemporaryDirectory() as work:
            # The catalogue's smallest sizes (256 for sd15, 512 for sdxl) bound what the server accepts.
            side = max(SIZES[(base, args.size)], 256 if base == "sd15" else 512)
            print(utilization_under_server(os.path.abspath(args.server_bin), folders[base], base, side, args.steps,
                                           args.device, args.server_jobs, work), flush=True)


if __name__ == "__main__":
    main()
