#!/usr/bin/env bash
# The GPU check in one command (see benchmarks/gpu_check.py for the parts and what they write).
#   benchmarks/gpu_check.sh [--out DIR] [--quick] [--recipe NAME] [--only PART,...] ...
# Uses .venv/bin/python when there is one, else $PYTHON or python3. Wheels in .whl/ (e.g. torchdata,
# for a machine whose Python lacks it) are installed into a temp folder first, without the network.
set -u
cd "$(dirname "$0")/.." || exit 2
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if compgen -G ".whl/*.whl" >/dev/null; then
  SITE="$(mktemp -d /tmp/gpu_check_site.XXXXXX)"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" .whl/*.whl || exit 2
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" benchmarks/gpu_check.py "$@"
