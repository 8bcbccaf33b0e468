#!/usr/bin/env bash
# Train on a lent GPU machine and pack the bundle into what that machine can return (at most 8
# files of 16 MiB, 64 MiB in all): fp16 weight parts, one archive of the small files, pack.json.
#
#   scripts/gpu_train.sh CONFIG OUTDIR [autoreply train options, e.g. --set data_dir=DIR]
#
# OUTDIR is the machine's $OUT (empty). The bundle itself is written under $WORK_DIR
# (default var/gpu-run), so a rerun on a still-warm machine resumes from its checkpoints. At home:
#   autoreply bundles unpack OUTDIR --out var/bundles/NAME
# Python: $PYTHON, else .venv/bin/python, else python3 (run from the checkout, not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG OUTDIR [autoreply train options]" >&2
    exit 2
fi
config=$1 out=$2
shift 2
default_python=python3
[ -x .venv/bin/python ] && default_python=.venv/bin/python
python=${PYTHON:-$default_python}
work=${WORK_DIR:-var/gpu-run}
if ! "$python" -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
    echo "$0: no CUDA device visible to $python; ALLOW_CPU=1 trains on the CPU anyway" >&2
    [ "${ALLOW_CPU:-0}" = 1 ] || exit 2
fi
"$python" -m cli train --config "$config" --out "$work/bundle" --set device=auto \
    --set progress=false "$@"
"$python" -m cli bundles pack "$work/bundle" --out "$out"
