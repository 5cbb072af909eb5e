"""Read-only queries behind the history screen.

The history screen runs them in thread workers, each on a cursor of its own: one user's
sessions or one session's frames are milliseconds of DuckDB work, but a long session's
frames are still work the UI thread should not wait for, and a cursor never contends with
the capture thread's writer. The percentages are recomputed with `burnout_tui.scoring` from each
session's stored config, so a session reads as it was scored even after a config change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from burnout_tui.config import Config, ConfigError, config_from_table
from burnout_tui.runtime.results import PRIMARY_TRACK
from burnout_tui.scoring import Level, final_percent, level

if TYPE_CHECKING:
    import duckdb

SESSION_LIMIT = 200
"""Most recent sessions listed; older ones stay in the database for `report` and SQL."""

CHART_POINTS = 400
"""A session's trace is averaged down to this many points before it is drawn: more than
any terminal is wide, and a few kilobytes however long the session was."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: int
    source: str
    status: str
    started_at: datetime
    duration_s: float | None
    valid_frames: int
    frames_total: int | None
    percent: float | None
    level: Level | None


@dataclass(frozen=True, slots=True)
class SurveyRow:
    instrument: str
    taken_at: datetime
    total: float | None
    burnout_01: float | None


@dataclass(frozen=True, slots=True)
class MarkerRow:
    ts: float
    note: str


@dataclass(frozen=True, slots=True)
class ScoreTrace:
    """A session's frame and rolling scores, averaged down to at most CHART_POINTS each."""

    frame_scores: list[float]
    rolling_scores: list[float]
    frame_mean: float | None
    rolling_mean: float | None
    duration_s: float


def local_time(utc: datetime) -> datetime:
    """The store keeps naive UTC; people read their own clock."""
    return utc.replace(tzinfo=timezone.utc).astimezone()


def session_config(config_json: str | None, fallback: Config) -> Config:
    """The config a session was recorded with, or `fallback` when it is missing or unreadable."""
    if not config_json:
        return fallback
    try:
        table = json.loads(config_json)
        return config_from_table(table, "stored session config")
    except (ValueError, ConfigError, TypeError, AttributeError):
        return fallback


def list_sessions(
    con: duckdb.DuckDBPyConnection, user: str, config: Config, limit: int = SESSION_LIMIT
) -> list[SessionRow]:
    """The user's sessions, newest first, with the proxy each would score now."""
    rows = con.execute(
        """
        SELECT m.session_id, m.source, m.status, m.started_at, m.duration_s,
               m.valid_frames, m.frames_total, m.mean_score, m.volatility, s.config_json
        FROM session_metrics AS m
        JOIN sessions AS s USING (session_id)
        WHERE m.user_name = ?
        ORDER BY m.started_at DESC, m.session_id DESC
        LIMIT ?
        """,
        [user, limit],
    ).fetchall()
    sessions: list[SessionRow] = []
    for (
        session_id,
        source,
        status,
        started_at,
        duration_s,
        valid_frames,
        frames_total,
        mean_score,
        variance,
        config_json,
    ) in rows:
        percent: float | None = None
        if mean_score is not None and variance is not None:
            scoring = session_config(config_json, config).scoring
            percent = final_percent(float(mean_score), float(variance), scoring)
        sessions.append(
            SessionRow(
                session_id=int(session_id),
                source=str(source),
                status=str(status),
                started_at=started_at,
                duration_s=None if duration_s is None else float(duration_s),
                valid_frames=int(valid_frames),
                frames_total=None if frames_total is None else int(frames_total),
                percent=percent,
                level=None if percent is None else level(percent, config.levels),
            )
        )
    return sessions


def downsample(values: npt.NDArray[np.float64], points: int = CHART_POINTS) -> list[float]:
    """Mean of consecutive chunks, so a long session keeps its shape in `points` values."""
    if values.size <= points:
        return [float(v) for v in values]
    return [float(chunk.mean()) for chunk in np.array_split(values, points)]


def score_trace(con: duckdb.DuckDBPyConnection, session_id: int) -> ScoreTrace:
    arrays = con.execute(
        "SELECT ts, frame_score, rolling_score FROM frames"
        " WHERE session_id = ? AND track_id = ? ORDER BY frame_index",
        [session_id, PRIMARY_TRACK],
    ).fetchnumpy()
    ts = np.asarray(arrays["ts"], dtype=np.float64)
    frame = np.asarray(arrays["frame_score"], dtype=np.float64)
    rolling = np.asarray(arrays["rolling_score"], dtype=np.float64)
    return ScoreTrace(
        frame_scores=downsample(frame),
        rolling_scores=downsample(rolling),
        frame_mean=float(frame.mean()) if frame.size else None,
        rolling_mean=float(rolling.mean()) if rolling.size else None,
        duration_s=float(ts[-1] - ts[0]) if ts.size else 0.0,
    )


def session_surveys(con: duckdb.DuckDBPyConnection, session_id: int) -> list[SurveyRow]:
    rows = con.execute(
        "SELECT instrument, taken_at, total, burnout_01 FROM surveys"
        " WHERE session_id = ? ORDER BY taken_at, survey_id",
        [session_id],
    ).fetchall()
    return [
        SurveyRow(
            instrument=str(instrument),
            taken_at=taken_at,
            total=None if total is None else float(total),
            burnout_01=None if burnout_01 is None else float(burnout_01),
        )
        for instrument, taken_at, total, burnout_01 in rows
    ]


@dataclass(frozen=True, slots=True)
class SessionDetail:
    """Everything the history screen's detail pane shows for one session."""

    session_id: int
    trace: ScoreTrace
    markers: list[MarkerRow]
    surveys: list[SurveyRow]


def session_detail(con: duckdb.DuckDBPyConnection, session_id: int) -> SessionDetail:
    return SessionDetail(
        session_id=session_id,
        trace=score_trace(con, session_id),
        markers=session_markers(con, session_id),
        surveys=session_surveys(con, session_id),
    )


def session_markers(con: duckdb.DuckDBPyConnection, session_id: int) -> list[MarkerRow]:
    rows = con.execute(
        "SELECT ts, note FROM markers WHERE session_id = ? ORDER BY ts", [session_id]
    ).fetchall()
    return [MarkerRow(ts=float(ts), note=str(note)) for ts, note in rows]
