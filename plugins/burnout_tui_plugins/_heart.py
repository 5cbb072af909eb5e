"""Session heart rates for the built-in reports, from `v_heart` (the public view).

A session's heart rate is the mean over its reported seconds only: a withheld second
(NULL `bpm`, quality below the threshold) is not a rate and is never filled in. The rows
of a multi-user session are kept per person (`user`, the track's person as `v_heart`
names it), so a session pairs with the heart rate of the person whose survey it meets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

MIN_REPORTED_SECONDS = 10
"""Fewer reported seconds do not make a session's rate: each reported second reads the
last 10 s of pulse, so ten of them span at least a window and a half; below that the
"session" figure is one stretch of a few beats."""


@dataclass(frozen=True, slots=True)
class SessionHeart:
    mean_bpm: float
    reported_seconds: int
    withheld_share: float


def session_heart_rates(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str], SessionHeart]:
    """(session id, person) → the session's mean heart rate, for sessions with at least
    `MIN_REPORTED_SECONDS` reported seconds; empty when no session has one."""
    rows = con.execute(
        'SELECT session_id, "user", avg(bpm), count(bpm), 1.0 - count(bpm) / count(*)'
        ' FROM v_heart GROUP BY session_id, "user" HAVING count(bpm) >= ?',
        [MIN_REPORTED_SECONDS],
    ).fetchall()
    return {
        (int(session_id), str(user)): SessionHeart(float(mean), int(seconds), float(withheld))
        for session_id, user, mean, seconds, withheld in rows
    }
