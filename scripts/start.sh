#!/usr/bin/env bash
# Quick start: install, load papers (live sources, else ../shared/data), index, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/papersift start "$@"
