#!/usr/bin/env bash
# The whole test suite, as CI runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# the architecture (docs/ARCHITECTURE.md) and the code's shape first: seconds, and a clear message
PYTHONPATH=src .venv/bin/lint-imports --no-cache
.venv/bin/ruff check src tests bench scripts
.venv/bin/python scripts/check_shape.py
exec .venv/bin/python -m pytest -q "$@"
