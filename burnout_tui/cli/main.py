"""The `burnout-tui` command line.

Every heavy import (ONNX Runtime, OpenCV, DuckDB, Textual) happens inside the command
that needs it, so `burnout-tui --help` and shell completion stay instant, and headless
commands never load the TUI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from burnout_tui import __version__
from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import db_option, user_option
from burnout_tui.cli.report import report_group
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


def multi_user_option(function: Any) -> Any:
    return click.option(
        "--multi-user",
        is_flag=True,
        help="Track every face with its own id and score; tracks map to users user001, ….",
    )(function)


def record_option(function: Any) -> Any:
    return click.option(
        "--record",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        metavar="OUT.mp4|OUT.avi",
        help="Also write the video with boxes, ids, emotions and scores drawn (shows faces).",
    )(function)


def _checked_record(record: Path | None) -> Path | None:
    """Reject an unusable --record path before any model, source or database opens."""
    if record is None:
        return None
    from burnout_tui.runtime.recording import check_output

    return check_output(record)


DEFAULT_SOURCE = "0"
"""The first camera: what someone running `burnout-tui` with no arguments means."""


@cli.command()
@click.option(
    "--source",
    default=DEFAULT_SOURCE,
    show_default=True,
    help="Camera index, /dev/videoN, video file, stream URL, or `demo`.",
)
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
        record=_checked_record(record),
        serve=serve,
        host=host,
        port=port,
    )
    run_monitor(request)


@cli.command()
@click.argument("video", metavar="VIDEO")
@user_option("Whose session this is.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@multi_user_option
@record_option
@click.pass_obj
def analyze(
    state: CliState,
    video: str,
    user: str,
    db_path: Path | None,
    as_json: bool,
    multi_user: bool,
    record: Path | None,
) -> None:
    """Analyse a video file (or `demo`) as fast as possible and store one session."""
    from burnout_tui.cli.analyze import analyze_command
    from burnout_tui.runtime.analyze import AnalysisOptions

    config = state.config()
    analyze_command(
        config,
        video,
        user,
        state.db_path(config, db_path),
        as_json,
        options=AnalysisOptions(multi_user=multi_user),
        record=_checked_record(record),
    )


@cli.command()
@user_option("Whose baseline this is.", required=True)
@click.option(
    "--source",
    default=DEFAULT_SOURCE,
    show_default=True,
    help="Camera index, /dev/videoN, video file, stream URL, or `demo`.",
)
@click.option(
    "--seconds",
    type=float,
    default=None,
    help="Length of the baseline in seconds of source time [default: calibration.seconds].",
)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.pass_obj
def calibrate(
    state: CliState,
    user: str,
    source: str,
    seconds: float | None,
    db_path: Path | None,
    as_json: bool,
) -> None:
    """Record a calibration session: USER's ordinary face, relaxed, looking at the screen.

    Later sessions of USER show their score beside its z-score against this baseline, and
    the fatigue thresholds (eyes closed, yawn, looking away) start from its eye, mouth and
    head statistics instead of population defaults.
    """
    from burnout_tui.cli.calibrate import calibrate_command
    from burnout_tui.config import MIN_CALIBRATION_S

    config = state.config()
    length = config.calibration.seconds if seconds is None else seconds
    if not length >= MIN_CALIBRATION_S:
        raise click.BadParameter(f"must be at least {MIN_CALIBRATION_S:g}", param_hint="--seconds")
    calibrate_command(config, source, user, state.db_path(config, db_path), length, as_json)


@cli.command()
@user_option("Whose stored sessions to fine-tune on.", required=True)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.pass_obj
def train(state: CliState, user: str, db_path: Path | None, as_json: bool) -> None:
    """Fine-tune the forecaster on USER's stored sessions; keep it only if it is better.

    The newest sessions are held back; the personal model replaces the shipped one for
    USER only if it forecasts those sessions with a lower mean absolute error.
    """
    from burnout_tui.cli.train import train_command

    config = state.config()
    train_command(user, state.db_path(config, db_path), as_json)


@cli.command()
@click.option("--user", required=True, help="Whose data to delete for good.")
@click.option("--yes", is_flag=True, help="Do not ask (required where there is no terminal).")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
def forget(state: CliState, user: str, yes: bool, db_path: Path | None, as_json: bool) -> None:
    """Delete every row of USER and their fine-tuned forecaster, then rewrite the file.

    Their sessions, frames (including their tracks in other people's multi-user
    sessions), markers, surveys, calibrations and name go; a multi-user session of
    theirs that holds other people's tracks is kept for those people. The database is
    rewritten so the deleted bytes are gone from it. Earlier exports are not touched.
    """
    from burnout_tui.cli.forget import forget_command

    config = state.config()
    forget_command(state.db_path(config, db_path), user, yes, as_json)


@cli.command()
@click.option(
    "--instrument",
    "instrument_id",
    metavar="ID",
    help="Instrument id, e.g. cbi, pss10, mbi, checkin.",
)
@user_option("Who answered.")
@click.option(
    "--answers", "answers_text", metavar="N,N,...", help="One whole number per item, in order."
)
@click.option("--session", "session_id", type=int, default=None, help="Link to this session id.")
@click.option("--list", "list_only", is_flag=True, help="List the available instruments and exit.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def survey(
    state: CliState,
    instrument_id: str | None,
    user: str,
    answers_text: str | None,
    session_id: int | None,
    list_only: bool,
    db_path: Path | None,
    as_json: bool,
) -> None:
    """Score and store a survey (CBI, PSS-10, MBI totals, quick check-in).

    Give --answers to enter a sitting non-interactively; the monitor's `s` key asks the
    same questions in a keyboard form.
    """
    from burnout_tui.cli import survey as survey_commands

    if list_only:
        survey_commands.list_command(as_json)
        return
    if instrument_id is None or answers_text is None:
        raise click.UsageError("give --instrument and --answers (or --list to see instruments)")
    config = state.config()
    survey_commands.survey_command(
        config.store.encrypt,
        state.db_path(config, db_path),
        instrument_id,
        user,
        answers_text,
        session_id,
        as_json,
    )


cli.add_command(report_group)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(as_json: bool) -> None:
    """List installed analysis plugins, their versions, packages and reports."""
    from burnout_tui.cli.plugins import plugins_command

    plugins_command(as_json)


@cli.command()
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to create: DIR/<table>/user=<name>/date=<YYYY-MM-DD>/*.parquet.",
)
@db_option
@click.pass_obj
def export(state: CliState, parquet_dir: Path, db_path: Path | None) -> None:
    """Copy every table to hive-partitioned Parquet, for Spark, pandas or `report --from`.

    The database is opened read-only; the folder appears complete or not at all.
    """
    from burnout_tui.export import export_parquet, open_for_export

    config = state.config()
    con = open_for_export(state.db_path(config, db_path), encrypt=config.store.encrypt)
    try:
        counts = export_parquet(con, parquet_dir)
    finally:
        con.close()
    summary = ", ".join(f"{count} {table}" for table, count in counts.items())
    click.echo(f"exported {summary} to {parquet_dir}")


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
