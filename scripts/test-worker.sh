#!/usr/bin/env bash
# The diffusers worker's tests (workers/diffusers) on CPU with tiny random models: its own virtual
# environment under .build-tools/ (made again when pyproject.toml changes), then pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages python3 python3-venv
worker="$MUSE_ROOT/workers/diffusers"
venv="$MUSE_ROOT/.build-tools/diffusers-worker"
stamp="$(sha256sum "$worker/pyproject.toml" | cut -c1-16)"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  started=$SECONDS
  "$venv/bin/pip" install --quiet -e "$worker[test]"
  echo "diffusers worker environment: installed in $((SECONDS - started)) s, $(du -sh "$venv" | cut -f1)"
  echo "$stamp" > "$venv/.stamp"
fi
# No hub: every model is built by the tests or read from local paths.
cd "$worker"
HF_HUB_OFFLINE=1 "$venv/bin/python" -m pytest -q
