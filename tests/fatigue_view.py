"""A tracker's frames stored as a session and read back through `v_session_fatigue`.

The view is the one definition of a session's fatigue summary (the tracker keeps only
its sliding window), so tests that check session totals store the frames the way
`analyze` does (one `frames` row per face, NULL cues where no mesh was fitted) and read
the view, through `store.fatigue.session_fatigue` as the product does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from burnout_tui import EMOTIONS
from burnout_tui.scoring.fatigue import FatigueFrame
from burnout_tui.store import FEATURE_COLUMNS, FrameRow, FrameWriter, open_database, repository
from burnout_tui.store.connect import IN_MEMORY
from burnout_tui.store.fatigue import FatigueRow, session_fatigue
from burnout_tui.vision.face import Face

TRACK_ID = 0
FLUSH_INTERVAL_S = 0.1
"""The writer's shortest sensible wait; `close()` writes everything anyway."""


@dataclass(frozen=True, slots=True)
class _Face:
    """What `FrameRow.from_result` reads; only the fatigue cues vary."""

    fatigue: FatigueFrame | None
    track_id: int = TRACK_ID
    face: Face = field(default_factory=lambda: Face((0, 0, 48, 48), 1.0))
    probs: Any = field(default_factory=lambda: np.full(len(EMOTIONS), 1 / len(EMOTIONS)))
    features: Any = field(default_factory=lambda: np.zeros(len(FEATURE_COLUMNS)))
    frame_score: float = 0.0
    rolling_score: float = 0.0
    forecast: float | None = None
    normalized_score: float | None = None
    pulse: Any = None
    blendshapes: tuple[float, ...] | None = None


def stored_session(frames: Iterable[tuple[float, FatigueFrame | None]]) -> tuple[Any, int]:
    """An in-memory store holding one session of the (timestamp, cues) frames, one row each
    (None: a face whose mesh was not fitted); returns the connection and the session id."""
    con = open_database(IN_MEMORY)
    session_id = repository.start_session(con, repository.get_or_create_user(con, "ana"), "t", "{}")
    with FrameWriter(con, flush_interval_s=FLUSH_INTERVAL_S) as writer:
        writer.put_many(
            FrameRow.from_result(session_id, index, ts, _Face(fatigue))
            for index, (ts, fatigue) in enumerate(frames)
        )
    return con, session_id


def view_summary(frames: Iterable[tuple[float, FatigueFrame | None]]) -> FatigueRow | None:
    """The session's summary as the product reads it; None when no row had cues."""
    con, session_id = stored_session(frames)
    try:
        rows = session_fatigue(con, session_id)
    finally:
        con.close()
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def view_row(con: duckdb.DuckDBPyConnection, session_id: int) -> tuple[Any, ...] | None:
    """The raw view row of the session's track, including one without any cues."""
    return con.execute(
        "SELECT blinks, yawns, perclos, blinks_per_min, looking_away_share, seconds "
        "FROM v_session_fatigue WHERE session_id = ?",
        [session_id],
    ).fetchone()
