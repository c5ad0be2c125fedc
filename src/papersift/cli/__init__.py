"""The command line: ``papersift ...`` (typer + rich), a thin layer over the front door."""

from papersift.cli.main import app, main

__all__ = ["app", "main"]
