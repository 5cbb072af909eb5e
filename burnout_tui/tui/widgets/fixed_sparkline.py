"""A Sparkline drawn on a fixed scale instead of its data's own min/max.

Textual's Sparkline stretches whatever it is given between the lowest and highest value,
so a probability hovering around 0.02 would fill the chart as much as one at 0.98. For
emotions (0-1) and the burnout proxy (0-100 %) the height of a bar must mean the same
thing on every row and at every moment, so the bounds are pinned here. A NaN value is a
gap (a blank column), for series with seconds that have no value (a withheld heart rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

from rich.color import Color as RichColor
from rich.console import Console, ConsoleOptions
from rich.console import RenderResult as RichRenderResult
from rich.segment import Segment
from rich.style import Style
from textual.app import RenderResult
from textual.renderables._blend_colors import blend_colors
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widgets import Sparkline

SummaryFunction = Callable[[Sequence[float]], float]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def chart_columns(
    data: Sequence[float], width: int, summary: SummaryFunction
) -> list[float | None]:
    """One value per column, or None for a column with nothing to draw.

    Fewer points than columns are drawn one per column and right-aligned, so a live chart
    fills from the right like a scrolling trace instead of stretching its first seconds
    across the screen; more points are summarised per column.
    """
    count = len(data)
    if count <= width:
        return [None] * (width - count) + list(data)
    step = Fraction(count, width)
    values = list(data)
    return [summary(values[int(step * col) : int(step * (col + 1))]) for col in range(width)]


class PinnedSparklineRenderable(SparklineRenderable[float]):
    """Textual's sparkline renderable with the scale given instead of taken from the data."""

    def __init__(
        self,
        data: Sequence[float],
        *,
        minimum: float,
        maximum: float,
        width: int | None,
        height: int | None,
        min_color: RichColor,
        max_color: RichColor,
        summary_function: SummaryFunction,
    ) -> None:
        super().__init__(
            data,
            width=width,
            height=height,
            min_color=min_color,
            max_color=max_color,
            summary_function=summary_function,
        )
        self.minimum = minimum
        self.maximum = maximum

    def ratio(self, value: float) -> float:
        """Where `value` sits between the pinned bounds, clipped to [0, 1]."""
        ratio = (value - self.minimum) / (self.maximum - self.minimum)
        return min(max(ratio, 0.0), 1.0)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RichRenderResult:
        width = self.width or options.max_width
        height = self.height or 1
        columns = chart_columns(self.data, width, self.summary_function)
        low_color, high_color = self.min_color.color, self.max_color.color
        assert low_color is not None and high_color is not None, "styles built from a color"
        levels = len(self.BARS)
        top_index = levels * height - 1
        for row in reversed(range(height)):
            row_low, row_high = row * levels, (row + 1) * levels
            yield from self._row(columns, row_low, row_high, top_index, low_color, high_color)
            if row > 0:
                yield Segment.line()

    def _row(
        self,
        columns: Iterable[float | None],
        row_low: int,
        row_high: int,
        top_index: int,
        low_color: RichColor,
        high_color: RichColor,
    ) -> Iterable[Segment]:
        for value in columns:
            if value is None or math.isnan(value):
                yield Segment(" ")
                continue
            ratio = self.ratio(value)
            bar_index = int(ratio * top_index)
            if bar_index < row_low:
                yield Segment(" ")
                continue
            bar = "█" if bar_index >= row_high else self.BARS[bar_index % len(self.BARS)]
            yield Segment(bar, Style.from_color(blend_colors(low_color, high_color, ratio)))


class FixedSparkline(Sparkline):
    """A Sparkline whose bars are scaled between `minimum` and `maximum`, not the data's range.

    Values outside the bounds are clipped to them. The default summary per column is the
    mean, so a wide window of frames reads as an average level rather than as its peaks.
    """

    def __init__(
        self,
        data: Sequence[float] | None = None,
        *,
        minimum: float = 0.0,
        maximum: float = 1.0,
        summary_function: SummaryFunction | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        if not maximum > minimum:
            raise ValueError(f"maximum ({maximum}) must be greater than minimum ({minimum})")
        super().__init__(
            data,
            summary_function=summary_function or _mean,
            name=name,
            id=id,
            classes=classes,
        )
        self.minimum = minimum
        self.maximum = maximum

    def render(self) -> RenderResult:
        _, base = self.background_colors
        low = base + (
            self.get_component_styles("sparkline--min-color").color
            if self.min_color is None
            else self.min_color
        )
        high = base + (
            self.get_component_styles("sparkline--max-color").color
            if self.max_color is None
            else self.max_color
        )
        return PinnedSparklineRenderable(
            self.data or [],
            minimum=self.minimum,
            maximum=self.maximum,
            width=self.size.width,
            height=self.size.height,
            min_color=low.rich_color,
            max_color=high.rich_color,
            summary_function=self.summary_function,
        )
