#!/usr/bin/env bash
# The diffusers worker with the real server: muse-cloud (the embedded default) and one worker
# serving a tiny random SD pipeline as sd15-base (and a tiny captioner), on loopback; a generation
# is submitted, its progress followed on SSE, and its PNG read back with its parameters; then a
# dataset is cropped, tagged and trained into a LoRA that a generation uses
# (workers/diffusers/e2e/training_flow.py). Needs the worker's
# environment (scripts/test-worker.sh makes it) and a built muse-cloud (BIN_DIR, else debug).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

python="$MUSE_ROOT/.build-tools/diffusers-worker/bin/python"
bin="${BIN_DIR:-${TEST_BIN_DIR:-$(swift build --show-bin-path)}}"
[ -x "$python" ] || { echo "no worker environment: run scripts/test-worker.sh first" >&2; exit 1; }
[ -x "$bin/muse-cloud" ] || { echo "no muse-cloud in $bin: build it first" >&2; exit 1; }
work="$(mktemp -d /tmp/muse-worker-e2e.XXXXXX)"
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1

(cd workers/diffusers/tests && "$python" -c "import sys; from tiny import build, build_captioner; build(sys.argv[1]); build_captioner(sys.argv[1])" \
  "$work/models") >/dev/null 2>&1
printf '[models.sd15-base]\npath = "%s/models/tiny-sd"\nbase = "sd15"\n[captioner]\npath = "%s/models/tiny-blip"\n' "$work" "$work" \
  > "$work/models.toml"
port="$(free_port)"
worker_port="$(free_port)"
key="$("$bin/muse-cloud" keys create --tenant e2e --data-dir "$work/data" | grep -o 'mk_[0-9a-f]*' | tail -n 1)"
"$bin/muse-cloud" serve --port "$port" --data-dir "$work/data" > "$work/server.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
(cd workers/diffusers && PYTHONPATH=src "$python" -m muse_diffusers --config "$work/models.toml" --server "http://127.0.0.1:$port" \
  --token-file "$work/data/worker-token" --port "$worker_port" --worker-id e2e --lora-cache "$work/loras" > "$work/worker.log" 2>&1 &)

auth=(-H "Authorization: Bearer $key")
started=$SECONDS
id="$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/generations" \
  -d '{"model":"sd15-base","prompt":"a red fox","width":256,"height":256,"steps":4,"seed":7}' | "$python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
# The stream ends after the final event; a worker still loading its first model takes a while.
curl -sN --max-time 300 "${auth[@]}" "http://127.0.0.1:$port/v1/generations/$id/events" > "$work/events.txt" || true
progress="$(grep -c '^event: progress' "$work/events.txt" || true)"
grep -q '^event: succeeded' "$work/events.txt" || { echo "no succeeded event:"; cat "$work/events.txt" "$work/worker.log" | tail -30; exit 1; }
image="$(curl -sf "${auth[@]}" "http://127.0.0.1:$port/v1/generations/$id" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["url"])')"
curl -sf "${auth[@]}" "http://127.0.0.1:$port$image" -o "$work/out.png"
"$python" - "$work/out.png" <<'PY'
import sys
from PIL import Image
image = Image.open(sys.argv[1])
assert image.size == (256, 256), image.size
assert "Seed: 7" in image.text["parameters"], image.text
PY
echo "worker e2e: generation succeeded through muse-cloud and the diffusers worker in $((SECONDS - started)) s, $progress progress events on SSE, a 256x256 PNG with its parameters"

"$python" workers/diffusers/e2e/training_flow.py "http://127.0.0.1:$port" "$key" \
  || { echo "the training path failed:"; tail -30 "$work/worker.log"; exit 1; }
