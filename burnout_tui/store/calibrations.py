"""Reading and writing `calibrations`: one row per baseline session (`burnout-tui calibrate`).

The statistics are computed in SQL from the session's stored frames rather than carried
over from the pipeline, so a calibration is exactly what the database shows, and can be
recomputed later from the same rows.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

import duckdb

from burnout_tui.config import DrowsinessConfig, FatigueConfig
from burnout_tui.measures import MeshMeasures
from burnout_tui.scoring.calibration import Calibration
from burnout_tui.scoring.fatigue import Baseline, baseline_from_measures

_STATISTICS = """
WITH ordered AS (
    SELECT
        *,
        row_number() OVER (ORDER BY frame_index) AS position
    FROM frames
    WHERE session_id = $session AND track_id = $track
)
SELECT
    count(*) AS face_frames,
    avg(rolling_score) FILTER (WHERE position >= $window) AS score_mean,
    stddev_pop(rolling_score) FILTER (WHERE position >= $window) AS score_std,
    list([ear_left, ear_right, mar, head_yaw, head_pitch, head_roll] ORDER BY position)
        FILTER (WHERE ear_left IS NOT NULL) AS measures,
    (
        SELECT any_value(fatigue.blinks_per_min)
        FROM v_session_fatigue AS fatigue
        WHERE fatigue.session_id = $session AND fatigue.track_id = $track
    ) AS blink_rate,
    (
        SELECT any_value(fatigue.perclos)
        FROM v_session_fatigue AS fatigue
        WHERE fatigue.session_id = $session AND fatigue.track_id = $track
    ) AS perclos
FROM ordered
"""

_BLINK_STATISTICS = """
SELECT
    count(*),
    avg(frequency), avg(amplitude), avg(duration), avg(velocity),
    stddev_pop(frequency), stddev_pop(amplitude), stddev_pop(duration), stddev_pop(velocity)
FROM blinks
WHERE session_id = $session AND track_id = $track
"""
"""The blink baseline: mean and population spread of each raw feature over the session's
blinks, as the dataset normalises (`signals.blink_baseline`)."""
"""Score statistics skip the first `window - 1` frames, whose rolling score covers fewer
frames than later ones and so swings more. The blink rate and PERCLOS are the session's
fatigue summary, `v_session_fatigue` (its one definition), for the baseline's track. The
eye, mouth and head baseline comes from the session's mesh measures by the same rule the
live tracker calibrates with."""


def save_calibration(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    session_id: int,
    track_id: int,
    window: int,
    settings: FatigueConfig,
    min_blinks: int = DrowsinessConfig().min_baseline_blinks,
) -> Calibration | None:
    """Compute a finished session's statistics and store them; None when the session has
    fewer than `window` face frames, too few for a single full rolling window. Returns the
    row as read back, so the caller shows exactly what later sessions will use."""
    row = con.execute(
        _STATISTICS, {"session": session_id, "track": track_id, "window": window}
    ).fetchone()
    if row is None or row[0] < window or row[1] is None:
        return None
    frames, mean, std, measures, rate, perclos = row
    baseline = baseline_from_measures(
        (MeshMeasures(*values) for values in measures or []), settings
    )
    pose = (None,) * 5 if baseline is None else astuple(baseline)
    blinks = _blink_statistics(con, session_id, track_id, min_blinks)
    stored = con.execute(
        """
        INSERT INTO calibrations (
            user_id, session_id, face_frames, score_mean, score_std, ear_open, mar_rest,
            yaw0, pitch0, roll0, blink_rate, perclos, blink_count,
            blink_frequency_mean, blink_amplitude_mean, blink_duration_mean,
            blink_velocity_mean, blink_frequency_std, blink_amplitude_std,
            blink_duration_std, blink_velocity_std
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING calibration_id
        """,
        [user_id, session_id, frames, mean, std, *pose, rate, perclos, *blinks],
    ).fetchone()
    return None if stored is None else calibration_by_id(con, int(stored[0]))


def _blink_statistics(
    con: duckdb.DuckDBPyConnection, session_id: int, track_id: int, min_blinks: int
) -> list[Any]:
    """Count, means and spreads of the session's blinks; the means and spreads are NULL
    with fewer than `min_blinks` or a feature that never varied, which no baseline can
    normalise by."""
    row = con.execute(_BLINK_STATISTICS, {"session": session_id, "track": track_id}).fetchone()
    count, *values = row if row is not None else (0,)
    stds = values[4:]
    usable = count >= min_blinks and all(v is not None and v > 0.0 for v in stds)
    return [count, *(values if usable else [None] * 8)]


_SELECT = """
SELECT c.calibration_id, u.name, c.session_id, c.face_frames, c.score_mean, c.score_std,
       c.ear_open, c.mar_rest, c.yaw0, c.pitch0, c.roll0, c.blink_rate, c.perclos,
       c.blink_count, c.blink_frequency_mean, c.blink_amplitude_mean, c.blink_duration_mean,
       c.blink_velocity_mean, c.blink_frequency_std, c.blink_amplitude_std,
       c.blink_duration_std, c.blink_velocity_std
FROM calibrations AS c JOIN users AS u USING (user_id)
"""


def latest_calibration(con: duckdb.DuckDBPyConnection, user: str) -> Calibration | None:
    """The person's newest calibration, or None if they never calibrated."""
    row = con.execute(
        _SELECT + "WHERE u.name = ? ORDER BY c.created_at DESC, c.calibration_id DESC LIMIT 1",
        [user],
    ).fetchone()
    return None if row is None else _calibration(row)


def calibration_by_id(con: duckdb.DuckDBPyConnection, calibration_id: int) -> Calibration | None:
    row = con.execute(_SELECT + "WHERE c.calibration_id = ?", [calibration_id]).fetchone()
    return None if row is None else _calibration(row)


def _calibration(row: tuple[Any, ...]) -> Calibration:
    (cid, user, session_id, frames, mean, std, ear, mar, yaw, pitch, roll, rate, perclos) = row[:13]
    blink_count, *blink_values = row[13:]
    pose = (ear, mar, yaw, pitch, roll)
    baseline = None if any(value is None for value in pose) else Baseline(*map(float, pose))
    return Calibration(
        calibration_id=int(cid),
        user=str(user),
        session_id=int(session_id),
        face_frames=int(frames),
        score_mean=float(mean),
        score_std=float(std),
        baseline=baseline,
        blink_rate=None if rate is None else float(rate),
        perclos=None if perclos is None else float(perclos),
        blink_count=None if blink_count is None else int(blink_count),
        blink_means=_four(blink_values[:4]),
        blink_stds=_four(blink_values[4:]),
    )


def _four(values: list[Any]) -> tuple[float, float, float, float] | None:
    if any(value is None for value in values):
        return None
    f, a, d, v = (float(value) for value in values)
    return (f, a, d, v)
