#!/usr/bin/env bash
# Link a split into a folder for `degrade-stream sweep/evaluate --real`:
#   bash make_eval_folder.sh OUT_DIR [LIST]   (LIST defaults to lq_natural_eval.txt; e.g. lq_faces_eval.txt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list=${2:-lq_natural_eval.txt}
mkdir -p "$1"
grep -v '^#' "$here/$list" | while read -r rel; do ln -sf "$here/$rel" "$1/$(basename "$rel")"; done
