#!/usr/bin/env bash
# Set everything up and run the service on the embedded defaults (SQLite, in-process cache).
# When no model bundle exists yet, generate the corpus and train a quick bundle first (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
export AUTOREPLY_BUNDLE_DIR="${AUTOREPLY_BUNDLE_DIR:-var/bundles/current}"
if [ ! -f "$AUTOREPLY_BUNDLE_DIR/bundle.json" ]; then
  [ -f var/corpus/train.jsonl ] || autoreply data generate --n 30000 --seed 0 --out var/corpus
  autoreply train --config training/configs/corpus.json --quick --out "$AUTOREPLY_BUNDLE_DIR" --set progress=false
fi
exec autoreply serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
