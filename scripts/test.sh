#!/usr/bin/env bash
# The whole test suite, as CI runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# the architecture (docs/ARCHITECTURE.md), lint, types and the code's shape first: seconds, and a clear message
PYTHONPATH=src .venv/bin/lint-imports --no-cache
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy  # src/papersift, as [tool.mypy] in pyproject.toml says
.venv/bin/python scripts/check_shape.py
# In parallel (pytest-xdist), one test file per worker: a file's module-scoped site is built once.
# TEST_WORKERS=0 runs in one process. On a clone without ../shared/data the tests marked shared_data are
# left out, and the last line says how many (tests/conftest.py); under CI=true they fail instead.
exec .venv/bin/python -m pytest -q -n "${TEST_WORKERS:-auto}" --dist loadfile "$@"
