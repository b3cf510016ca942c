#!/usr/bin/env bash
# Runs Muse on the embedded default: on a fresh Debian 12 machine (as root) installs what is
# missing, builds release, starts muse-cloud (or, with `internal` as the first argument,
# muse-internal) at 127.0.0.1:8080 with its data in ./data (./data-internal), two simulated GPU
# workers beside it, makes a demo credential (an API key; a development SSO token), and prints a
# curl that generates an image. Ctrl-C (or SIGTERM) stops all three. Extra arguments go to `serve`.
#
# `--worker diffusers [--worker-config FILE]` starts the real diffusers worker instead (one, on the
# GPU when torch sees one, else the CPU), serving the models FILE names (default
# config/diffusers-worker.toml: point its paths at your model folders); its virtual environment is
# made under .build-tools/ the first time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" curl
ensure_swift

profile=cloud
if [ "${1:-}" = internal ] || [ "${1:-}" = cloud ]; then profile="$1"; shift; fi
worker=sim
worker_config="$MUSE_ROOT/config/diffusers-worker.toml"
while [ $# -gt 0 ]; do
  case "$1" in
    --worker) worker="${2:?--worker sim|diffusers}"; shift 2 ;;
    --worker-config) worker_config="$(cd "$(dirname "${2:?--worker-config FILE}")" && pwd)/$(basename "$2")"; shift 2 ;;
    *) break ;;
  esac
done
case "$worker" in
  sim) ;;
  diffusers)
    [ -f "$worker_config" ] || { echo "no worker config at $worker_config" >&2; exit 1; }
    ensure_worker_env ;;
  *) echo "--worker is sim or diffusers, not $worker" >&2; exit 1 ;;
esac
server="muse-$profile"
swift build -c release --product "$server"
swift build -c release --product muse-worker-sim
bin="$(swift build -c release --show-bin-path)"
data="$MUSE_ROOT/data"
[ "$profile" = internal ] && data="$MUSE_ROOT/data-internal"
port=8080

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/$server" serve --host 127.0.0.1 --port "$port" --data-dir "$data" "$@" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "$server did not start" >&2; exit 1; }

if [ "$worker" = diffusers ]; then
  (cd workers/diffusers && HF_HUB_OFFLINE=1 PYTHONPATH=src exec "$MUSE_WORKER_PYTHON" -m muse_diffusers --config "$worker_config" \
    --server "http://127.0.0.1:$port" --token-file "$data/worker-token" --port 8091 --worker-id diffusers-local \
    --lora-cache "$data/worker-loras") >"$data/worker-8091.log" 2>&1 &
  pids+=($!)
  workers="the diffusers worker (log: $data/worker-8091.log)"
else
  for worker_port in 8091 8092; do
    "$bin/muse-worker-sim" --port "$worker_port" --server "http://127.0.0.1:$port" --token-file "$data/worker-token" \
      --models sd15-base --latency-ms 500 --model-load-ms 2000 --abilities txt2img,img2img,crop,tag,train --train-step-ms 20 \
      >"$data/worker-$worker_port.log" 2>&1 &
    pids+=($!)
  done
  workers="two simulated workers"
fi

if [ "$profile" = internal ]; then
  # A development token (12 h), signed with the key the embedded default made in the data directory.
  key="$("$bin/muse-internal" dev-token --user demo --team demo-team --data-dir "$data")"
  credential="Development SSO token (user \"demo\", team \"demo-team\"; \`muse-internal dev-token --user NAME\` makes more):"
else
  [ -s "$data/demo-key" ] || "$bin/muse-cloud" keys create --tenant demo --data-dir "$data" | tail -n 1 >"$data/demo-key"
  key="$(cat "$data/demo-key")"
  credential="Demo API key (tenant \"demo\"):"
fi

cat <<MSG

$server is running on the embedded default at http://127.0.0.1:$port with $workers
(generation, crop, tag and training; README "Train a LoRA" walks through a training).
$credential
$key

Generate an image:
  curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
    -d '{"model": "sd15-base", "prompt": "a red fox in the snow", "seed": 42}' \\
    http://127.0.0.1:$port/v1/generations

Ctrl-C stops the server and the workers.
MSG
wait "${pids[0]}"
