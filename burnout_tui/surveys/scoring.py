"""Checking and scoring one sitting of an instrument: pure functions, no I/O.

`score` validates before it computes anything, so a caller that stores only what `score`
returns can never store a half-answered survey.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from burnout_tui.errors import UserError
from burnout_tui.surveys.instrument import (
    TOTAL,
    Instrument,
    Item,
    Subscale,
    aggregate,
    rescale,
)

ANSWERS_SEPARATOR = ","

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
"""ASCII digits only: int() would also accept other scripts' digits and `1_0`."""

_BAND_EDGE_TOLERANCE = 1e-9
"""A mean of rescaled scores can land a hair below a band edge it equals exactly (e.g. 50);
far smaller than any score step, so it never moves a genuinely lower total up a band."""


class SurveyAnswerError(UserError):
    """An answer is missing, not a whole number, off its item's scale, or one too many."""


@dataclass(frozen=True, slots=True)
class SurveyResult:
    """What is stored for a sitting: the raw answers and every score derived from them."""

    instrument_id: str
    answers: tuple[int, ...]
    subscales: dict[str, float]
    total: float | None
    category: str | None
    burnout_01: float


def parse_answers(text: str) -> list[int]:
    """Reads `--answers 3,2,4`; the count is checked against the instrument by `score`."""
    if not text.strip():
        raise SurveyAnswerError("no answers given: expected whole numbers such as 3,2,4")
    answers: list[int] = []
    for position, raw in enumerate(text.split(ANSWERS_SEPARATOR), start=1):
        token = raw.strip()
        if not _WHOLE_NUMBER.fullmatch(token):
            problem = "is empty" if not token else f"{token!r} is not a whole number"
            raise SurveyAnswerError(
                f"answer {position} {problem}: give whole numbers separated by commas, e.g. 3,2,4"
            )
        answers.append(int(token))
    return answers


def validate_answers(instrument: Instrument, answers: Sequence[int | None]) -> list[int]:
    """Refuses the first missing or out-of-range answer, naming the item and what it accepts."""
    items = instrument.items
    if len(answers) != len(items):
        count = f"{instrument.id} has {len(items)} items but {len(answers)} answers were given"
        if len(answers) > len(items):
            raise SurveyAnswerError(count)
        first_missing = items[len(answers)]
        raise SurveyAnswerError(
            f"{count}; item {len(answers) + 1} ({first_missing.id}) has no answer: "
            f"enter a whole number from {first_missing.scale.describe()}"
        )
    valid: list[int] = []
    for number, (item, answer) in enumerate(zip(items, answers, strict=True), start=1):
        where = f"{instrument.id} item {number} ({item.id})"
        allowed = f"enter a whole number from {item.scale.describe()}"
        if answer is None:
            raise SurveyAnswerError(f"{where} has no answer: {allowed}")
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise SurveyAnswerError(f"{where}: {answer!r} is not a whole number; {allowed}")
        if not item.scale.min <= answer <= item.scale.max:
            raise SurveyAnswerError(f"{where}: {answer} is out of range; {allowed}")
        valid.append(answer)
    return valid


def item_score(item: Item, answer: int) -> int:
    return item.scale.min + item.scale.max - answer if item.reverse else answer


def score(instrument: Instrument, answers: Sequence[int | None]) -> SurveyResult:
    valid = validate_answers(instrument, answers)
    item_scores = {
        item.id: item_score(item, answer)
        for item, answer in zip(instrument.items, valid, strict=True)
    }
    subscales = {
        subscale.id: _subscale_score(instrument, subscale, item_scores)
        for subscale in instrument.subscales
    }
    total = None
    if instrument.total is not None:
        parts = item_scores.values() if instrument.total.of == "items" else subscales.values()
        total = aggregate(instrument.total.method, list(parts))
    return SurveyResult(
        instrument_id=instrument.id,
        answers=tuple(valid),
        subscales=subscales,
        total=total,
        category=_category(instrument, total),
        burnout_01=_burnout_01(instrument, subscales, total),
    )


def _subscale_score(
    instrument: Instrument, subscale: Subscale, item_scores: dict[str, int]
) -> float:
    value = aggregate(subscale.method, [item_scores[item_id] for item_id in subscale.items])
    if subscale.rescale is None:
        return value
    return rescale(value, instrument.raw_range(subscale), subscale.rescale)


def _category(instrument: Instrument, total: float | None) -> str | None:
    if total is None or not instrument.categories:
        return None
    label = instrument.categories[0].label
    for band in instrument.categories:
        if total + _BAND_EDGE_TOLERANCE >= band.min:
            label = band.label
    return label


def _burnout_01(instrument: Instrument, subscales: dict[str, float], total: float | None) -> float:
    """Unweighted mean of the terms, each mapped linearly from its range onto 0-1."""
    parts: list[float] = []
    for term in instrument.burnout_01_terms:
        value = total if term.score == TOTAL else subscales[term.score]
        assert value is not None, "the loader only accepts a total term when there is a total"
        fraction = rescale(value, instrument.score_range(term.score), (0.0, 1.0))
        parts.append(1.0 - fraction if term.reverse else fraction)
    return math.fsum(parts) / len(parts)


__all__ = [
    "SurveyAnswerError",
    "SurveyResult",
    "item_score",
    "parse_answers",
    "score",
    "validate_answers",
]
