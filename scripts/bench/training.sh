#!/usr/bin/env bash
# Training figures (scripts/bench/training-bench.py says what each is): submit → first step,
# status-update lag (worker report → API and SSE) p50/p99, upload throughput of 100 × 2 MB PNGs,
# the server's memory while 40 uploads of 19 MB arrive at once,
# and what happens when the server is killed at each stage. Prints one JSON line.
#   scripts/bench/training.sh            # release build
#   BIN_DIR=.build/debug STAGES=kill KEEP=1 scripts/bench/training.sh   # some stages, logs kept
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [ -z "${BIN_DIR:-}" ]; then
  swift build -c release --product muse-cloud >&2
  swift build -c release --product muse-worker-sim >&2
  BIN_DIR="$(swift build -c release --show-bin-path)"
fi
work="$(mktemp -d /tmp/muse-training-bench.XXXXXX)"
# KEEP=1 keeps the work directory (the server's and workers' logs) for a look afterwards.
trap 'pkill -f "$work" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
python3 scripts/bench/training-bench.py "$(cd "$BIN_DIR" && pwd)" "$work"
[ -z "${KEEP:-}" ] || echo "logs kept in $work" >&2
