"""One labelled row of the monitor: name, a fixed-scale sparkline, and the current value."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Label

from burnout_tui.tui.formatting import NO_VALUE
from burnout_tui.tui.widgets.fixed_sparkline import FixedSparkline


class MeterRow(Widget):
    """A trace and its latest value side by side, so the number explains the chart's right edge."""

    def __init__(
        self,
        label: str,
        *,
        minimum: float,
        maximum: float,
        value_format: Callable[[float | None], str],
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._label = label
        self._minimum = minimum
        self._maximum = maximum
        self._format = value_format

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="meter-label", markup=False)
        yield FixedSparkline(
            [], minimum=self._minimum, maximum=self._maximum, classes="meter-chart"
        )
        yield Label(NO_VALUE, classes="meter-value")

    def relabel(self, label: str) -> None:
        """Rows that show whichever emotions lead change their name, not their scale."""
        if label != self._label:
            self._label = label
            self.query_one(".meter-label", Label).update(label, layout=False)

    def show(self, history: list[float], current: float | None) -> None:
        """Draw a new history; the list must be a fresh one so the reactive sees a change."""
        self.query_one(FixedSparkline).data = history
        self.query_one(".meter-value", Label).update(self._format(current), layout=False)
