"""`burnout-tui train`: fine-tune the forecaster on one person's stored sessions.

Sessions, not frames, are split: windows of one session overlap and share frames, so
holding back random windows would test the model on frames it was fitted to. The newest
sessions are held back, which is also the question that matters: does the personal model
forecast this person's next sessions better than the shipped one?

NumPy, DuckDB, the forecaster and Rich are imported inside the functions that use them,
so `train --help` stays light.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from burnout_tui import EMOTIONS
from burnout_tui.cli.context import CliState
from burnout_tui.cli.options import db_option, user_option
from burnout_tui.errors import UserError

if TYPE_CHECKING:
    import duckdb
    from rich.table import Table

    from burnout_tui.forecast.dataset import Samples
    from burnout_tui.forecast.finetune import FinetuneResult

HELD_BACK_SHARE = 0.25
"""Share of the person's sessions (newest first, at least one) kept out of the fit to judge
it: a quarter leaves most of the data to fit on and still a real test set."""


def _frames_query() -> str:
    """Every face frame of sessions that have face-mesh cues: windows span face frames, with
    NaN cues where the mesh was doubted, as in training and in the live pipeline. Sessions
    stored before the mesh existed have no cues at all and would teach nothing about
    fatigue."""
    from burnout_tui.forecast.inputs import FATIGUE_INPUTS
    from burnout_tui.store.schema import PROBABILITY_COLUMNS

    return f"""
SELECT f.session_id, f.track_id, f.ts, f.frame_score, f.rolling_score,
       {", ".join(f"f.{name}" for name in PROBABILITY_COLUMNS)},
       {", ".join(f"f.{name}" for name in FATIGUE_INPUTS)}
FROM frames AS f
JOIN sessions AS s USING (session_id)
LEFT JOIN track_users AS t ON t.session_id = f.session_id AND t.track_id = f.track_id
JOIN users AS u ON u.user_id = coalesce(t.user_id, s.user_id)
WHERE u.name = ? AND s.status = 'complete'
    AND f.session_id IN (SELECT session_id FROM frames WHERE ear_left IS NOT NULL)
ORDER BY s.started_at, f.session_id, f.track_id, f.frame_index
"""


class TrainError(UserError):
    """The person's stored data cannot fit or judge a personal model."""


def user_samples(con: duckdb.DuckDBPyConnection, user: str, window: int) -> list[Samples]:
    """One Samples per session of `user` (its tracks of that person concatenated), oldest
    session first; sessions too short for a single window are left out."""
    import numpy as np

    from burnout_tui.forecast.dataset import concat_samples, make_samples
    from burnout_tui.forecast.inputs import FATIGUE_INPUTS, input_from_columns
    from burnout_tui.store.schema import PROBABILITY_COLUMNS

    table = {
        name: np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
        for name, values in con.execute(_frames_query(), [user]).fetchnumpy().items()
    }
    sessions = table["session_id"].astype(np.int64)
    tracks = table["track_id"].astype(np.int64)
    probs = np.column_stack([table[name] for name in PROBABILITY_COLUMNS])
    probs = probs.reshape(-1, len(EMOTIONS))
    inputs = input_from_columns(probs, {name: table[name] for name in FATIGUE_INPUTS})
    ts, rolling, scores = table["ts"], table["rolling_score"], table["frame_score"]
    per_session: list[Samples] = []
    for session_id in dict.fromkeys(sessions.tolist()):
        parts = []
        for track_id in dict.fromkeys(tracks[sessions == session_id].tolist()):
            rows = (sessions == session_id) & (tracks == track_id)
            parts.append(
                make_samples(ts[rows], inputs[rows], rolling[rows], scores[rows], window=window)
            )
        samples = concat_samples(parts)
        if len(samples):
            per_session.append(samples)
    return per_session


def split_sessions(sessions: list[Samples]) -> tuple[Samples, Samples]:
    """Oldest sessions to fit on, the newest HELD_BACK_SHARE (at least one) to judge with."""
    from burnout_tui.forecast.dataset import concat_samples

    if len(sessions) < 2:
        raise TrainError(
            f"train needs at least 2 sessions with face-mesh cues to fit on one and judge on "
            f"another; found {len(sessions)}"
        )
    held = max(1, math.floor(len(sessions) * HELD_BACK_SHARE))
    return concat_samples(sessions[:-held]), concat_samples(sessions[-held:])


@click.command()
@user_option("Whose stored sessions to fine-tune on.", required=True)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.pass_obj
def train(state: CliState, user: str, db_path: Path | None, as_json: bool) -> None:
    """Fine-tune the forecaster on USER's stored sessions; keep it only if it is better.

    The newest sessions are held back; the personal model replaces the shipped one for
    USER only if it forecasts those sessions with a lower mean absolute error.
    """
    config = state.config()
    train_command(user, state.db_path(config, db_path), as_json)


def train_command(user: str, path: Path, as_json: bool) -> None:
    from rich.console import Console

    from burnout_tui.export import open_read_only
    from burnout_tui.forecast.finetune import NotEnoughDataError, finetune
    from burnout_tui.forecast.model import Forecaster
    from burnout_tui.runtime.personal_models import personal_model_path

    con = open_read_only(path)
    try:
        known = con.execute("SELECT count(*) FROM users WHERE name = ?", [user]).fetchone()
        if not known or not known[0]:
            raise TrainError(f"no user named {user!r} in {path}")
        sessions = user_samples(con, user, Forecaster().window)
    finally:
        con.close()
    train_set, test_set = split_sessions(sessions)
    target = personal_model_path(path, user)
    try:
        result = finetune(train_set, test_set, target)
    except NotEnoughDataError as error:
        raise TrainError(f"{user}: {error}") from None
    if as_json:
        payload = {**asdict(result), "user": user, "sessions": len(sessions), "model": str(target)}
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        Console().print(result_table(user, len(sessions), result, target))


def result_table(user: str, sessions: int, result: FinetuneResult, target: Path) -> Table:
    from rich.table import Table

    table = Table(title=f"forecaster fine-tuned for {user} ({sessions} sessions)")
    table.add_column("on held-back sessions")
    table.add_column("MAE", justify="right")
    table.add_row("persistence (last value)", f"{result.mae_persistence:.4f}")
    table.add_row("shipped model", f"{result.mae_shipped:.4f}")
    table.add_row("fine-tuned model", f"{result.mae_tuned:.4f}")
    verdict = (
        f"kept: {target}"
        if result.kept
        else "not kept: the shipped model forecasts the held-back sessions at least as well"
    )
    table.caption = f"{result.n_train} windows fitted, {result.n_test} held back; {verdict}"
    return table
