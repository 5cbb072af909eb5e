"""The per-session drowsiness summary, read from `v_blinks` (one row per track).

A track's blinks, how many of them closed a window of 30 normalised blinks the model read,
the level of the last such window with its probability, and the share of those windows at
each level (`signals.drowsiness.LEVELS`): what `analyze --json` reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from burnout_tui.signals.drowsiness import LEVELS


@dataclass(frozen=True, slots=True)
class DrowsinessSummary:
    track_id: int
    user: str
    blinks: int
    windows: int
    """Blinks whose window of 30 normalised blinks has a level."""
    last_level: str | None
    """The level of the last window (by blink time); None without any window."""
    last_probability: float | None
    level_share: dict[str, float]
    """Share of the windows at each level, every level named; empty without any window."""


def session_drowsiness(con: duckdb.DuckDBPyConnection, session_id: int) -> list[DrowsinessSummary]:
    """Tracks with at least one blink; none when the drowsiness stage was off."""
    counts = ", ".join(f"count(*) FILTER (WHERE level = ?) AS n{i}" for i in range(len(LEVELS)))
    rows = con.execute(
        f"""
        SELECT track_id, "user", count(*) AS blinks, count(level) AS windows,
               arg_max(level, end_ts) FILTER (WHERE level IS NOT NULL) AS last_level,
               arg_max(greatest(p_alert, p_low_vigilant, p_drowsy), end_ts)
                   FILTER (WHERE level IS NOT NULL) AS last_probability,
               {counts}
        FROM v_blinks
        WHERE session_id = ?
        GROUP BY track_id, "user"
        ORDER BY track_id
        """,
        [*LEVELS, session_id],
    ).fetchall()
    summaries = []
    for track_id, user, blinks, windows, last_level, last_p, *per_level in rows:
        share = (
            {name: int(n) / windows for name, n in zip(LEVELS, per_level, strict=True)}
            if windows
            else {}
        )
        summaries.append(
            DrowsinessSummary(
                int(track_id),
                str(user),
                int(blinks),
                int(windows),
                None if last_level is None else str(last_level),
                None if last_p is None else float(last_p),
                share,
            )
        )
    return summaries
