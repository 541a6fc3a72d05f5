#!/usr/bin/env bash
# Link the eval split into a folder for `degrade-stream sweep/evaluate --real`: bash make_eval_folder.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
grep -v '^#' "$here/lq_natural_eval.txt" | while read -r rel; do ln -sf "$here/$rel" "$1/$(basename "$rel")"; done
