"""Storing a scored survey sitting: the one path shared by the TUI form and `burnout-tui survey`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from burnout_tui.store.repository import add_survey
from burnout_tui.surveys import Instrument, SurveyResult

if TYPE_CHECKING:
    import duckdb


def record_survey(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    instrument: Instrument,
    result: SurveyResult,
    session_id: int | None = None,
    taken_at: datetime | None = None,
) -> int:
    """Insert one sitting in a single statement, so a failure can never leave half of it.

    Answers are keyed by item id rather than stored as a bare list, so a stored sitting
    stays readable even if a user later edits their copy of the instrument file.
    """
    answers = {
        item.id: answer for item, answer in zip(instrument.items, result.answers, strict=True)
    }
    return add_survey(
        con,
        user_id,
        result.instrument_id,
        taken_at or datetime.now(timezone.utc),
        answers,
        subscales=result.subscales,
        total=result.total,
        burnout_01=result.burnout_01,
        session_id=session_id,
    )
