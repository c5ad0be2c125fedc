"""The command line: ``papersift ...`` (typer + rich), a thin layer over the front door.

``common`` holds the root ``app`` and the shared helpers; each topic module registers its
commands on that app when imported here (the order below is the order ``--help`` lists them).
"""

# The order of registration is the order of --help (papers' commands and arxiv, the serving ones, then the
# groups ingest, admin, digest), so these imports keep this order rather than the alphabet's.
# isort: off
from papersift.cli import papers, arxiv, export, serve, admin, digest, recs, mcp, migrate  # noqa: F401  (importing registers the commands)
from papersift.cli.common import app, main
# isort: on

__all__ = ["app", "main"]
