"""The per-session heart-rate summary, read from `v_heart` (one row per track)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True, slots=True)
class HeartSummary:
    track_id: int
    user: str
    seconds: int
    """Seconds with a row (reported or withheld)."""
    mean_bpm: float | None
    """Mean over the reported seconds; None when every second was withheld."""
    withheld_share: float
    mean_rmssd_ms: float | None


def session_heart(con: duckdb.DuckDBPyConnection, session_id: int) -> list[HeartSummary]:
    """Tracks with at least one heart-rate row; none when the pulse stage was off."""
    rows = con.execute(
        """
        SELECT track_id, "user", count(*) AS seconds, avg(bpm) AS mean_bpm,
               1.0 - count(bpm) / count(*) AS withheld_share, avg(rmssd_ms) AS mean_rmssd_ms
        FROM v_heart
        WHERE session_id = ?
        GROUP BY track_id, "user"
        ORDER BY track_id
        """,
        [session_id],
    ).fetchall()
    return [HeartSummary(*row) for row in rows]
