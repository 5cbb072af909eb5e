"""The monitor's memory of one face's heart rate: the recent seconds and the newest estimate.

The pulse stage sends an estimate (`signals.heart.HeartEstimate`) on the frame that
completes each second of frame time; a withheld second has no rate. The sparkline shows
one value per second with withheld seconds, and seconds without any estimate (the face
was lost, the mesh skipped), as gaps: NaN, which the chart leaves blank. Plain Python like
`LiveSeries`, so what the widget shows is tested without a terminal.
"""

from __future__ import annotations

import math
from collections import deque

from burnout_tui.signals.heart import HeartEstimate, PulseFrame

HEART_HISTORY_S = 120
"""Seconds in the heart-rate chart: a rate settles or climbs over a minute or two, and
two minutes are longer than the HRV window (60 s), so the chart shows what it covered."""

STALE_S = 2.5
"""An estimate older than this in frame time (the face lost, the pulse stage off for it)
is no longer the current rate: the monitor shows "—" rather than a rate from before."""

GAP = math.nan
"""A second without a rate in the chart's data."""


class HeartSeries:
    """Per-second rates of one face and its newest estimate; see the module docstring."""

    def __init__(self, history_s: int = HEART_HISTORY_S) -> None:
        self._rates: deque[float] = deque(maxlen=history_s)
        self._latest: HeartEstimate | None = None
        self._now: float | None = None
        self.version = 0
        """Counts changes of what the widget shows, so it redraws only on a change."""

    def add(self, ts: float, pulse: PulseFrame | None) -> None:
        """Fold in one frame of the followed face: its time and pulse (None: no face)."""
        stale = self.current is None
        self._now = ts
        estimate = None if pulse is None else pulse.estimate
        if estimate is None:
            if stale != (self.current is None):
                self.version += 1
            return
        if self._latest is not None:
            if estimate.ts < self._latest.ts:
                self._rates.clear()  # the clock restarted (a new session or source)
            else:
                missing = round(estimate.ts - self._latest.ts) - 1
                self._rates.extend([GAP] * min(max(missing, 0), self._rates.maxlen or 0))
        self._rates.append(GAP if estimate.bpm is None else estimate.bpm)
        self._latest = estimate
        self.version += 1

    @property
    def current(self) -> HeartEstimate | None:
        """The newest estimate, or None before the first or once it is stale."""
        latest = self._latest
        if latest is None or self._now is None or self._now - latest.ts > STALE_S:
            return None
        return latest

    def history(self) -> list[float]:
        """Rates in bpm, one per second, oldest first, `GAP` where none was reported."""
        return list(self._rates)
