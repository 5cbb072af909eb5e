"""Beats in a band-passed pulse, and the heart-rate variability they give.

A beat is a local maximum of the pulse at least `MIN_SPACING` of the expected beat period
after the one before, placed between samples by a parabola through the peak and its
neighbours (a 30 Hz grid alone would quantise intervals to 33 ms, of the order of RMSSD
itself). From the intervals between successive beats of one gap-free piece:

- RMSSD, the root mean square of successive interval differences (short-term,
  vagally mediated variability);
- SDNN, the standard deviation of the intervals (overall variability).

Both in milliseconds, over windows of at least 60 s (the shortest "ultra-short" window
the HRV literature treats as comparable to 5-minute values for RMSSD). Camera pulses
blur beat timing, so these are experimental: usable for group trends, not for a
person's own HRV (docs/heart-rate.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

MIN_SPACING = 0.6
"""Fewest expected beat periods between two beats: beat-to-beat intervals vary by well
under 40 % at rest, while the dicrotic notch's second bump comes at 30-40 % of one."""
MIN_BEATS = 10
"""Fewest intervals a variability figure is computed from: fewer, and one missed or
doubled beat dominates it."""
MAX_INTERVAL_CHANGE = 0.3
"""An interval differing from the median by more than 30 % is a missed or extra beat,
not variability, and is left out (the usual artefact rule for PPG intervals)."""


@dataclass(frozen=True, slots=True)
class Variability:
    rmssd_ms: float
    sdnn_ms: float
    intervals: int


def beat_times(pulse: Array, rate: float, bpm: float, start_ts: float = 0.0) -> Array:
    """Times (s, from `start_ts` at sample 0) of the beats of an evenly spaced pulse."""
    if pulse.size < 3 or not math.isfinite(bpm) or bpm <= 0.0:
        return np.zeros(0)
    spacing = MIN_SPACING * 60.0 / bpm * rate
    inner = pulse[1:-1]
    candidates = np.flatnonzero((inner > pulse[:-2]) & (inner >= pulse[2:])) + 1
    chosen: list[int] = []
    # Strongest first, so a ripple beside a beat never takes the beat's place.
    for index in candidates[np.argsort(-pulse[candidates], kind="stable")].tolist():
        if all(abs(index - other) >= spacing for other in chosen):
            chosen.append(index)
    indices = np.asarray(sorted(chosen))
    if indices.size == 0:
        return np.zeros(0)
    left, centre, right = pulse[indices - 1], pulse[indices], pulse[indices + 1]
    curvature = left - 2.0 * centre + right
    safe = np.where(curvature < 0.0, curvature, -1.0)
    offset = np.where(curvature < 0.0, 0.5 * (left - right) / safe, 0.0)
    return start_ts + (indices + offset) / rate


def variability(beat_pieces: Sequence[Array]) -> Variability | None:
    """RMSSD and SDNN from beats of gap-free pieces (intervals never span a gap), or None
    with fewer than `MIN_BEATS` plausible intervals."""
    intervals = [np.diff(beats) for beats in beat_pieces if beats.size > 1]
    if not intervals:
        return None
    median = float(np.median(np.concatenate(intervals)))
    kept_diffs: list[Array] = []
    kept: list[Array] = []
    for piece in intervals:
        good = np.abs(piece - median) <= MAX_INTERVAL_CHANGE * median
        kept.append(piece[good])
        # Successive differences only between neighbours that are both plausible.
        pairs = good[1:] & good[:-1]
        kept_diffs.append(np.diff(piece)[pairs])
    all_kept = np.concatenate(kept)
    diffs = np.concatenate(kept_diffs)
    if all_kept.size < MIN_BEATS or diffs.size < 2:
        return None
    return Variability(
        rmssd_ms=1000.0 * float(np.sqrt(np.mean(diffs**2))),
        sdnn_ms=1000.0 * float(np.std(all_kept, ddof=1)),
        intervals=int(all_kept.size),
    )
