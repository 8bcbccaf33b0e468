#!/usr/bin/env bash
# Set everything up and run the service on the embedded defaults (SQLite, in-process cache).
# When no model bundle exists yet, generate the corpus and train a bundle first (17-25 minutes).
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
  echo "[2/2] training the model bundle: the CPU preset fine-tunes the encoder (17-25 minutes" >&2
  echo "      on 2 cores; progress bars below; interrupted, the same command resumes)..." >&2
  autoreply train --config training/configs/corpus_cpu.json --out "$AUTOREPLY_BUNDLE_DIR" > /dev/null
  echo "bundle ready; starting the service." >&2
fi
exec autoreply serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
