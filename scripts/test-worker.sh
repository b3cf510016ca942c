#!/usr/bin/env bash
# The diffusers worker's tests (workers/diffusers) on CPU with tiny random models: its own virtual
# environment under .build-tools/ (made again when pyproject.toml changes), then pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

ensure_worker_env
# No hub: every model is built by the tests or read from local paths.
cd "$MUSE_ROOT/workers/diffusers"
HF_HUB_OFFLINE=1 "$MUSE_WORKER_PYTHON" -m pytest -q
