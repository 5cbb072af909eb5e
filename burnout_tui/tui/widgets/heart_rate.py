"""The heart rate from the camera pulse: a per-second trace, the rate, its quality and HRV.

Two lines: the trace with the current rate beside it, like an emotion row, and under it
the quality the rate was judged by and, once a whole HRV window was reported, RMSSD and
SDNN marked experimental (docs/heart-rate.md: a camera's beat timing is not reliable for
one person). A withheld second shows "—" and a gap in the trace, never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, Static

from burnout_tui.signals.heart import HeartEstimate
from burnout_tui.tui.formatting import NO_VALUE
from burnout_tui.tui.state.heart_series import HeartSeries
from burnout_tui.tui.widgets.fixed_sparkline import FixedSparkline

CHART_MIN_BPM = 40.0
CHART_MAX_BPM = 160.0
"""The trace's fixed scale: resting to hard exertion at a desk, 15 bpm per bar level on a
one-line chart; rates outside it are drawn at its edge."""

GOOD = "good"
WEAK = "weak"
NO_SIGNAL = "no signal"
"""Quality words: a reported rate; a spectrum whose quality (or coverage) was below the
thresholds, so the rate is withheld; no pulse samples at all."""


def finite_mean(values: Sequence[float]) -> float:
    """A chart column's value: the mean of its reported seconds, a gap when it has none."""
    reported = [value for value in values if not math.isnan(value)]
    return sum(reported) / len(reported) if reported else math.nan


def format_bpm(estimate: HeartEstimate | None) -> str:
    if estimate is None or estimate.bpm is None:
        return NO_VALUE
    return f"{estimate.bpm:.0f} bpm"


def quality_word(estimate: HeartEstimate | None) -> str:
    if estimate is None or estimate.snr_db is None:
        return NO_SIGNAL
    return GOOD if estimate.bpm is not None else WEAK


def _snr(snr_db: float) -> str:
    return f"SNR {snr_db:+.1f} dB" if math.isfinite(snr_db) else f"SNR {NO_VALUE}"


def heart_detail(estimate: HeartEstimate | None) -> str:
    """The second line: the quality, why a rate is withheld, and HRV when there is one.
    Short enough for an 80-column terminal with both HRV figures."""
    if estimate is None or estimate.snr_db is None:
        return f"quality: {NO_SIGNAL} (needs a still, lit face and its mesh)"
    text = f"quality {quality_word(estimate)}, {_snr(estimate.snr_db)}"
    if estimate.bpm is None:
        return f"{text}, {estimate.coverage:.0%} covered: rate withheld"
    rmssd, sdnn = estimate.rmssd_ms, estimate.sdnn_ms
    if rmssd is not None and sdnn is not None:
        text += f" · HRV experimental: RMSSD {rmssd:.0f} SDNN {sdnn:.0f} ms"
    return text


class HeartRatePanel(Widget):
    """The heart-rate lines of the monitor; `show` redraws only when the series changed."""

    LINES: ClassVar[int] = 2

    DEFAULT_CSS = """
    HeartRatePanel {
        height: 2;
        padding: 0 2;
    }
    HeartRatePanel .heart-row {
        height: 1;
    }
    HeartRatePanel .heart-detail {
        height: 1;
        padding-left: 9;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._drawn: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="heart-row"):
            yield Label("heart", classes="meter-label", markup=False)
            yield FixedSparkline(
                [],
                minimum=CHART_MIN_BPM,
                maximum=CHART_MAX_BPM,
                summary_function=finite_mean,
                classes="meter-chart",
            )
            yield Label(NO_VALUE, classes="meter-value heart-bpm", markup=False)
        yield Static(heart_detail(None), classes="heart-detail", markup=False)

    def show(self, series: HeartSeries) -> None:
        """Draw `series` unless this very state is already on screen."""
        drawn = (id(series), series.version)
        if drawn == self._drawn:
            return
        self._drawn = drawn
        current = series.current
        self.query_one(FixedSparkline).data = series.history()
        self.query_one(".heart-bpm", Label).update(format_bpm(current), layout=False)
        self.query_one(".heart-detail", Static).update(heart_detail(current), layout=False)
