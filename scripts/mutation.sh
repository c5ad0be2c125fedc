#!/usr/bin/env bash
# Mutation testing: does the suite notice when the code is wrong?
#
#   bash scripts/mutation.sh groups                  # the groups and what each mutates
#   bash scripts/mutation.sh run [GROUP]             # one group (default: core), then its summary
#   bash scripts/mutation.sh run GROUP MUTANT...     # only those mutants again (after a new test)
#   bash scripts/mutation.sh results [GROUP]         # the summary of a group's last run again
#
# mutmut (`pip install -e '.[dev]'`) copies src/ and tests/ into a group's ./mutants, changes one thing
# at a time in the group's modules and runs the tests that reach the changed function. A "survived"
# mutant is a change no test noticed: either an equivalent change (same behaviour) or a missing test.
# The groups are in pyproject.toml: "core" is [tool.mutmut] itself (fusion, the daily feed, merge
# precedence, session/redirects, metrics: 7 to 13 minutes with 2 workers, about 950 mutants); the others
# are [tool.papersift.mutation.GROUP] and run in build/mutation/GROUP (git-ignored), each with its own
# mutants and results, so groups run one at a time and their results stay side by side. Not part of
# CI. `cd build/mutation/GROUP && ../../../.venv/bin/mutmut show NAME` prints a mutant's diff.
# MUTMUT_CHILDREN: parallel workers (default 1: on a shared 2-core machine the other core is others').
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
MUTMUT=$ROOT/.venv/bin/mutmut
if [ ! -x "$MUTMUT" ]; then
  echo "mutmut is not installed: .venv/bin/pip install -e '.[dev]'" >&2
  exit 2
fi
# the tests run from ./mutants/tests, so point them at the real data folder explicitly
export PAPERSIFT_SHARED_DATA="${PAPERSIFT_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
# a skip is not a failure here (CI's rule, tests/conftest.py, is for the real suite)
unset CI

command=${1:-run}
group=${2:-core}
shift $(( $# > 2 ? 2 : $# ))  # what is left: mutant names

groups() {
  "$PY" - <<'EOF'
import tomllib
tool = tomllib.load(open("pyproject.toml", "rb"))["tool"]
print("core:", " ".join(tool["mutmut"]["only_mutate"]))
for name, group in tool["papersift"]["mutation"].items():
    print(f"{name}:", " ".join(group["only_mutate"]), "<-", " ".join(group["tests"]))
EOF
}

# A group's folder: its own pyproject.toml ([tool.mutmut] with the group's modules and tests), and
# src/ and tests/ as links to the real ones, which mutmut copies into the folder's ./mutants.
prepare() {
  local dir=build/mutation/$1
  mkdir -p "$dir"
  ln -sfn ../../../src "$dir/src"
  ln -sfn ../../../tests "$dir/tests"
  "$PY" - "$1" "$dir/pyproject.toml" <<'EOF'
import json, sys, tomllib
name, out = sys.argv[1], sys.argv[2]
tool = tomllib.load(open("pyproject.toml", "rb"))["tool"]
settings = dict(tool["mutmut"])
group = tool["papersift"]["mutation"].get(name)
if group is None:
    print(f"error: no mutation group {name!r}: see `bash scripts/mutation.sh groups`", file=sys.stderr)
    sys.exit(2)
settings.update(only_mutate=group["only_mutate"], pytest_add_cli_args_test_selection=group["tests"],
                pytest_add_cli_args=group.get("pytest_args", settings.get("pytest_add_cli_args", [])))
with open(out, "w") as handle:
    handle.write(f"# written by scripts/mutation.sh from ../../../pyproject.toml (group {name})\n[tool.mutmut]\n")
    for key, value in settings.items():
        handle.write(f"{key} = {json.dumps(value)}\n")
EOF
}

# PostgreSQL: one server for the whole run (tests/pg_support.py would start one per mutant)
start_postgres() {
  local running
  running=$("$PY" -c "from tests.pg_support import PgServer, find_bin; s = PgServer(find_bin()); print(f'{s.root}:{s.port}')")
  export PAPERSIFT_PG_RUNNING=$running
  trap '"$PY" -c "from tests.pg_support import running_server; running_server().close()"' EXIT
}

summary() {
  # one line per mutant that no test killed, then the counts
  "$MUTMUT" results --all true 2>/dev/null | grep -v ': killed$' || true
  "$MUTMUT" results --all true 2>/dev/null | awk -F': ' '{n[$NF]++} END {for (k in n) printf "%s: %d\n", k, n[k]}' | sort
}

case $command in
  groups) groups ;;
  results)
    [ "$group" = core ] || { prepare "$group"; cd "build/mutation/$group"; }
    summary ;;
  run)
    if [ "$group" != core ]; then
      prepare "$group"
      [ "$group" = store ] && start_postgres
      cd "build/mutation/$group"
    fi
    [ $# -gt 0 ] || rm -rf mutants  # a fresh copy: mutmut reuses stale mutants otherwise
    # bounded: mutmut's own timeout kills a mutant that loops; the whole run by MUTATION_TIMEOUT
    timeout "${MUTATION_TIMEOUT:-36000}" "$MUTMUT" run --max-children "${MUTMUT_CHILDREN:-1}" "$@"
    summary ;;
  *) echo "error: unknown command ${command@Q}: use groups, run [GROUP [MUTANT...]] or results [GROUP]" >&2; exit 2 ;;
esac
