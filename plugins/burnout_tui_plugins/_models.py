"""Which emotion model scored the sessions of one analysis, and the warning when they differ.

Scores from two emotion models are not on one scale (different accuracy and calibration),
so a correlation or a trend across both would mix models silently; the reports say so in
one note instead of refusing, because a researcher may still want the figures.
`v_sessions.emotion_model` is NULL for sessions from an export older than the column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

UNRECORDED = "unrecorded"
"""How a session without a recorded model (NULL) is named in the note."""


def session_models(
    con: duckdb.DuckDBPyConnection, session_ids: Iterable[int]
) -> dict[int, str | None]:
    """session_id → its emotion model, for the given sessions."""
    wanted = sorted(set(session_ids))
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT session_id, emotion_model FROM v_sessions WHERE list_contains(?, session_id)",
        [wanted],
    ).fetchall()
    return {int(session_id): model for session_id, model in rows}


def model_counts(models: dict[int, str | None]) -> dict[str, int]:
    """Sessions per model name, NULL as UNRECORDED, most frequent first."""
    counts = Counter(UNRECORDED if model is None else model for model in models.values())
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def mixed_models_note(counts: dict[str, int]) -> str | None:
    """One warning line when the sessions ran more than one emotion model, else None."""
    if len(counts) < 2:
        return None
    listed = ", ".join(f"{name}: {count}" for name, count in counts.items())
    return (
        f"Warning: these sessions were scored by different emotion models ({listed}"
        " sessions); their scores are not on one scale, so compare like with like"
        " (v_sessions.emotion_model)."
    )
