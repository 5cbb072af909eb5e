"""`burnout-tui analyze`: progress bar on a terminal, then a table or one JSON object.

The runtime, DuckDB and Rich are imported inside the functions that use them: the group
imports this module to register the command, and `--help` must stay light.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import (
    checked_record,
    db_option,
    multi_user_option,
    record_option,
    user_option,
)

if TYPE_CHECKING:
    import duckdb
    from rich.table import Table

    from burnout_tui.config import Config
    from burnout_tui.runtime.analyze import AnalysisOptions, AnalysisResult
    from burnout_tui.runtime.recording import Recorder
    from burnout_tui.sources import FrameSource
    from burnout_tui.store.fatigue import FatigueRow
    from burnout_tui.store.heart_summary import HeartSummary


@click.command()
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
    from burnout_tui.runtime.analyze import AnalysisOptions

    config = state.config()
    analyze_command(
        config,
        video,
        user,
        state.db_path(config, db_path),
        as_json,
        options=AnalysisOptions(multi_user=multi_user),
        record=checked_record(record),
    )


def analyze_command(
    config: Config,
    video: str,
    user: str,
    path: Path,
    as_json: bool,
    *,
    options: AnalysisOptions | None = None,
    record: Path | None = None,
    quiet: bool = False,
    verb: str = "analyze",
) -> AnalysisResult:
    """Analyse `video` into a new session of `path`, removing the file again if this run
    created it and failed or was interrupted (Ctrl-C, SIGTERM, SIGHUP). The recorder
    (from `record`) and the user's forecaster are added to `options` here; `quiet` prints
    nothing, for a caller that presents the result its own way."""
    from rich.console import Console

    from burnout_tui.runtime.analyze import AnalysisOptions
    from burnout_tui.runtime.personal_models import load_forecaster
    from burnout_tui.runtime.recording import Recorder, announce, check_output
    from burnout_tui.sources import open_source, parse_source
    from burnout_tui.store import open_database

    options = options or AnalysisOptions()
    spec = parse_source(video)
    if record is not None:
        record = check_output(record)
    source = open_source(spec)
    created = not path.exists()
    with ExitStack() as stack:
        stack.callback(source.close)
        recorder: Recorder | None = None
        if record is not None:
            recorder = Recorder(record, source.fps)
            stack.callback(recorder.close)
            announce(record)
        try:
            con = open_database(path, encrypt=config.store.encrypt)
        except BaseException:
            _remove_if_created(path, created)
            raise
        try:
            stack.callback(con.close)
            forecaster = load_forecaster(config, path, None if options.multi_user else user)
            result = run_with_progress(
                source,
                con,
                config,
                user,
                show=sys.stderr.isatty(),
                options=replace(options, recorder=recorder, forecaster=forecaster),
                verb=verb,
            )
        except BaseException:
            con.close()
            _remove_if_created(path, created)
            raise
    if result.status == "truncated":
        sys.stderr.write(
            f"warning: {result.source} ended after {result.frames} of the"
            f" {result.frames_announced} frames its container announces (cut or damaged);"
            f" session {result.session_id} is stored as truncated, not complete\n"
        )
    if quiet:
        return result
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        Console().print(summary_table(result))
    return result


def _remove_if_created(path: Path, created: bool) -> None:
    """A database file this failed run created holds nothing worth keeping."""
    from burnout_tui.store.database import remove_database_files

    if created:
        remove_database_files(path)


def run_with_progress(
    source: FrameSource,
    con: duckdb.DuckDBPyConnection,
    config: Config,
    user: str,
    show: bool,
    options: AnalysisOptions,
    verb: str = "analyze",
) -> AnalysisResult:
    """`run_analysis` with a transient progress bar on stderr when `show` is true."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from burnout_tui.runtime.analyze import run_analysis

    if not show:
        return run_analysis(source, con, config, user, options)
    progress = Progress(
        TextColumn(f"[bold]{verb}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    total = source.frame_count
    if options.until_s is not None:
        until_frames = round(options.until_s * source.fps)
        total = until_frames if total is None else min(total, until_frames)
    with progress:
        task = progress.add_task(source.label, total=total)
        return run_analysis(
            source,
            con,
            config,
            user,
            options,
            on_frame=lambda done: progress.update(task, completed=done),
        )


def summary_table(result: AnalysisResult) -> Table:
    from rich.table import Table

    summary = result.summary
    marked = "" if result.status == "complete" else f", {result.status}"
    table = Table(title=f"session {result.session_id}: {result.source} ({result.user}{marked})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("frames", str(result.frames))
    table.add_row(
        "frames with a face",
        f"{result.face_frames} ({result.face_frames / max(result.frames, 1):.0%})",
    )
    table.add_row("processing speed", f"{result.fps:.1f} frames/s")
    table.add_row("frame score mean", f"{summary.mean:.3f}")
    table.add_row("frame score min / max", f"{summary.min:.3f} / {summary.max:.3f}")
    table.add_row("volatility", f"{summary.volatility:.4f}")
    table.add_row("burnout proxy", f"{summary.final_percent:.0f} % ({summary.level})")
    if result.calibration is not None:
        mean_z = [row.mean_normalized_score for row in result.fatigue]
        if mean_z and mean_z[0] is not None:
            table.add_row(
                "vs baseline",
                f"z {mean_z[0]:+.2f} (calibration {result.calibration.calibration_id})",
            )
    for row in result.fatigue:
        prefix = f"track {row.track_id} ({row.user}): " if result.tracks else ""
        table.add_row(f"{prefix}blinks", fatigue_blinks(row))
        table.add_row(f"{prefix}PERCLOS", _share(row.perclos))
        table.add_row(f"{prefix}yawns", str(row.yawns))
        table.add_row(f"{prefix}looking away", _share(row.looking_away_share))
    for heart in result.heart:
        prefix = f"track {heart.track_id} ({heart.user}): " if result.tracks else ""
        table.add_row(f"{prefix}heart rate", heart_line(heart))
    table.add_row("forecaster", result.forecaster or "off")
    if result.tracks:
        names = ", ".join(f"{track_id}→{name}" for track_id, name in result.tracks.items())
        table.add_row("tracks → users", names)
    return table


def heart_line(row: HeartSummary) -> str:
    """Mean over the reported seconds, and how much was withheld (low quality or gaps)."""
    mean = "—" if row.mean_bpm is None else f"{row.mean_bpm:.0f} bpm"
    return f"{mean} ({row.withheld_share:.0%} of {row.seconds} s withheld)"


def fatigue_blinks(row: FatigueRow) -> str:
    rate = "" if row.blinks_per_min is None else f" ({row.blinks_per_min:.1f}/min)"
    return f"{row.blinks}{rate}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"
