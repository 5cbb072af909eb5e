"""`burnout-tui monitor` (also what a bare `burnout-tui` runs): the live TUI, or with `--serve`
the same app in a web browser. Textual and the runtime are imported inside the command, so
`--help` never loads them."""

from __future__ import annotations

from pathlib import Path

import click

from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import (
    checked_record,
    db_option,
    multi_user_option,
    record_option,
    source_option,
    user_option,
)


@click.command()
@source_option
@user_option("Who is being monitored.")
@db_option
@click.option(
    "--fast", is_flag=True, help="Process a file as fast as possible, not at its frame rate."
)
@click.option(
    "--serve",
    is_flag=True,
    help="Serve the monitor to a web browser (textual-serve), at a URL with a secret token.",
)
@click.option(
    "--host",
    default=None,
    help="With --serve: the address to listen on.  [default: 127.0.0.1; others warn]",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="With --serve: the port (0: any free one).  [default: 8000]",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Analyse at most this many frames a second; skip the rest undecoded (0: all)."
    "  [default: [capture] max_fps]",
)
@multi_user_option
@record_option
@click.pass_obj
def monitor(
    state: CliState,
    source: str,
    user: str,
    db_path: Path | None,
    fast: bool,
    serve: bool,
    host: str | None,
    port: int | None,
    rate: float | None,
    multi_user: bool,
    record: Path | None,
) -> None:
    """Monitor one person (or, with --multi-user, everyone in view) live in the terminal."""
    from dataclasses import replace

    from burnout_tui.tui.run import run_monitor
    from burnout_tui.tui.state.monitor_request import MonitorRequest

    if not serve and (host is not None or port is not None):
        raise click.UsageError("--host and --port need --serve")
    config = state.config()
    if rate is not None:
        try:
            config = replace(config, capture=replace(config.capture, max_fps=rate))
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--rate") from None
    request = MonitorRequest(
        config,
        source,
        user,
        state.db_path(config, db_path),
        fast=fast,
        multi_user=multi_user,
        record=checked_record(record),
        serve=serve,
        host=host,
        port=port,
    )
    run_monitor(request)
