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


def _non_blank_user(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A blank name would be stored as a person nobody can select again; refuse it here,
    once for every command, as one line rather than the store's ValueError traceback."""
    if value is not None and not value.strip():
        raise click.ClickException("--user must not be blank: give the person's name")
    return value


def user_option(help_text: str, *, required: bool = False) -> Decorator:
    """`--user NAME`, never blank; `default` when not required."""
    if required:
        return click.option("--user", required=True, callback=_non_blank_user, help=help_text)
    return click.option(
        "--user", default="default", show_default=True, callback=_non_blank_user, help=help_text
    )
