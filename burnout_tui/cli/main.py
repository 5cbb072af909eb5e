"""The `burnout-tui` command line: the group, its global options and the registration of
the commands, each declared beside its body in its own module (`cli/analyze.py`, ...).

Every heavy import (ONNX Runtime, OpenCV, DuckDB, Textual, Rich) happens inside the
command that needs it, so `burnout-tui --help` and shell completion stay instant, and
headless commands never load the TUI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from burnout_tui import __version__
from burnout_tui.cli.analyze import analyze
from burnout_tui.cli.calibrate import calibrate
from burnout_tui.cli.context import CliState
from burnout_tui.cli.export import export
from burnout_tui.cli.forget import forget
from burnout_tui.cli.monitor import monitor
from burnout_tui.cli.plugins import plugins
from burnout_tui.cli.report import report_group
from burnout_tui.cli.survey import survey
from burnout_tui.cli.train import train
from burnout_tui.errors import UserError
from burnout_tui.file_modes import PRIVATE_UMASK


class FriendlyGroup(click.Group):
    """Turns UserError, and DuckDB errors that mean the database file itself failed (a
    damaged block read mid-command), into click's one-line `Error: ...`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as error:
            raise click.ClickException(str(error)) from error
        except Exception as error:
            failure = _storage_failure(ctx, error)
            if failure is None:
                raise
            raise click.ClickException(str(failure)) from error


def _storage_failure(ctx: click.Context, error: Exception) -> UserError | None:
    if "duckdb" not in sys.modules:
        return None
    from burnout_tui.store.database import storage_failure

    state = ctx.find_object(CliState)
    return storage_failure(error, state.db if state is not None else None)


@click.group(
    cls=FriendlyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="burnout-tui")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default lookup: ./burnout-tui.toml, pyproject.toml, user config dir).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Camera-based burnout / prolonged-stress proxy, checked against validated surveys.

    A research tool, not a diagnosis.
    """
    if config_path is not None and not config_path.is_file():
        raise click.ClickException(f"no such config file: {config_path}")
    ctx.obj = CliState(config_path)
    if ctx.invoked_subcommand is None:
        ctx.invoke(monitor)


cli.add_command(analyze)
cli.add_command(calibrate)
cli.add_command(export)
cli.add_command(forget)
cli.add_command(monitor)
cli.add_command(plugins)
cli.add_command(report_group)
cli.add_command(survey)
cli.add_command(train)


def main() -> None:
    """SIGTERM and SIGHUP unwind every command like Ctrl-C (its rollbacks run) and end it
    with one line and exit 128 + the signal's number; the monitor quits like `q` instead."""
    from burnout_tui.interrupts import Interrupted, raise_on_termination

    os.umask(PRIVATE_UMASK)
    raise_on_termination()
    try:
        cli(prog_name="burnout-tui")
    except Interrupted as interrupted:
        click.echo(f"Error: {interrupted}", err=True)
        sys.exit(interrupted.exit_code)
