#!/usr/bin/env bash
# Third-party packages the comparison and plugin tests use: BasicSR 1.4.2, mmagic 1.2.0, diffusers.
# Usage: bash tests/install_frameworks.sh PATH/TO/python   (run from the repository root)
# basicsr and mmagic are installed without their dependency lists, which would otherwise replace the
# pinned CPU torch (basicsr's source build downloads a CUDA torch without --no-build-isolation).
set -euo pipefail
PY=${1:-python3}
cd "$(dirname "$0")/.."
"$PY" -m pip install -q -c constraints.txt opencv-python-headless scipy addict tqdm pyyaml diffusers \
  albumentations matplotlib rich termcolor yapf future lmdb scikit-image
"$PY" -m pip install -q -c constraints.txt --no-deps --no-build-isolation basicsr==1.4.2
"$PY" -m pip install -q -c constraints.txt --no-deps mmagic==1.2.0 mmengine==0.10.7 mmcv-lite==2.1.0
# gfpgan: the face tests load its FFHQDegradationDataset file alone (benchmarks/gfpgan_reference.py), so facexlib
# and the rest of its dependency list are not needed
"$PY" -m pip install -q -c constraints.txt --no-deps gfpgan==1.3.8
