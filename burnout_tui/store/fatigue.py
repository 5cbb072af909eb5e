"""The per-session fatigue summary, read from `v_session_fatigue` (one row per track)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True, slots=True)
class FatigueRow:
    track_id: int
    user: str
    mesh_frames: int
    seconds: float
    blinks: int
    blinks_per_min: float | None
    perclos: float | None
    yawns: int
    looking_away_share: float | None
    mean_normalized_score: float | None


def session_fatigue(con: duckdb.DuckDBPyConnection, session_id: int) -> list[FatigueRow]:
    """Tracks with at least one fitted mesh; a session recorded without the mesh has none."""
    rows = con.execute(
        """
        SELECT track_id, "user", mesh_frames, seconds, blinks, blinks_per_min, perclos, yawns,
               looking_away_share, mean_normalized_score
        FROM v_session_fatigue
        WHERE session_id = ? AND mesh_frames > 0
        ORDER BY track_id
        """,
        [session_id],
    ).fetchall()
    return [FatigueRow(*row) for row in rows]
