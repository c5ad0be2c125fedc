#!/usr/bin/env bash
# Mutation testing: does the suite notice when the code is wrong?
#
#   bash scripts/mutation.sh            # full run, then the summary
#   bash scripts/mutation.sh results    # the summary of the last run again
#
# mutmut (`pip install -e '.[dev]'`) copies src/ and tests/ into ./mutants (git-ignored), changes
# one thing at a time in the five modules named under [tool.mutmut] in pyproject.toml (fusion,
# the daily feed, merge precedence, session/redirects, metrics) and runs the tests that reach the
# changed function. A "survived" mutant is a change no test noticed: either an equivalent change
# (same behaviour) or a missing test. Not part of CI: 7 to 13 minutes on 2 cores (about 950 mutants).
# `.venv/bin/mutmut show <name>` prints a mutant's diff; `.venv/bin/mutmut browse` is interactive.
set -euo pipefail
cd "$(dirname "$0")/.."
MUTMUT=.venv/bin/mutmut
if [ ! -x "$MUTMUT" ]; then
  echo "mutmut is not installed: .venv/bin/pip install -e '.[dev]'" >&2
  exit 2
fi
# the tests run from ./mutants/tests, so point them at the real data folder explicitly
export PAPERSIFT_SHARED_DATA="${PAPERSIFT_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
# a skip is not a failure here (CI's rule, tests/conftest.py, is for the real suite)
unset CI

summary() {
  # one line per mutant that no test killed, then the counts
  "$MUTMUT" results --all true 2>/dev/null | grep -v ': killed$' || true
  "$MUTMUT" results --all true 2>/dev/null | awk -F': ' '{n[$NF]++} END {for (k in n) printf "%s: %d\n", k, n[k]}' | sort
}

if [ "${1:-run}" = results ]; then
  summary
  exit 0
fi
rm -rf mutants  # a fresh copy: mutmut reuses stale mutants otherwise
# bounded: at most 2 workers, and mutmut's own timeout kills a mutant that loops
timeout 1200 "$MUTMUT" run --max-children "${MUTMUT_CHILDREN:-2}"
summary
