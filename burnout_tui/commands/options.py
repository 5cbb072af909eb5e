"""Click options shared by several commands, declared once so flags and help never drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DB_ENV = "BURNOUT_TUI_DB"

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def database_option(help_text: str) -> Decorator:
    """`--db PATH` (or BURNOUT_TUI_DB); None means the config's `store.path`."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=DB_ENV,
        default=None,
        help=f"{help_text} (default: store.path in the config, ./sessions.duckdb; env {DB_ENV}).",
    )


db_option = database_option("DuckDB file")
