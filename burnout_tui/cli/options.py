"""Click options shared by several commands, declared once so flags and help never drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

DB_ENV = "BURNOUT_TUI_DB"
ENCRYPT_META = "burnout_tui.encrypt"
"""Where `--encrypt` is remembered (click's `ctx.meta`, shared by the whole command line):
`CliState.config()` turns it into `store.encrypt`, so it reaches every place the config
goes, the browser tabs of `--serve` included, without a parameter on every command."""

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def database_option(help_text: str) -> Decorator:
    """`--db PATH` (or BURNOUT_TUI_DB), None meaning the config's `store.path`; and
    `--encrypt`, which is not passed to the command (see ENCRYPT_META)."""
    db = click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=DB_ENV,
        default=None,
        help=f"{help_text} (default: store.path in the config, ./sessions.duckdb; env {DB_ENV}).",
    )
    encrypt = click.option(
        "--encrypt",
        is_flag=True,
        expose_value=False,
        callback=_remember_encrypt,
        help="Create the database encrypted (as store.encrypt = true); the key comes from "
        "BURNOUT_TUI_KEY, the system keyring or a prompt. An existing encrypted database "
        "is recognised without it.",
    )

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        return db(encrypt(function))

    return decorate


def _remember_encrypt(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[ENCRYPT_META] = True


def encrypt_requested() -> bool:
    """Whether `--encrypt` was given on this command line (False outside click)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and bool(ctx.meta.get(ENCRYPT_META))


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


DEFAULT_SOURCE = "0"
"""The first camera: what someone running `burnout-tui` with no arguments means."""

source_option = click.option(
    "--source",
    default=DEFAULT_SOURCE,
    show_default=True,
    help="Camera index, /dev/videoN, video file, stream URL, or `demo`.",
)


def multi_user_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--multi-user",
        is_flag=True,
        help="Track every face with its own id and score; tracks map to users user001, ….",
    )(function)


def record_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--record",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="OUT.mp4|OUT.avi",
        help="Also write the video with boxes, ids, emotions and scores drawn (shows faces).",
    )(function)


def checked_record(record: Path | None) -> Path | None:
    """Reject an unusable --record path before any model, source or database opens."""
    if record is None:
        return None
    from burnout_tui.runtime.recording import check_output

    return check_output(record)
