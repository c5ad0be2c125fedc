"""The benchmarks' one entry point, run from the repository root.

    python -m bench list                      # every benchmark: what it needs, what it measures
    python -m bench run NAME [ARGS...]        # one benchmark (``run NAME --help`` for its options)
    python -m bench check [--only NAMES]      # the quality numbers against bench/expected.toml

``run`` prints the benchmark's result as one JSON line and writes it, stamped with the commit, machine,
load average and package versions, to ``bench/results/NAME-YYYYMMDD-HHMMSS.json`` (``--results DIR``
elsewhere). A benchmark whose corpus is missing builds it first (``run corpus80k``, ``run million_corpus``).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
import time
from pathlib import Path

from bench import check
from bench.common import RESULTS, UsageError, stamp, write_result

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "__main__", "common", "check"}


def benchmarks() -> dict[str, dict]:
    """Every module of bench/ with a ``main``: its first docstring line and what it needs (``NEEDS``), read
    from the source so that listing imports nothing (some need packages only their run installs)."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem in NOT_BENCHMARKS:
            continue
        tree = ast.parse(path.read_text())
        if not any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            continue
        needs = next((node.value.value for node in tree.body if isinstance(node, ast.Assign)
                      and any(getattr(t, "id", None) == "NEEDS" for t in node.targets)
                      and isinstance(node.value, ast.Constant)), "")
        found[path.stem] = {"about": (ast.get_docstring(tree) or "").splitlines()[0], "needs": needs}
    return found


def list_command() -> int:
    for name, info in benchmarks().items():
        print(f"{name:18s} {info['about']}")
        if info["needs"]:
            print(f"{'':18s}   needs: {info['needs']}")
    return 0


def run_command(name: str, argv: list[str], results: Path) -> int:
    if name not in benchmarks():
        raise UsageError(f"no benchmark {name!r}: `python -m bench list` shows them")
    module = importlib.import_module(f"bench.{name}")
    before, started = stamp(), time.perf_counter()
    result = module.main(argv)
    if result is None:  # a helper mode (a worker process, --help): nothing to record
        return 0
    path = write_result(name, ["python -m bench run", name, *argv], result, before, time.perf_counter() - started,
                        results)
    print(json.dumps(result, default=str))
    print(f"written to {path}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    first, rest = __doc__.split("\n", 1)
    top = argparse.ArgumentParser(prog="python -m bench", description=first, epilog=rest,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--results", type=Path, default=RESULTS, help="where results are written (default bench/results)")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every benchmark and what it needs")
    one = sub.add_parser("run", help="run one benchmark", add_help=False)
    one.add_argument("name")
    one.add_argument("args", nargs=argparse.REMAINDER)
    check.add_arguments(sub.add_parser("check", help="compare the quality numbers with bench/expected.toml"))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "list":
            return list_command()
        if args.command == "run":
            return run_command(args.name, args.args, args.results)
        return check.run(args)
    except UsageError as exc:
        print(f"python -m bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
