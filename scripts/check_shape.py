"""The code's shape, checked in CI: no import cycle and no function over 60 lines (failures), and a
warning for a module over 400 lines.

    .venv/bin/python scripts/check_shape.py        # exit 1 and a list when a cycle or a long function is found

The module cap is a prompt to look, not a target: a module is split where it holds two things, never
to fit a line count, so a long module that holds one thing only prints a warning (exit 0).

Import cycles are found on the real import graph (grimp, the library import-linter is built on),
module to module, including imports inside functions: a late import that hides a cycle is still one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "papersift"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def import_cycles(graph) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def long_modules() -> list[str]:
    warnings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            warnings.append(f"warning: {path.relative_to(ROOT)}: {lines} lines (over {MAX_MODULE_LINES}: does it hold "
                            "two things?)")
    return warnings


def long_functions() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        rel = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    problems.append(f"{rel}:{node.lineno} {node.name}: {length} lines (at most {MAX_FUNCTION_LINES})")
    return problems


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    graph = grimp.build_graph("papersift", include_external_packages=False)
    cycles = import_cycles(graph)
    problems = [f"import cycle: {' <-> '.join(group)}" for group in cycles] + long_functions()
    warnings = long_modules()
    for line in problems + warnings:
        print(line)
    print(f"{len(graph.modules)} modules, {len(cycles)} import cycles, {len(problems)} problems, "
          f"{len(warnings)} warnings")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
