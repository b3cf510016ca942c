# Shared by the scripts: the repo root, apt installs, the Swift toolchain on PATH.
# Sourced, not run.

MUSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The C libraries the package links and the servers the tests talk to.
MUSE_BUILD_PACKAGES=(pkg-config libpq-dev libhiredis-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev zlib1g-dev)
MUSE_TEST_PACKAGES=(postgresql redis-server curl python3 python3-venv)

# Installs whichever of the named Debian packages are missing; runs apt-get update once.
ensure_apt_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Puts swift on PATH when it is installed but not found (the toolchain lives in /opt/swift here).
ensure_swift() {
  if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
      export PATH="/opt/swift/usr/bin:$PATH"
    else
      echo "swift 6.x is required (not found on PATH or in /opt/swift)" >&2
      exit 1
    fi
  fi
}

# A TCP port nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The diffusers worker's virtual environment (workers/diffusers), made again when its
# pyproject.toml changes; prints nothing when it is current. Sets MUSE_WORKER_PYTHON.
ensure_worker_env() {
  ensure_apt_packages python3 python3-venv
  local worker="$MUSE_ROOT/workers/diffusers"
  local venv="$MUSE_ROOT/.build-tools/diffusers-worker"
  local stamp
  stamp="$(sha256sum "$worker/pyproject.toml" | cut -c1-16)"
  if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    local started=$SECONDS
    "$venv/bin/pip" install --quiet -e "$worker[test]"
    echo "diffusers worker environment: installed in $((SECONDS - started)) s, $(du -sh "$venv" | cut -f1)"
    echo "$stamp" > "$venv/.stamp"
  fi
  MUSE_WORKER_PYTHON="$venv/bin/python"
}
