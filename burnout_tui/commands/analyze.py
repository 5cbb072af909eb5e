"""Presentation of `analyze`: progress bar on a terminal, then a table or one JSON object."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from burnout_tui.analyze import AnalysisResult, run_analysis
from burnout_tui.config import Config
from burnout_tui.recording import Recorder, announce, check_output
from burnout_tui.sources import FrameSource, open_source, parse_source
from burnout_tui.store import open_database


def analyze_command(
    config: Config,
    video: str,
    user: str,
    path: Path,
    as_json: bool,
    *,
    multi_user: bool = False,
    record: Path | None = None,
) -> None:
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
            con = open_database(path)
        except BaseException:
            _remove_if_created(path, created)
            raise
        stack.callback(con.close)
        try:
            result = _run_with_progress(
                source,
                con,
                config,
                user,
                show=sys.stderr.isatty(),
                multi_user=multi_user,
                recorder=recorder,
            )
        except BaseException:
            con.close()
            _remove_if_created(path, created)
            raise
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        Console().print(summary_table(result))


def _remove_if_created(path: Path, created: bool) -> None:
    """A database file this failed run created holds nothing worth keeping."""
    if created:
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)


def _run_with_progress(
    source: FrameSource,
    con: duckdb.DuckDBPyConnection,
    config: Config,
    user: str,
    show: bool,
    *,
    multi_user: bool,
    recorder: Recorder | None,
) -> AnalysisResult:
    if not show:
        return run_analysis(source, con, config, user, multi_user=multi_user, recorder=recorder)
    progress = Progress(
        TextColumn("[bold]analyze[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(source.label, total=source.frame_count)
        return run_analysis(
            source,
            con,
            config,
            user,
            on_frame=lambda done: progress.update(task, completed=done),
            multi_user=multi_user,
            recorder=recorder,
        )


def summary_table(result: AnalysisResult) -> Table:
    summary = result.summary
    table = Table(title=f"session {result.session_id}: {result.source} ({result.user})")
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
    if result.tracks:
        names = ", ".join(f"{track_id}→{name}" for track_id, name in result.tracks.items())
        table.add_row("tracks → users", names)
    return table
