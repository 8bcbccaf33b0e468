#!/usr/bin/env bash
# Set everything up and run the service on the embedded defaults (SQLite, in-process cache).
# When no model bundle exists yet, generate the corpus and train a quick bundle first (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
export AUTOREPLY_BUNDLE_DIR="${AUTOREPLY_BUNDLE_DIR:-var/bundles/current}"
if [ ! -f "$AUTOREPLY_BUNDLE_DIR/bundle.json" ]; then
  echo "First run: no model bundle at $AUTOREPLY_BUNDLE_DIR yet." >&2
  if [ ! -f var/corpus/train.jsonl ]; then
    echo "[1/2] generating the synthetic ticket corpus into var/corpus (~10 s)..." >&2
    autoreply data generate --n 30000 --seed 0 --out var/corpus > /dev/null
  fi
  echo "[2/2] training a quick bundle (frozen encoder; about 5 minutes on 2 cores, bars below)..." >&2
  autoreply train --config training/configs/corpus.json --quick --out "$AUTOREPLY_BUNDLE_DIR" > /dev/null
  echo "bundle ready; starting the service." >&2
fi
exec autoreply serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
