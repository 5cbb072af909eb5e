"""A person's blink baseline, and each blink's features as z-scores against it.

The dataset normalises every feature of every blink by the same person's alert-state mean
and spread (population standard deviation), so its model reads changes of a person against
themselves, never one person against another (whose blinks differ more than one person's
alert and drowsy blinks do). Here the baseline comes from the person's calibration
(`burnout-tui calibrate` stores the means and spreads of its blinks) when it holds blinks,
else from the first `baseline_s` seconds of the track (`SessionBaseline`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from burnout_tui.signals.blinks import Features


@dataclass(frozen=True, slots=True)
class BlinkBaseline:
    """Means and spreads of the four raw blink features (`BLINK_FEATURES` order)."""

    count: int
    means: Features
    stds: Features

    def __post_init__(self) -> None:
        if not all(math.isfinite(value) for value in self.means):
            raise ValueError("blink baseline means must be finite")
        if not all(math.isfinite(value) and value > 0.0 for value in self.stds):
            raise ValueError("blink baseline spreads must be finite and > 0")

    def normalise(self, features: Features) -> Features:
        """(feature − mean) / spread, per feature."""
        f, a, d, v = (
            (value - mean) / std
            for value, mean, std in zip(features, self.means, self.stds, strict=True)
        )
        return (f, a, d, v)


def baseline_from_features(rows: Sequence[Features], min_blinks: int) -> BlinkBaseline | None:
    """The baseline of a stretch of blinks; None with fewer than `min_blinks`, or when a
    feature did not vary at all (a spread of 0 cannot normalise anything)."""
    if len(rows) < min_blinks:
        return None
    array = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    means, stds = array.mean(axis=0), array.std(axis=0)
    if not (np.isfinite(means).all() and np.isfinite(stds).all() and (stds > 0.0).all()):
        return None
    m = tuple(float(x) for x in means)
    s = tuple(float(x) for x in stds)
    return BlinkBaseline(len(rows), (m[0], m[1], m[2], m[3]), (s[0], s[1], s[2], s[3]))


class SessionBaseline:
    """Learns a track's blink baseline from its first `baseline_s` seconds of blinks.

    A blink belongs to the baseline stretch when it ends within `baseline_s` of the
    track's first blink; once a blink ends later and the stretch held at least
    `min_blinks`, the baseline is fixed. With fewer, the stretch goes on until it holds
    them, so a person who was away for the first minutes still gets a baseline.
    """

    def __init__(self, baseline_s: float, min_blinks: int) -> None:
        self.baseline_s = baseline_s
        self.min_blinks = min_blinks
        self._start: float | None = None
        self._rows: list[Features] = []
        self.baseline: BlinkBaseline | None = None

    def push(self, end_ts: float, features: Features) -> BlinkBaseline | None:
        """Fold in one blink; the baseline once it is known (this blink is not in it)."""
        if self.baseline is not None:
            return self.baseline
        if self._start is None:
            self._start = end_ts
        if end_ts - self._start > self.baseline_s:
            self.baseline = baseline_from_features(self._rows, self.min_blinks)
            if self.baseline is not None:
                self._rows = []
                return self.baseline
        self._rows.append(features)
        return None
