#!/usr/bin/env bash
# Runs Muse on the embedded default: on a fresh Debian 12 machine (as root) installs what is
# missing, builds release, and starts muse-cloud at 127.0.0.1:8080 with its data in ./data.
# Extra arguments go to `muse-cloud serve` (e.g. --port 9000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$MUSE_ROOT"

ensure_apt_packages "${MUSE_BUILD_PACKAGES[@]}" curl
ensure_swift

swift build -c release --product muse-cloud
bin="$(swift build -c release --show-bin-path)"
echo "starting muse-cloud on the embedded default: http://127.0.0.1:8080 (Ctrl-C stops it)"
echo "try: curl -s http://127.0.0.1:8080/healthz"
exec "$bin/muse-cloud" serve --host 127.0.0.1 --port 8080 --data-dir "$MUSE_ROOT/data" "$@"
