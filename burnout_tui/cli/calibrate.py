"""`burnout-tui calibrate`: record a baseline session and keep its statistics.

The runtime, the store and Rich are imported inside the functions that use them, so
`calibrate --help` stays light.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from burnout_tui.cli.analyze import analyze_command
from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import db_option, source_option, user_option
from burnout_tui.errors import UserError

if TYPE_CHECKING:
    import duckdb
    from rich.table import Table

    from burnout_tui.config import Config
    from burnout_tui.scoring.calibration import Calibration


class CalibrationError(UserError):
    """The baseline session had too little face to describe anyone's baseline."""


@click.command()
@user_option("Whose baseline this is.", required=True)
@source_option
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
    from burnout_tui.config import MIN_CALIBRATION_S

    config = state.config()
    length = config.calibration.seconds if seconds is None else seconds
    if not length >= MIN_CALIBRATION_S:
        raise click.BadParameter(f"must be at least {MIN_CALIBRATION_S:g}", param_hint="--seconds")
    calibrate_command(config, source, user, state.db_path(config, db_path), length, as_json)


def calibrate_command(
    config: Config, source: str, user: str, path: Path, seconds: float, as_json: bool
) -> None:
    """Record `seconds` of `source` as `user`'s baseline. The session is stored like any
    other, and its calibration row is written before the session is marked complete, so
    a baseline too short to use leaves neither behind."""
    from rich.console import Console

    from burnout_tui.runtime.analyze import AnalysisOptions
    from burnout_tui.runtime.results import PRIMARY_TRACK
    from burnout_tui.store import repository
    from burnout_tui.store.calibrations import save_calibration

    window = config.scoring.window
    stored: list[Calibration] = []

    def keep_baseline(con: duckdb.DuckDBPyConnection, session_id: int) -> None:
        user_id = repository.get_or_create_user(con, user)
        calibration = save_calibration(
            con,
            user_id,
            session_id,
            PRIMARY_TRACK,
            window,
            config.fatigue,
            config.drowsiness.min_baseline_blinks,
        )
        if calibration is None:
            raise CalibrationError(
                f"calibration needs at least {window} frames with a face; look at the "
                "camera for the whole baseline, or pass a longer --seconds"
            )
        stored.append(calibration)

    analyze_command(
        config,
        source,
        user,
        path,
        as_json=False,
        quiet=True,
        options=AnalysisOptions(calibrated=False, until_s=seconds, before_complete=keep_baseline),
        verb="calibrate",
    )
    (calibration,) = stored
    if as_json:
        sys.stdout.write(json.dumps(calibration_json(calibration)) + "\n")
    else:
        Console().print(calibration_table(calibration))


def calibration_json(calibration: Calibration) -> dict[str, object]:
    payload = asdict(calibration)
    payload["baseline"] = None if calibration.baseline is None else asdict(calibration.baseline)
    return payload


def calibration_table(calibration: Calibration) -> Table:
    from rich.table import Table

    table = Table(
        title=f"calibration {calibration.calibration_id} for {calibration.user} "
        f"(session {calibration.session_id})"
    )
    table.add_column("baseline")
    table.add_column("value", justify="right")
    table.add_row("frames with a face", str(calibration.face_frames))
    table.add_row("rolling score mean", f"{calibration.score_mean:+.3f}")
    table.add_row("rolling score spread", f"{calibration.score_std:.3f}")
    baseline = calibration.baseline
    if baseline is not None:
        table.add_row("open-eye EAR", f"{baseline.ear_open:.3f}")
        table.add_row("resting mouth (MAR)", f"{baseline.mar_rest:.3f}")
        table.add_row(
            "head yaw / pitch / roll",
            f"{baseline.yaw0:+.0f}° / {baseline.pitch0:+.0f}° / {baseline.roll0:+.0f}°",
        )
    if calibration.blink_rate is not None:
        table.add_row("blinks", f"{calibration.blink_rate:.1f}/min")
    if calibration.perclos is not None:
        table.add_row("PERCLOS", f"{calibration.perclos:.1%}")
    if calibration.blink_count is not None:
        usable = "" if calibration.blink_means is not None else " (too few for a baseline)"
        table.add_row("blinks with features", f"{calibration.blink_count}{usable}")
    return table
