"""`python -m muse_diffusers`: one worker process per GPU. Registers with the Muse server, serves
the worker protocol, and on SIGTERM finishes its jobs, leaves the server's list and exits."""
import argparse
import asyncio
import logging
import os
import signal
import socket

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub at run time: models are local paths

from aiohttp import web  # noqa: E402

import torch  # noqa: E402

from .config import WorkerConfig  # noqa: E402
from .dataset_jobs import DatasetWork  # noqa: E402
from .generate import Assets  # noqa: E402
from .loras import LoraFiles  # noqa: E402
from .pipelines import Pipelines  # noqa: E402
from .server import Worker  # noqa: E402
from .tag import Captioner  # noqa: E402
from .transfer import Server  # noqa: E402


def arguments():
    parser = argparse.ArgumentParser(prog="python -m muse_diffusers", description=__doc__)
    parser.add_argument("--config", required=True,
                        help="TOML file: [models.<key>] path = …, base = sd15|sdxl; [loras] <key> = path; [captioner] path = …")
    parser.add_argument("--server", required=True, help="the Muse server's URL, e.g. http://127.0.0.1:8080")
    token = parser.add_mutually_exclusive_group(required=True)
    token.add_argument("--token")
    token.add_argument("--token-file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--public-url", help="where the server reaches this worker (default http://HOST:PORT)")
    parser.add_argument("--worker-id", default=f"diffusers-{socket.gethostname()}")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--max-batch", type=int, default=1)
    parser.add_argument("--pipelines", type=int, default=2, help="pipelines kept loaded (least recently used out)")
    parser.add_argument("--memory-budget-mb", type=int, help="weights the loaded pipelines may hold together (default: no budget)")
    parser.add_argument("--max-adapters", type=int, default=8, help="LoRA adapters kept loaded per pipeline")
    parser.add_argument("--lora-cache", default=os.path.expanduser("~/.cache/muse-diffusers/loras"),
                        help="where LoRAs fetched from the server are kept")
    parser.add_argument("--train-slots", type=int, default=1, help="crop, tag and training jobs run at once")
    parser.add_argument("--no-training", action="store_true", help="generation only: no crop, tag or train ability")
    return parser.parse_args()


async def main():
    args = arguments()
    token = args.token or open(args.token_file).read().strip()
    config = WorkerConfig.load(args.config)
    dtype = torch.float16 if args.device.startswith("cuda") else torch.float32
    pipelines = Pipelines(config, device=args.device, capacity=args.pipelines, dtype=dtype, max_adapters=args.max_adapters,
                          memory_budget=args.memory_budget_mb << 20 if args.memory_budget_mb else None)
    server = Server(args.server, token)
    assets = Assets(lora_path=LoraFiles(config, server, args.lora_cache).path, server=server)
    work = None if args.no_training else DatasetWork(pipelines, server, Captioner(config.captioner, args.device))
    worker = Worker(pipelines, token, args.server, args.worker_id, args.public_url or f"http://{args.host}:{args.port}",
                    slots=args.slots, max_batch=args.max_batch, assets=assets, work=work, train_slots=args.train_slots)
    await worker.start()
    runner = web.AppRunner(worker.app())
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    logging.info("serving on %s:%d", args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await worker.drain()
    await runner.cleanup()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main())
