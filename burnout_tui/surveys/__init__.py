"""Validated questionnaires, defined as data files, and their scoring.

The camera proxy is only worth anything when it can be checked against what people report;
these instruments are that check. No UI or storage here, so the TUI, the CLI and the tests
all score a sitting the same way.
"""

from __future__ import annotations

from burnout_tui.surveys.instrument import (
    Band,
    Burnout01Term,
    Instrument,
    InstrumentError,
    Item,
    Scale,
    Subscale,
    Total,
    available_instruments,
    find_instrument,
    load_instrument,
    user_instruments_dir,
)
from burnout_tui.surveys.scoring import (
    SurveyAnswerError,
    SurveyResult,
    parse_answers,
    score,
    validate_answers,
)

__all__ = [
    "Band",
    "Burnout01Term",
    "Instrument",
    "InstrumentError",
    "Item",
    "Scale",
    "Subscale",
    "SurveyAnswerError",
    "SurveyResult",
    "Total",
    "available_instruments",
    "find_instrument",
    "load_instrument",
    "parse_answers",
    "score",
    "user_instruments_dir",
    "validate_answers",
]
