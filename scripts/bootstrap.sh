#!/usr/bin/env bash
# Create what panebus needs on a fresh Debian-like machine: tmux (apt-get when missing) and a
# virtualenv in .venv with panebus installed editable plus its test tools.
# Sourced by scripts/demo and scripts/test; safe to run again (it only reinstalls when
# pyproject.toml changed).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v tmux >/dev/null 2>&1; then
  echo "panebus: installing tmux with apt-get" >&2
  need_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
fi

# iproute2 (`ip netns`): the multi-host test (tests/federation/test_netns.py) makes network
# namespaces with it; without it that test runs on loopback addresses instead.
if ! command -v ip >/dev/null 2>&1; then
  echo "panebus: installing iproute2 with apt-get" >&2
  need_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null || \
    echo "panebus: iproute2 not installed; the multi-host test will use loopback" >&2
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "panebus: Python 3.10 or newer is required ($PY is $("$PY" -V 2>&1))" >&2
  exit 1
fi
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "panebus: installing python3-venv with apt-get" >&2
  need_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi

STAMP="$VENV/.panebus-installed"
WANT="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "panebus: preparing $VENV" >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  # compat mode: a plain .pth path entry instead of setuptools' import finder, which costs
  # ~30 ms on every start (the Claude statusLine hook runs on every prompt, within 100 ms).
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    --config-settings editable_mode=compat -e "$REPO[dev]"
  echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
