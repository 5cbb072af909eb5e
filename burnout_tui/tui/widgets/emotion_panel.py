"""The seven emotion traces, all of one height so equal bars always mean equal probabilities."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from burnout_tui import EMOTIONS
from burnout_tui.tui.formatting import format_probability
from burnout_tui.tui.widgets.meter_row import MeterRow

MAX_ROW_HEIGHT = 3
"""Past three lines (24 levels) a taller trace shows no more detail, only more blank."""


class EmotionPanel(Vertical):
    """Seven rows of one height, set by `fit_rows`: `1fr` rows would differ by a line at
    some terminal sizes, and a two-line row draws the same value higher than a one-line one."""

    def compose(self) -> ComposeResult:
        for name in EMOTIONS:
            yield MeterRow(
                name,
                minimum=0.0,
                maximum=1.0,
                value_format=format_probability,
                id=f"emotion-{name}",
            )

    def fit_rows(self, lines: int) -> None:
        """Make every row as tall as `lines` allows for all of them, within 1..MAX_ROW_HEIGHT."""
        height = min(max(lines // len(EMOTIONS), 1), MAX_ROW_HEIGHT)
        for row in self.query(MeterRow):
            if row.styles.height is None or row.styles.height.value != height:
                row.styles.height = height

    def show(self, histories: dict[str, list[float]], current: dict[str, float] | None) -> None:
        for name in EMOTIONS:
            self.query_one(f"#emotion-{name}", MeterRow).show(
                histories[name], None if current is None else current[name]
            )
